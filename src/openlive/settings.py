"""The one settings object. Every knob comes from here: CLI flags, ``OPENLIVE_*`` environment
variables or a ``.env``-style config file, in that order of precedence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
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
    llm_threads: int = 2
    llm_context: int = 8192
    llm_parallel: int = 4
    """Sessions that can generate at once on the embedded runtime (each gets llm_context tokens)."""
    llm_timeout_s: float = 120.0
    llm_max_tokens: int = 1024
    """Reply length cap when the client sets no maxOutputTokens (small models ramble on)."""
    llm_trace_file: Path | None = None
    """Append every LLM request to this file as a JSON line (debugging prompts)."""

    # Speech and vision models (assembled from packages by `openlive models install`)
    speech: bool = True
    """Load the voice pipeline (VAD, end of turn, ASR, TTS). Off: a text-only server."""
    models_dir: Path = DEFAULT_DATA_DIR / "models"
    asr_threads: int = 1
    tts_threads: int = 1
    tts_mode: str = "quality"
    """``quality`` (Kokoro-82M, 30 distinct voices) or ``fast`` (hibari, one voice, ~50x faster)."""

    echo_guard_ms: int = 250
    """While our reply plays, speech must last this much longer before it interrupts (it may be
    our own voice through the user's speaker). 0 for clients with echo cancellation."""

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

    log_level: str = "info"

    @field_validator("api_keys", "allowed_models", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def all_api_keys(self) -> list[str]:
        """Keys from settings, plus one a line from ``api_keys_file`` (``#`` starts a comment)."""
        keys = list(self.api_keys)
        if self.api_keys_file is not None:
            for line in self.api_keys_file.read_text().splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    keys.append(line)
        return keys
