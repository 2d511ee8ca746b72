"""``LiveModel``: what to connect to and how the session is set up.

    model = LiveModel(response_modalities=["TEXT"], system_instruction="Be brief.")
    async with model.connect() as session:
        await session.send("Hello!")
        async for message in session.receive_turn():
            ...

The setup message is the one @google/genai (JS) sends for the same options (docs/protocol.md §4.1,
§4.7): camelCase throughout, ``model`` as ``models/{name}``, transcription configs beside
``generationConfig``.
"""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from .types import FunctionDeclaration

if TYPE_CHECKING:
    from .session import Connecting
    from .sync import SyncLiveSession

DEFAULT_URL = "ws://127.0.0.1:8765"
DEFAULT_MODEL = "gemini-live-2.5-flash"
GOOGLE_URL = "wss://generativelanguage.googleapis.com"
_GEMINI_PATH = "/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}"

Modality = Literal["AUDIO", "TEXT"]
ToolLike = FunctionDeclaration | Mapping[str, Any]
"""A ``FunctionDeclaration``, or a ``Tool`` as JSON (``{"functionDeclarations": [...]}``,
``{"googleSearch": {}}``)."""


@dataclass
class LiveModel:
    model: str = DEFAULT_MODEL
    _: KW_ONLY
    response_modalities: Sequence[Modality] = ("AUDIO",)
    system_instruction: str | Mapping[str, Any] | None = None
    voice: str | None = None
    """A prebuilt voice name (``Puck``, ``Kore``, ...); shorthand for ``speech_config``."""
    speech_config: Mapping[str, Any] | None = None
    tools: Sequence[ToolLike] = ()
    tool_config: Mapping[str, Any] | None = None
    """As on the wire, e.g. ``{"functionCallingConfig": {"mode": "ANY"}}`` (Firebase's name)."""
    input_transcription: bool = False
    output_transcription: bool = False
    realtime_input_config: Mapping[str, Any] | None = None
    """As on the wire, e.g. ``{"automaticActivityDetection": {"disabled": True}}``."""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    generation_config: Mapping[str, Any] | None = None
    """Further ``generationConfig`` fields, camelCase, merged over the ones above."""
    session_resumption: bool | str = False
    """``True`` asks for resumption handles; a string resumes the session with that handle."""
    context_window_compression: Mapping[str, Any] | None = None

    # Where and how to connect.
    url: str = DEFAULT_URL
    """A base URL (``ws://host:port``, ``wss://...``) or a full ``.../ws/...`` endpoint URL."""
    api_key: str | None = None
    """An API key, or an ephemeral token (``auth_tokens/...``, sent as ``access_token``)."""
    api_key_in_header: bool = False
    """Send the key as ``x-goog-api-key`` (google-genai Python) instead of ``?key=`` (JS)."""
    api_version: str | None = None
    """``v1beta`` by default (``v1alpha`` for ephemeral tokens)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    ssl: ssl_module.SSLContext | None = None
    cafile: str | Path | None = None
    """A CA certificate to trust for ``wss://`` (``openlive serve --tls`` prints its path)."""
    open_timeout: float = 30.0
    """Seconds to wait for the connection and for ``setupComplete``."""

    @classmethod
    def for_google(cls, api_key: str, model: str = DEFAULT_MODEL, **options: Any) -> LiveModel:
        """The same client against Google's hosted Gemini Live API."""
        options.setdefault("url", GOOGLE_URL)
        options.setdefault("api_key_in_header", True)
        return cls(model, api_key=api_key, **options)

    def connect(self) -> Connecting:
        """Open a session: connect, send ``setup``, wait for ``setupComplete``.

        ``session = await model.connect()``, or ``async with model.connect() as session:``.
        Raises ``LiveConnectionError`` when the server cannot be reached and a
        ``LiveConnectionClosed`` subclass when it refuses the session (bad key: 1007).
        """
        from .session import Connecting

        return Connecting(self)

    def connect_sync(self) -> SyncLiveSession:
        """A blocking session (``with model.connect_sync() as session:``), for scripts."""
        from .sync import SyncLiveSession

        return SyncLiveSession(self)

    # -- what goes on the wire ----------------------------------------------------------------

    @property
    def uses_ephemeral_token(self) -> bool:
        return bool(self.api_key and self.api_key.startswith("auth_tokens/"))

    def endpoint(self) -> str:
        """The WebSocket URL to open, credentials in the query where they belong there."""
        scheme, netloc, path, query, _ = urlsplit(self.url)
        if scheme not in ("ws", "wss"):
            raise ValueError(f"url must start with ws:// or wss://, got {self.url!r}")
        if "/ws/" not in path:
            version = self.api_version or ("v1alpha" if self.uses_ephemeral_token else "v1beta")
            method = "BidiGenerateContent"
            if self.uses_ephemeral_token:
                method += "Constrained"
            path = path.rstrip("/") + _GEMINI_PATH.format(version=version, method=method)
        params: list[tuple[str, str]] = []
        if self.uses_ephemeral_token:
            params.append(("access_token", self.api_key or ""))
        elif self.api_key and not self.api_key_in_header:
            params.append(("key", self.api_key))
        if params:
            query = "&".join(filter(None, [query, urlencode(params, safe="/")]))
        return urlunsplit((scheme, netloc, path, query, ""))

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.api_key and self.api_key_in_header and not self.uses_ephemeral_token:
            headers["x-goog-api-key"] = self.api_key
        return headers

    def ssl_context(self) -> ssl_module.SSLContext | None:
        if not self.url.startswith("wss:"):
            return None
        if self.ssl is not None:
            return self.ssl
        return ssl_module.create_default_context(cafile=str(self.cafile) if self.cafile else None)

    def setup_message(self) -> dict[str, Any]:
        generation: dict[str, Any] = {"responseModalities": [m.upper() for m in self.modalities]}
        for name, value in [
            ("temperature", self.temperature),
            ("topP", self.top_p),
            ("topK", self.top_k),
            ("maxOutputTokens", self.max_output_tokens),
            ("seed", self.seed),
            ("presencePenalty", self.presence_penalty),
            ("frequencyPenalty", self.frequency_penalty),
        ]:
            if value is not None:
                generation[name] = value
        if self.speech_config is not None:
            generation["speechConfig"] = dict(self.speech_config)
        elif self.voice:
            generation["speechConfig"] = {
                "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": self.voice}}
            }
        generation.update(self.generation_config or {})

        setup: dict[str, Any] = {
            "model": _model_resource(self.model),
            "generationConfig": generation,
        }
        if self.system_instruction is not None:
            setup["systemInstruction"] = _instruction(self.system_instruction)
        if self.tools:
            setup["tools"] = _tools(self.tools)
        if self.tool_config:
            setup["toolConfig"] = dict(self.tool_config)
        if self.realtime_input_config is not None:
            setup["realtimeInputConfig"] = dict(self.realtime_input_config)
        if self.input_transcription:
            setup["inputAudioTranscription"] = {}
        if self.output_transcription:
            setup["outputAudioTranscription"] = {}
        if self.session_resumption is not False:
            handle = self.session_resumption
            setup["sessionResumption"] = {"handle": handle} if isinstance(handle, str) else {}
        if self.context_window_compression is not None:
            setup["contextWindowCompression"] = dict(self.context_window_compression)
        return {"setup": setup}

    @property
    def modalities(self) -> list[str]:
        if isinstance(self.response_modalities, str):  # a forgiving "TEXT"
            return [self.response_modalities]
        return list(self.response_modalities)


def _model_resource(name: str) -> str:
    return name if "/" in name else f"models/{name}"


def _instruction(value: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, str):
        return {"parts": [{"text": value}], "role": "user"}
    return dict(value)


def _tools(tools: Sequence[ToolLike]) -> list[dict[str, Any]]:
    """Declarations are grouped into one ``functionDeclarations`` tool; JSON tools pass through."""
    declarations: list[dict[str, Any]] = []
    result: list[dict[str, Any]] = []
    for tool in tools:
        if isinstance(tool, FunctionDeclaration):
            declaration: dict[str, Any] = {"name": tool.name, "description": tool.description}
            if tool.parameters is not None:
                declaration["parametersJsonSchema"] = tool.parameters
            if tool.behavior is not None:
                declaration["behavior"] = tool.behavior
            declarations.append(declaration)
        else:
            result.append(dict(tool))
    if declarations:
        result.insert(0, {"functionDeclarations": declarations})
    return result
