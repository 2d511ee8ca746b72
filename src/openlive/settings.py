"""The one settings object. Every knob comes from here: CLI flags, ``OPENLIVE_*`` environment
variables or a ``.env``-style config file, in that order of precedence."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path.home() / ".openlive"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPENLIVE_", env_file=None, extra="ignore", validate_default=True
    )

    # Network
    host: str = "127.0.0.1"
    port: int = 8765
    tls: bool = False
    cert_dir: Path = DEFAULT_DATA_DIR / "certs"
    tls_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """More names or IPs for the local certificate (e.g. ``firebasevertexai.googleapis.com`` for
    the native Firebase SDKs, or this machine's LAN address); implies ``tls``."""
    tls_cert: Path | None = None
    """The operator's own certificate chain (PEM) instead of the local one; implies ``tls``."""
    tls_key: Path | None = None

    # Authentication: with no keys configured, every credential (or none) is accepted.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_keys_file: Path | None = None

    # Protocol
    strict: bool = False
    """Reject unknown setup fields with 1007, as Google does, instead of logging them."""
    allowed_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """When set, only these model names (without ``models/``) are accepted; others get 1008."""
    max_message_bytes: int = 8 * 1024 * 1024
    setup_timeout_s: float = 30.0

    # LLM
    llm: str = "embedded"
    """``embedded`` (the packaged placeholder), ``embedded:<path.gguf>``,
    ``embedded:hf:<repo>/<file>``, or ``openai:<base_url>`` for any OpenAI-compatible server."""
    llm_model: str = ""
    """Model name for an ``openai:`` server; empty takes the first one its ``/models`` lists."""
    llm_api_key: str = ""
    llm_threads: int = 0
    """CPU threads for the embedded LLM; 0 = automatic: half the cores when the voice pipeline
    runs (ASR and TTS need the rest: on 2 cores this cut voice-to-voice p95 from 5.0 s to 1.5 s),
    else all of them (up to 8)."""
    llm_prefill_threads: int = 0
    """CPU threads for reading the prompt (prefill) on the embedded LLM; 0 = automatic: all the
    cores (up to 8). Prefill runs before this reply's speech starts, so it does not fight the
    TTS for the cores the way decoding does, and it is most of a larger model's first token."""
    llm_nice: int = 10
    """How many Linux nice levels below the rest of the server the embedded LLM's threads run:
    when the event loop, recognition or synthesis want a core the LLM is using, they get it
    first, and an idle CPU is still the LLM's alone (engines/priority.py). 0: the same priority.
    At 10 the LLM keeps about a tenth of a contended core (19 would leave it almost none, and
    measured no faster: docs/design.md)."""
    voice_llm: str = "auto"
    """The LLM of voice sessions: ``auto`` (measured at start: the default model if it writes a
    spoken answer's first words fast enough on this CPU, else the packaged 0.5B; see
    engines/llm/voice.py), ``same`` (the main LLM), or a spec like ``llm``'s."""
    llm_context: int = 8192
    llm_parallel: int = 4
    """Sessions that can generate at once on the embedded runtime (each gets llm_context tokens);
    more wait their turn in order (engines/llm/slots.py)."""
    llm_queue_target_ms: int = 500
    """Embedded runtime: once a generation has waited this long for a slot, the server is past
    what this CPU serves; new sessions are refused (1011 "Resource has been exhausted") and
    ``/healthz`` says saturated until no wait has passed it for 5 s. Resumed sessions still come
    back. 0 never refuses for load."""
    llm_timeout_s: float = 120.0
    llm_max_tokens: int = 1024
    """Reply length cap when the client sets no maxOutputTokens (small models ramble on)."""
    llm_trace_file: Path | None = None
    """Append every LLM request to this file as a JSON line (debugging prompts)."""

    # Function calling and web search
    llm_tools: Literal["auto", "native", "constrained"] = "auto"
    """How the model calls functions: ``native`` (OpenAI ``tools``, for tool-capable models),
    ``constrained`` (a JSON schema picks a call or a reply, for any model), ``auto`` (constrained
    on the embedded runtime, native for ``openai:`` servers)."""
    llm_tools_reply: Literal["inline", "two_step"] = "inline"
    """Constrained mode: decode a reply from the JSON as it streams (``inline``), or stream it
    from a second, plain request once the model chose to reply (``two_step``)."""
    tool_filler_delay_s: float = 1.5
    """Audio sessions: when a blocking function call takes longer than this, say the filler."""
    tool_filler_text: str = "One moment, let me check that."
    tool_response_timeout_s: float = 60.0
    """A blocking function call the client has not answered in this long is answered for it
    with an error result; the client gets ``toolCallCancellation`` and the reply goes on. Some
    clients (Firebase Web's helper) can leave a call unanswered, which would hang the turn.
    0 waits for ever."""
    search_url: str = ""
    """Base URL of a SearxNG-compatible search (``GET {url}/search?q=...&format=json``) for the
    ``googleSearch`` tool. Empty: ``googleSearch`` is accepted but gives no grounding."""
    search_provider: str = "searxng"
    search_results: int = 3
    """How many results feed the model (and the grounding metadata) per turn."""
    search_timeout_s: float = 5.0

    # Speech and vision models (assembled from packages by `openlive models install`)
    speech: bool = True
    """Load the voice pipeline (VAD, end of turn, ASR, TTS). Off: a text-only server."""
    models_dir: Path = DEFAULT_DATA_DIR / "models"
    turn_text_signal: bool = True
    """Judge the end of a turn by the words too: the LLM's probability that the user's text is
    over (embedded LLM only). Off: Smart Turn and the silence decide alone."""
    asr_threads: int = 1
    tts_threads: int = 0
    """CPU threads for speech synthesis; 0 = automatic: Kokoro uses 1, and tries 2 at start only
    where two cores are free of the LLM while it decodes (every core when the LLM runs at a lower
    priority, llm_nice), keeping them when clearly faster (the fast voice then uses 1)."""
    tts_mode: str = "quality"
    """``quality`` (Kokoro-82M, 30 distinct voices) or ``fast`` (hibari, one voice, ~50x faster)."""
    tts_graph: str = "auto"
    """Kokoro's graph: ``int8`` (as packaged; fastest on CPUs with VNNI), ``float`` (rebuilt from
    the same weights at install; faster where integer convolution is slow) or ``auto``: time both
    at start and keep the faster, which also sets how soon a reply's first clause is spoken."""
    tts_fallback: bool = True
    """In quality mode, switch a reply to the fast voice once a clause takes longer to make than
    to play (a slow or busy CPU), so speech never stalls; off: keep the chosen voice whatever
    the delay (the fast voice is one female voice for every name)."""

    audio_coalesce_ms: int = 20
    """Raw PCM blobs shorter than this are joined before decoding and voice detection (Firebase
    Web sends 2.7 ms ones, 375 a second); 0 takes every blob as it comes."""
    echo_guard_ms: int = 250
    """While our reply plays, speech must last this much longer before it interrupts (it may be
    our own voice through the user's speaker). 0 for clients with echo cancellation."""
    barge_in_onset_ms: int = 96
    """Sound over a playing reply that pauses it at once (the client gets ``interrupted``);
    speech that goes on cuts it, a sound that stops short lets it resume where it stopped."""

    # Camera frames (realtimeInput.video): described to the LLM as text
    vision: bool | None = None
    """Analyse camera frames. Unset: on when the vision models are installed (`openlive models
    install`); 1 also installs them at start if missing; 0: frames are accepted and ignored."""
    vision_model: str = ""
    """A vision-language GGUF (path or ``hf:owner/repo/file.gguf``), used instead of the embedded
    OCR/objects/faces stack, on demand only (seconds per frame). Needs ``vision_mmproj``."""
    vision_mmproj: str = ""
    """The model's multimodal projector GGUF (path or ``hf:`` id)."""
    vision_threads: int = 1
    vision_workers: int = 1
    """Frames analysed at once, across all sessions (each analysis uses vision_threads)."""
    vision_text: bool = True
    vision_objects: bool = True
    """CenterNet's weights carry no explicit licence upstream (see models_dir/NOTICE): 0 turns
    object detection off."""
    vision_faces: bool = True
    vision_text_threshold: float = 0.8
    vision_object_threshold: float = 0.4
    vision_face_threshold: float = 0.8
    vision_scene_change: float = 12.0
    """Mean grey-level difference (0–255) between 16×16 thumbnails that makes a new scene."""
    vision_background: bool = True
    """Analyse a new scene once it holds still (2 frames), before the turn ends, so the answer
    does not wait for it. Off: analyse only when a turn ends."""
    vision_max_image_bytes: int = 16 * 1024 * 1024
    vision_max_image_pixels: int = 40_000_000

    # Sessions that last
    data_dir: Path = DEFAULT_DATA_DIR
    store: str = ""
    """Session state for resumption: empty = SQLite in data_dir, ``sqlite:///path.db``,
    or ``redis://host:6379/0`` to share sessions between processes and nodes."""
    resumption_ttl_s: float = 7200.0
    """A resumption handle stays valid this long after the session last ended."""
    max_connection_s: float = 0.0
    """Close connections after this long (goAway first); 0 = never."""
    goaway_notice_s: float = 10.0
    """How long before a server-initiated close the client gets goAway."""
    drain_grace_s: float = 5.0
    """On SIGTERM: goAway to every session, then close after this long."""
    debug_goaway_after_s: float = 0.0
    """Testing aid: send goAway this long after each connection opens (then close)."""

    # Limits (per process)
    max_sessions: int = 0
    """Sessions open at once on this server; 0 = unlimited."""
    max_sessions_per_key: int = 0
    """Sessions open at once per API key or ephemeral token; 0 = unlimited."""
    max_new_sessions_per_minute: int = 0
    """New sessions per key per minute; 0 = unlimited."""

    # Scale-out: remote speech engines and traces (docs/deploy.md)
    asr: str = "embedded"
    """``embedded`` (Whisper in this process) or ``openai:<base_url>`` for any server with an
    OpenAI-compatible ``/audio/transcriptions`` (faster-whisper-server, speaches, vLLM)."""
    asr_model: str = "whisper-1"
    """The ``model`` an ``openai:`` transcription server is asked for."""
    asr_api_key: str = ""
    tts: str = "embedded"
    """``embedded`` (Kokoro or the fast voice in this process, see tts_mode) or
    ``openai:<base_url>`` for any server with an OpenAI-compatible ``/audio/speech`` that can
    answer raw PCM (fastkokoro, Kokoro-FastAPI, speaches)."""
    tts_model: str = "kokoro"
    tts_api_key: str = ""
    tts_voices: str = ""
    """``openai:`` TTS: Gemini voice → server voice, ``Puck=am_puck,Kore=af_kore,*=alloy``;
    unnamed voices get the Kokoro style the embedded engine uses for them (``*`` overrides)."""
    speech_timeout_s: float = 30.0
    """One request to a remote speech server may take this long."""
    otlp_endpoint: str = ""
    """Export an OpenTelemetry trace per turn over OTLP/HTTP to this collector (for example
    ``http://collector:4318``); empty: no tracing, at no cost."""
    otel_service_name: str = "openlive"
    # Hostile input and overload (docs/limits.md): each is checked before the work it guards.
    max_connections: int = 1000
    """Open HTTP and WebSocket connections at once; more are refused with HTTP 503."""
    header_timeout_s: float = 10.0
    """A connection must finish its request headers (or upgrade) within this long."""
    max_json_depth: int = 64
    """Nesting depth of a client message's JSON; deeper is refused with 1007."""
    max_unknown_fields_logged: int = 8
    """Unknown field names logged per message (each cut to 60 characters)."""
    max_audio_message_s: float = 60.0
    """Seconds of audio one realtimeInput blob may hold (declared PCM size, or decoded
    duration for FLAC/Opus/MP3...); more closes the session with 1008."""
    max_resamplers: int = 4
    """Distinct declared PCM rates a session keeps a resampler for; the oldest is dropped."""
    max_turn_audio_s: float = 600.0
    """Seconds of audio one user turn may hold (~38 MB at 16 kHz), far above any real turn.
    Between ``activityStart`` and ``activityEnd`` more closes the session with 1008; with
    automatic activity detection the turn ends there instead (our VAD drew the turn, not the
    client). 0 = no bound."""
    audio_pace: float = 4.0
    """Once a session's audio has run ``audio_burst_s`` ahead of real time, it is taken at most
    this many times real time: the session's reader waits (the client is slowed through its
    socket, nothing is refused). A microphone never waits. 0 = not paced."""
    audio_burst_s: float = 20.0
    """Seconds of audio a session may send ahead of real time before it is paced."""
    max_outbox_messages: int = 20_000
    """Messages queued for a client that does not read them; more closes with 1008."""
    max_held_messages: int = 1000
    """Messages held (to be recorded) while a reply runs; more closes with 1008."""
    max_pending_calls: int = 64
    """Function calls a session holds unanswered. Before a ``toolCall`` that would pass it, the
    oldest calls no reply waits for (non-blocking ones, those owed from before a resume) get
    ``toolCallCancellation``: a client may never answer fire-and-forget NON_BLOCKING calls.
    0 = no bound."""
    max_content_bytes: int = 256 * 1024 * 1024
    """Bytes of clientContent, toolResponse, contextUpdate and realtimeInput text one
    connection may send in all (what grows the history); more closes with 1008."""
    send_timeout_s: float = 30.0
    """A send to the client that makes no progress for this long ends the connection."""
    max_token_request_bytes: int = 1024 * 1024
    """Body size of ``POST /v1alpha/auth_tokens``."""
    store_timeout_s: float = 5.0
    """Redis calls (connect, read, write) give up after this long."""

    log_level: str = "info"

    @field_validator("api_keys", "allowed_models", "tls_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _tls_options(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together")
        if self.tls_cert is not None and self.tls_hosts:
            raise ValueError("--tls-host names the local certificate; not with --tls-cert")
        if self.tls_hosts or self.tls_cert is not None:
            self.tls = True
        return self

    def embedded_llm_threads(self) -> int:
        if self.llm_threads > 0:
            return self.llm_threads
        cores = os.cpu_count() or 2
        return max(1, cores // 2) if self.speech else min(8, cores)

    def fast_tts_threads(self) -> int:
        return self.tts_threads if self.tts_threads > 0 else 1

    def embedded_llm_prefill_threads(self) -> int:
        if self.llm_prefill_threads > 0:
            return self.llm_prefill_threads
        return min(8, os.cpu_count() or 2)

    def all_api_keys(self) -> list[str]:
        """Keys from settings, plus one a line from ``api_keys_file`` (``#`` starts a comment)."""
        keys = list(self.api_keys)
        if self.api_keys_file is not None:
            for line in self.api_keys_file.read_text().splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    keys.append(line)
        return keys
