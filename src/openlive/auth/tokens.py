"""Ephemeral tokens (``auth_tokens/...``), as ``client.auth_tokens.create`` in google-genai makes
them: short-lived credentials for browsers and apps, limited in uses and time, optionally locking
parts of the session setup (docs/protocol.md §9.2).

Tokens live in the session store, so every server process sharing it honours them, and their use
count is decremented atomically there. Resuming a session is not a use (as on Google's service),
so a token may resume only the sessions it opened itself (session ownership: auth/owner.py).
"""

from __future__ import annotations

import datetime
import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..protocol.errors import CloseCode, ProtocolError
from ..store import SessionStore

PREFIX = "auth_tokens/"
KEY_PREFIX = "token:"
DEFAULT_EXPIRE_S = 30 * 60
DEFAULT_NEW_SESSION_S = 60
MAX_LIFETIME_S = 20 * 3600


class TokenRequestError(ValueError):
    pass


def _parse_time(value: Any, default_s: float, now: float) -> float:
    if value in (None, ""):
        return now + default_s
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise TokenRequestError(f"Invalid timestamp {str(value)[:40]!r}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _format_time(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat().replace("+00:00", "Z")


def _lock_paths(setup: dict[str, Any] | None, field_mask: Any) -> list[str] | None:
    """The locked setup paths: None = the whole setup; else camelCase dotted paths."""
    if not setup:
        return []
    if field_mask in (None, ""):
        return None
    masks = field_mask if isinstance(field_mask, list) else str(field_mask).split(",")
    return [mask.strip() for mask in masks if mask.strip()]


@dataclass(frozen=True)
class EphemeralTokens:
    store: SessionStore

    async def create(self, body: dict[str, Any], *, owner: str | None = None) -> dict[str, Any]:
        """A new token; ``owner`` is the fingerprint of the API key that asked for it (the
        sessions the token opens belong to that key)."""
        now = time.time()
        expire = _parse_time(body.get("expireTime"), DEFAULT_EXPIRE_S, now)
        new_session = _parse_time(body.get("newSessionExpireTime"), DEFAULT_NEW_SESSION_S, now)
        if not now < expire <= now + MAX_LIFETIME_S or new_session > expire + 1:
            raise TokenRequestError(
                "expireTime must be in the next 20 hours, "
                "and newSessionExpireTime no later than it."
            )
        uses = _uses(body.get("uses", 1))
        setup = body.get("bidiGenerateContentSetup") or None
        name = PREFIX + secrets.token_urlsafe(32)
        record = {
            "expire": expire,
            "new_session_expire": new_session,
            "uses_left": uses if uses > 0 else None,
            "setup": setup,
            "locked": _lock_paths(setup, body.get("fieldMask")),
            "owner": owner,
        }
        await self.store.put(KEY_PREFIX + name, record, expire - now)
        return {
            "name": name,
            "expireTime": _format_time(expire),
            "newSessionExpireTime": _format_time(new_session),
            "uses": uses,
        }

    async def peek(self, name: str) -> dict[str, Any]:
        """The token's record if it exists and has not expired, without taking a use: the cheap
        check made before the setup message is decoded."""
        record = await self.store.get(KEY_PREFIX + name)
        if record is None:
            raise ProtocolError("Ephemeral token is not valid.")
        if time.time() >= record["expire"]:
            raise ProtocolError("Ephemeral token has expired.")
        return record

    async def redeem(self, name: str, *, resuming: bool) -> dict[str, Any]:
        """Check the token for a new connection and take one use (not for a resume)."""
        now = time.time()
        refused: list[str] = []

        def take(record: dict[str, Any]) -> dict[str, Any]:
            if now >= record["expire"]:
                refused.append("Ephemeral token has expired.")
                return record
            if resuming:
                return record
            if now >= record["new_session_expire"]:
                refused.append("Ephemeral token can no longer start new sessions.")
            elif record["uses_left"] is not None and record["uses_left"] <= 0:
                refused.append("Ephemeral token has no uses left.")
            elif record["uses_left"] is not None:
                record = {**record, "uses_left": record["uses_left"] - 1}
            return record

        record = await self.store.update(KEY_PREFIX + name, take)
        if record is None:
            raise ProtocolError("Ephemeral token is not valid.")
        if refused:
            raise ProtocolError(refused[0])
        return record


MAX_USES = 1_000_000_000


def _uses(value: Any) -> int:
    """``uses`` as the request gives it (a JSON number or a string), refused unless it is a
    whole number from 0 (unlimited) to MAX_USES: ``1e400`` or ``"x"`` is a 400, not a crash."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TokenRequestError("uses must be a whole number.")
    try:
        number = float(value)
    except ValueError:
        raise TokenRequestError("uses must be a whole number.") from None
    if not (0 <= number <= MAX_USES) or number != int(number):
        raise TokenRequestError(f"uses must be a whole number from 0 (unlimited) to {MAX_USES}.")
    return int(number)


def locked_context_fields(record: dict[str, Any]) -> frozenset[str]:
    """Which of ``contextUpdate``'s fields (``systemInstruction``, ``tools``) the token locks:
    a session opened with it may not replace them mid-session either."""
    token_setup: dict[str, Any] = record.get("setup") or {}
    locked = record.get("locked")
    fields = set()
    for name, snake in (("systemInstruction", "system_instruction"), ("tools", "tools")):
        if token_setup.get(name, token_setup.get(snake)) in (None, [], {}, ""):
            continue
        if locked is None or any(path.split(".")[0] in (name, snake) for path in locked):
            fields.add(name)
    return frozenset(fields)


def apply_constraints(setup: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The client's setup with the token's locked fields enforced.

    Locked fields the client leaves out take the token's values; a locked field the client sets
    to something else is refused (1007), naming the field."""
    token_setup: dict[str, Any] = record.get("setup") or {}
    locked = record.get("locked")
    paths = _leaf_paths(token_setup) if locked is None else locked
    merged = _deep_copy(setup)
    for path in paths:
        wanted = _get(token_setup, path)
        if wanted is None:
            continue
        given = _get(merged, path)
        if given not in (None, [], {}) and given != wanted and path != "model":
            raise ProtocolError(
                f"Invalid setup: {path} is locked by the ephemeral token.",
                CloseCode.INVALID_PAYLOAD,
            )
        _set(merged, path, wanted)
    return merged


def _leaf_paths(data: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            paths.extend(_leaf_paths(value, path))
        else:
            paths.append(path)
    return paths


def _get(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part, data.get(_snake(part)))
    return data


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _deep_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_deep_copy(value) for value in data]
    return data
