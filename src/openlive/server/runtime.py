"""What one server process holds: settings, the shared engines, and whether they are ready."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

from ..auth.limits import SessionLimits
from ..auth.tokens import EphemeralTokens
from ..engines.llm import LLMEngine, create_llm_engine
from ..engines.llm.slots import LLMSlots
from ..engines.llm.tool_calling import create_tool_calling
from ..engines.llm.voice import choose_voice_llm
from ..engines.search import create_search_provider
from ..session import SessionServices, SpeechServices, VisionServices
from ..session.resumption import Resumption
from ..session.turn_timings import TurnTimings
from ..settings import Settings
from ..store import open_store
from .loop_lag import LoopLag
from .metrics import Metrics
from .speech_loader import load_speech
from .telemetry import otlp_turn_spans
from .vision_loader import close_vision, load_vision

log = logging.getLogger("openlive.runtime")

ProgressHook = Callable[[str, str], None]
"""``(stage, message)`` — how start-up reports its progress to whoever displays it."""


class Runtime:
    def __init__(self, settings: Settings, *, llm: LLMEngine | None = None) -> None:
        self.settings = settings
        self.llm = llm if llm is not None else create_llm_engine(settings)
        self.ready = asyncio.Event()
        self.failed: BaseException | None = None
        self.api_keys = settings.all_api_keys()
        self.voice_llm: LLMEngine | None = None  # voice sessions' own, when it is not self.llm
        self.speech: SpeechServices | None = None
        self.vision: VisionServices | None = None
        self.vision_description = "not loaded yet"
        self.tool_calling = create_tool_calling(
            settings.llm_tools, settings.llm, settings.llm_tools_reply
        )
        self.search = create_search_provider(settings)
        self.store = open_store(
            settings.store, settings.data_dir / "sessions.db", timeout_s=settings.store_timeout_s
        )
        self.resumption = Resumption(self.store, settings.resumption_ttl_s)
        self.connections: set = set()  # live Connection objects, for draining
        self.closing: dict[str, asyncio.Event] = {}  # session id → set once its close is stored
        self.tokens = EphemeralTokens(self.store)
        self.limits = SessionLimits(
            max_sessions=settings.max_sessions,
            max_sessions_per_key=settings.max_sessions_per_key,
            max_new_sessions_per_minute=settings.max_new_sessions_per_minute,
        )
        self.metrics = Metrics()
        self.loop_lag = LoopLag(self.metrics.loop_lag.observe)  # started by the app's lifespan
        self.metrics.loop_lag_recent_max.set_function(self.loop_lag.recent_max)
        self.turn_timings = TurnTimings()
        self.turn_spans = otlp_turn_spans(settings)
        self.draining = False

    @property
    def saturated(self) -> bool:
        """New sessions would be refused: every session slot is taken, or the LLM is past what
        this CPU serves."""
        cap = self.settings.max_sessions
        return (bool(cap) and self.limits.open_sessions >= cap) or self.llm_overloaded

    @property
    def llm_overloaded(self) -> bool:
        """A generation waited too long for an embedded runtime's slot (engines/llm/slots.py)."""
        for engine in (self.llm, self.voice_llm):
            slots = getattr(engine, "slots", None)
            if isinstance(slots, LLMSlots) and slots.overloaded():
                return True
        return False

    @property
    def services(self) -> SessionServices:
        return SessionServices(
            llm=self.llm,
            voice_llm=self.voice_llm,
            default_max_tokens=self.settings.llm_max_tokens,
            speech=self.speech,
            vision=self.vision,
            echo_guard_s=self.settings.echo_guard_ms / 1000,
            barge_in_onset_s=self.settings.barge_in_onset_ms / 1000,
            resumption=self.resumption,
            context_tokens=self.settings.llm_context,
            observe_turn=self.metrics.observe_turn,
            turn_timings=self.turn_timings,
            trace_turn=self.turn_spans,
            tool_calling=self.tool_calling,
            tool_filler_delay_s=self.settings.tool_filler_delay_s,
            tool_filler_text=self.settings.tool_filler_text,
            tool_response_timeout_s=self.settings.tool_response_timeout_s,
            max_pending_calls=self.settings.max_pending_calls,
            search=self.search,
            search_results=self.settings.search_results,
        )

    async def load(self, progress: ProgressHook | None = None) -> None:
        """Load every model once, before the first session. Reports each stage to ``progress``."""
        report = progress or (lambda stage, message: log.info("%s: %s", stage, message))
        try:
            started = time.perf_counter()
            report("llm", f"loading {self.llm.description}")
            await self.llm.load()
            report("llm", f"ready in {time.perf_counter() - started:.1f}s: {self.llm.description}")
            if self.settings.speech:
                self.voice_llm = await choose_voice_llm(self.settings, self.llm, report)
                # The words' end-of-turn signal asks the LLM that answers voice turns: its
                # prefill of the user's words is then the reply's, cached.
                words_llm = self.voice_llm or self.llm
                self.speech = await load_speech(self.settings, report, words_llm)
            self.vision, self.vision_description = await load_vision(self.settings, report)
        except BaseException as error:
            self.failed = error
            raise
        # What the models left behind lives as long as the process. Out of the collector's way,
        # a full collection no longer walks it while sessions wait: full collections took 60-130
        # ms each on a loaded server; after this none over 30 ms were seen under bench/fuzz.py.
        gc.collect()
        gc.freeze()
        self.ready.set()

    @property
    def tools_description(self) -> str:
        """Function calling and web search, as the operator should see them at start-up."""
        search = (
            self.search.description
            if self.search is not None
            else "no web search configured, googleSearch gets no grounding "
            "(set OPENLIVE_SEARCH_URL to a SearxNG-compatible endpoint)"
        )
        return f"{self.tool_calling.name} function calling; {search}"

    async def drain(self) -> None:
        """Graceful shutdown: goAway to every session, then close them after the grace period."""
        self.draining = True
        grace = self.settings.drain_grace_s
        await asyncio.gather(
            *(
                connection.go_away(grace, "The server is shutting down.")
                for connection in list(self.connections)
            ),
            return_exceptions=True,
        )

    async def aclose(self) -> None:
        await self.store.aclose()
        await self.llm.aclose()
        if self.voice_llm is not None:
            await self.voice_llm.aclose()
        if self.search is not None:
            await self.search.aclose()
        if self.speech is not None:
            self.speech.asr_executor.shutdown(wait=False, cancel_futures=True)
            self.speech.tts_executor.shutdown(wait=False, cancel_futures=True)
        close_vision(self.vision)
        if self.speech is not None:
            for engine in (self.speech.asr, self.speech.tts):
                if hasattr(engine, "aclose"):
                    await engine.aclose()
                elif hasattr(engine, "close"):
                    engine.close()
        if self.turn_spans is not None:
            await asyncio.to_thread(self.turn_spans.shutdown)  # flush what is still queued
