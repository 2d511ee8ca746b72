"""Who a session belongs to, so that only its owner can resume it.

A session belongs to the API key that opened it, or, when an ephemeral token opened it, to the
key that asked for that token *and* to the token itself: a token resumes only its own sessions
(a resume is not a use, so any wider rule would let a one-use token open sessions without end),
and a key resumes its sessions and those of its tokens. Fingerprints, never the secrets, go
into the stored snapshot. With no keys configured there is nothing to own: anyone may resume.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..protocol.errors import CloseCode, ProtocolError

NOT_OWNER_REASON = "Session resumption handle is unknown or has expired."
"""The same words as for an unknown handle: a stranger learns nothing about other sessions."""


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Owner:
    key: str | None = None  # fingerprint of the API key (or of the key that made the token)
    token: str | None = None  # fingerprint of the ephemeral token, when one opened the session

    def to_json(self) -> dict[str, str | None]:
        return {"key": self.key, "token": self.token}

    def check_resume(self, stored: object) -> None:
        """Refuse (1008) to resume a snapshot whose owner this is not."""
        if not isinstance(stored, dict) or not (stored.get("key") or stored.get("token")):
            return  # made while no keys were configured
        if stored.get("key") != self.key:
            raise ProtocolError(NOT_OWNER_REASON, CloseCode.POLICY_VIOLATION)
        if self.token is not None and stored.get("token") != self.token:
            raise ProtocolError(NOT_OWNER_REASON, CloseCode.POLICY_VIOLATION)
