"""One WebSocket connection: a thin loop that moves frames between the socket and a LiveSession."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from ..auth.keys import key_is_valid
from ..auth.limits import EXHAUSTED
from ..auth.owner import Owner, fingerprint
from ..auth.tokens import PREFIX as TOKEN_PREFIX
from ..auth.tokens import apply_constraints, locked_context_fields
from ..protocol.client_messages import ClientMessage, ContextUpdate, RealtimeInput, Setup
from ..protocol.codec import decode_client_message, encode_server_message
from ..protocol.errors import (
    INTERNAL_ERROR_REASON,
    INVALID_API_KEY,
    UNAVAILABLE_REASON,
    CloseCode,
    ProtocolError,
    model_not_found,
    unknown_field,
)
from ..protocol.features import ignored_features, refuse_unsupported
from ..protocol.routing import (
    Credentials,
    Route,
    bare_model_name,
    credentials_from,
    route_for_path,
)
from ..protocol.server_messages import GoAway, ServerMessage, duration
from ..session import Close, LiveSession
from ..session.outbox import OVERFLOW_REASON
from .runtime import Runtime

log = logging.getLogger("openlive.connection")


RESUME_WAIT_S = 5.0  # how long a resume waits for the same session's close to be stored


class _Disconnected(Exception):
    pass


class Connection:
    def __init__(self, websocket: WebSocket, runtime: Runtime) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.settings = runtime.settings
        self.session: LiveSession | None = None
        self._limit_key = "anonymous"
        self._credential = ""  # what opened the session: it alone reads the turn timings
        self._owner = Owner()
        self._locked: frozenset[str] = frozenset()  # contextUpdate fields a token locks
        self._counted = False

    async def run(self) -> None:
        # Like Google: accept the upgrade, then report every problem as a close code and reason
        # (an HTTP refusal is not surfaced as an APIError by google-genai).
        await self.websocket.accept()
        try:
            # Read the setup before refusing anything: clients send it right after the upgrade,
            # and a close that races their send surfaces as a confusing client-side error. But
            # check the route and the credentials before decoding it: decoding is the expensive
            # part, and nobody unauthenticated gets to spend the server's time on it.
            frame = await self._receive_setup_frame()
            route = route_for_path(self.websocket.url.path)
            if route is None:
                raise ProtocolError(
                    f"Method not found: {self.websocket.url.path[:60]}", CloseCode.POLICY_VIOLATION
                )
            credentials = credentials_from(self.websocket.query_params, self.websocket.headers)
            token_record = await self._check_credentials(credentials)
            setup = self._decode_setup(frame)
            setup = await self._authorize(setup, credentials, token_record)
            await self._wait_until_ready()
            self._check_model(setup, route)
            refuse_unsupported(setup)
            if self.runtime.draining:
                raise ProtocolError(UNAVAILABLE_REASON, CloseCode.INTERNAL_ERROR)
            restored = await self._restore(setup)
            if restored is None and self.runtime.llm_overloaded:
                # New sessions wait for the LLM to catch up; a resumed one is a user already
                # here, and losing their session would be worse than a slower turn.
                log.info("refusing a new session: LLM turns wait past llm_queue_target_ms")
                raise ProtocolError(EXHAUSTED, CloseCode.INTERNAL_ERROR)
            self.runtime.limits.acquire(self._limit_key)
            self._counted = True
            self.session = LiveSession(
                setup,
                route,
                self.runtime.services,
                restored=restored,
                owner=self._owner.to_json(),
                max_outbox_messages=self.settings.max_outbox_messages,
                max_held_messages=self.settings.max_held_messages,
            )
            self.runtime.turn_timings.open(self.session.session_id, self._credential)
            metrics = self.runtime.metrics
            metrics.sessions.labels(kind="resumed" if restored else "new").inc()
            metrics.sessions_open.inc()
            self.session.start()
            log.info(
                "session %s %s (%s, model %s)",
                self.session.session_id,
                "resumed" if restored else "opened",
                route.surface.value,
                setup.model,
            )
            if ignored := ignored_features(setup):
                log.info(
                    "session %s: not honoured, ignored: %s",
                    self.session.session_id,
                    ", ".join(ignored),
                )
            self.runtime.connections.add(self)
            lifetime = asyncio.create_task(self._lifetime())
            try:
                await self._pump(self.session)
            finally:
                lifetime.cancel()
        except ProtocolError as error:
            log.info("closing %s: %s %s", self._who(), error.code, error.reason)
            await self._close(error.code, error.reason)
        except _Disconnected:
            pass
        except Exception:
            log.exception("internal error in %s", self._who())
            await self._close(CloseCode.INTERNAL_ERROR, INTERNAL_ERROR_REASON)
        finally:
            self.runtime.connections.discard(self)
            if self._counted:
                self.runtime.limits.release(self._limit_key)
            if self.session is not None:
                self.runtime.metrics.sessions_open.dec()
                await self._close_session(self.session)

    async def _close_session(self, session: LiveSession) -> None:
        """Close the session, its final state stored; a resume of it meanwhile waits for that
        (``_restore``), so a client that reconnects at once never gets an older state."""
        closed = asyncio.Event()
        self.runtime.closing[session.session_id] = closed
        try:
            await session.aclose()
        finally:
            closed.set()
            if self.runtime.closing.get(session.session_id) is closed:
                del self.runtime.closing[session.session_id]
            self.runtime.turn_timings.close(session.session_id)
        log.info("session %s closed", session.session_id)

    async def _receive_frame(self) -> str | bytes:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise _Disconnected
        text, data = message.get("text"), message.get("bytes")
        return text if text is not None else (data or b"")

    def _decode(self, frame: str | bytes) -> ClientMessage:
        settings = self.settings
        decoded = decode_client_message(
            frame, max_bytes=settings.max_message_bytes, max_depth=settings.max_json_depth
        )
        for index, (name, path) in enumerate(decoded.unknown_fields):
            if settings.strict:
                raise unknown_field(name[:60], path[:60])
            if index >= settings.max_unknown_fields_logged:
                log.warning("... and %d more unknown fields", len(decoded.unknown_fields) - index)
                break
            # Cut: the names are the client's, of any length.
            log.warning("ignoring unknown field %r at %r", name[:60], path[:120] or "(top level)")
        message = decoded.message
        if isinstance(message, ContextUpdate):
            self._check_context_update(message)
        return message

    def _check_context_update(self, message: ContextUpdate) -> None:
        """A token's locked system instruction and tools hold for the whole session."""
        changes = {
            "systemInstruction": message.system_instruction is not None,
            "tools": message.tools is not None,
        }
        for name, changed in changes.items():
            if changed and name in self._locked:
                raise ProtocolError(
                    f"Invalid contextUpdate: {name} is locked by the ephemeral token.",
                    CloseCode.POLICY_VIOLATION,
                )

    async def _receive_setup_frame(self) -> str | bytes:
        try:
            async with asyncio.timeout(self.settings.setup_timeout_s):
                return await self._receive_frame()
        except TimeoutError:
            raise ProtocolError("Invalid request: no setup message received.") from None

    def _decode_setup(self, frame: str | bytes) -> Setup:
        message = self._decode(frame)
        if not isinstance(message, Setup):
            raise ProtocolError("Invalid request: the first message must be setup.")
        return message

    async def _check_credentials(self, credentials: Credentials) -> dict | None:
        """The cheap part of authentication, before the setup is decoded: a configured key, or
        an ephemeral token that exists (its use is taken once the setup says whether this is a
        resume). Sets the credential that limits count against. Keys are never logged."""
        self._credential = credentials.api_key or credentials.token or ""
        token = credentials.token
        if token and token.startswith(TOKEN_PREFIX):
            record = await self.runtime.tokens.peek(token)
            self._limit_key = token
            self._owner = Owner(key=record.get("owner"), token=fingerprint(token))
            return record
        keys = self.runtime.api_keys
        if not keys:
            self._limit_key = credentials.api_key or credentials.token or "anonymous"
            return None
        # Limits count against the credential that was accepted, not a junk one beside it.
        accepted = next((value for value in credentials.any if key_is_valid(value, keys)), None)
        if accepted is None:
            raise INVALID_API_KEY
        self._limit_key = accepted
        self._owner = Owner(key=fingerprint(accepted))
        return None

    async def _authorize(
        self, setup: Setup, credentials: Credentials, token_record: dict | None
    ) -> Setup:
        """The setup to use: an ephemeral token's locked fields enforced, one use taken."""
        token = credentials.token
        if token_record is None or token is None:
            return setup
        resuming = bool(setup.session_resumption and setup.session_resumption.handle)
        record = await self.runtime.tokens.redeem(token, resuming=resuming)
        wire = setup.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude_defaults=True
        )
        self._locked = locked_context_fields(record)
        return Setup.model_validate(apply_constraints(wire, record))

    async def _wait_until_ready(self) -> None:
        if self.runtime.ready.is_set():
            return
        try:
            async with asyncio.timeout(self.settings.setup_timeout_s):
                await self.runtime.ready.wait()
        except TimeoutError:
            raise ProtocolError(UNAVAILABLE_REASON, CloseCode.INTERNAL_ERROR) from None

    def _check_model(self, setup: Setup, route: Route) -> None:
        allowed = self.settings.allowed_models
        if allowed and bare_model_name(setup.model) not in allowed:
            raise model_not_found(setup.model or "models/", route.api_version)

    async def _restore(self, setup: Setup) -> dict | None:
        config = setup.session_resumption
        if config is None or not config.handle:
            return None
        snapshot = await self.runtime.resumption.load(config.handle)
        closing = self.runtime.closing.get(snapshot.get("session_id", "")) if snapshot else None
        if closing is not None:  # its connection just ended: wait for its last state
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RESUME_WAIT_S):
                    await closing.wait()
            snapshot = await self.runtime.resumption.load(config.handle)
        if snapshot is None:
            raise ProtocolError(
                "Session resumption handle is unknown or has expired.", CloseCode.POLICY_VIOLATION
            )
        self._owner.check_resume(snapshot.get("owner"))
        if bare_model_name(snapshot.get("model", "")) != bare_model_name(setup.model):
            raise ProtocolError(
                "Invalid setup: a resumed session keeps its model "
                f"({bare_model_name(snapshot.get('model', ''))[:40]}).",
            )
        return snapshot

    async def _lifetime(self) -> None:
        """Server-initiated closes always come after goAway (docs/protocol.md §9)."""
        settings = self.settings
        if settings.debug_goaway_after_s > 0:
            await asyncio.sleep(settings.debug_goaway_after_s)
            await self.go_away(settings.goaway_notice_s, "Forced goAway (debug setting).")
        elif settings.max_connection_s > 0:
            notice = min(settings.goaway_notice_s, settings.max_connection_s)
            await asyncio.sleep(settings.max_connection_s - notice)
            await self.go_away(notice, "Maximum connection duration reached.")

    async def go_away(self, time_left_s: float, reason: str) -> None:
        """Tell the client to reconnect (with its resumption handle), then close."""
        session = self.session
        if session is None:
            return
        session.outbox.put(ServerMessage(go_away=GoAway(time_left=duration(time_left_s))))
        await asyncio.sleep(time_left_s)
        session.outbox.close(CloseCode.GOING_AWAY, reason)

    async def _pump(self, session: LiveSession) -> None:
        """Read client frames into the session while a writer drains its outbox."""
        tasks = (
            asyncio.create_task(self._write(session), name="writer"),
            asyncio.create_task(self._read(session), name="reader"),
        )
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            # Collect both outcomes, also when both tasks ended at once (a client that leaves
            # fails the send and the receive together) or when this connection is cancelled:
            # an exception nobody retrieves is logged by asyncio as an error.
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [
            outcome
            for outcome in outcomes
            if isinstance(outcome, BaseException)
            and not isinstance(outcome, asyncio.CancelledError)
        ]
        # A protocol error or a bug says more than the disconnect that came with it.
        failures.sort(key=lambda failure: isinstance(failure, _Disconnected))
        if failures:
            raise failures[0]

    async def _read(self, session: LiveSession) -> None:
        content_bytes, limit = 0, self.settings.max_content_bytes
        while True:
            frame = await self._receive_frame()
            message = self._decode(frame)
            if not (isinstance(message, RealtimeInput) and message.text is None):
                # Everything but media grows the history; media has its own limits.
                content_bytes += len(frame)
                if content_bytes > limit:
                    raise ProtocolError(
                        f"The session sent more than {limit} bytes of content.",
                        CloseCode.POLICY_VIOLATION,
                    )
            await session.handle(message)

    async def _write(self, session: LiveSession) -> None:
        while True:
            item = await session.outbox.get()
            if isinstance(item, Close):
                await self._close(item.code, item.reason)
                raise _Disconnected
            try:
                # A peer that stops reading fills the socket buffer and the send waits: after
                # send_timeout_s without progress it is let go, and its session with it.
                async with asyncio.timeout(self.settings.send_timeout_s):
                    await self.websocket.send_bytes(encode_server_message(item.message))
            except TimeoutError:
                log.info("%s: the client stopped reading; disconnecting", self._who())
                await self._close(CloseCode.POLICY_VIOLATION, OVERFLOW_REASON)
                raise _Disconnected from None
            except (WebSocketDisconnect, RuntimeError, OSError):
                raise _Disconnected from None
            item.sent = True

    async def _close(self, code: int, reason: str) -> None:
        self.runtime.metrics.closes.labels(code=str(code)).inc()
        # Bounded: a peer that does not read would hold the close (and this session) forever.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.settings.send_timeout_s):
                await self.websocket.close(code=code, reason=reason)

    def _who(self) -> str:
        if self.session is not None:
            return f"session {self.session.session_id}"
        client = self.websocket.client
        return f"connection from {client.host}:{client.port}" if client else "connection"
