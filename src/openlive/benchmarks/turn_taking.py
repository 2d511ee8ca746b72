"""Turn taking: are users cut off in a mid-sentence pause, and how fast do finished turns end?

In-process, on the audio clock, through the pieces that decide a turn in the server: the
Endpointer with Silero VAD, Smart Turn, the speculative Whisper transcript and the LLM's text
end-of-turn signal. Each model call is timed on the wall clock and its answer is handed to the
endpointer that much audio later, as the listener's worker threads would (Smart Turn and the
ASR start together at the candidate; the text signal follows the transcript). The model calls
of a candidate are made once and replayed for every rule set, so old and new rules are compared
on the same answers and the same latencies.

Clips: complete questions in several Kokoro voices plus the human recordings; for each, cut
versions with a pause of 400 / 600 / 800 ms spliced at the quietest gap in the middle third.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engines.listening import (
    AUDIO_ONLY_RULES,
    FRAME_SAMPLES,
    TURN_RULES,
    EndOfTurnCandidate,
    Endpointer,
    EndpointerConfig,
    EndReason,
    TurnEnded,
)
from .clips import QUESTIONS, Clip, human_recordings, synthesized

RATE = 16000
PAUSES_MS = (400, 600, 800)
TAIL_S = 2.5  # silence after the clip: longer than any rule waits
HISTORY = [{"role": "system", "content": "You are a helpful voice assistant. Answer briefly."}]
# More voices and sentences than the latency bench: a cut needs words on both sides of it.
EXTRA_QUESTIONS = [
    ("Puck", "Could you explain how a rainbow forms after the rain?"),
    ("Zephyr", "I would like to know the best way to learn a new language."),
    ("Orus", "Do you know any good places to eat near the train station?"),
    ("Kore", "Please remind me what the capital of Australia is."),
]


@dataclass
class Answers:
    """The models' answers for one candidate, with how long each took (seconds)."""

    audio: float
    audio_s: float
    transcript: str
    asr_s: float
    text: float | None
    text_s: float


@dataclass
class TurnCase:
    name: str
    audio: np.ndarray
    speech_end_s: float = 0.0  # where the speech ends
    pause: tuple[float, float] | None = None  # cut: the spliced pause (start, end) in seconds
    pause_ms: int = 0
    answers: dict[int, Answers] = field(default_factory=dict)  # by the candidate's audio length


@dataclass
class Outcome:
    end_t: float
    reason: EndReason


def quietest_gap(audio: np.ndarray, window_s: float = 0.03) -> int:
    """The sample at the middle of the quietest window in the middle third: a word gap."""
    window = int(window_s * RATE)
    third = len(audio) // 3
    middle = audio[third : 2 * third]
    energy = np.convolve(middle**2, np.ones(window) / window, mode="same")
    edge = window  # not the ends of the middle third, where the window is half outside
    return third + edge + int(np.argmin(energy[edge:-edge]))


def cut_case(clip: Clip, pause_ms: int) -> TurnCase:
    at = quietest_gap(clip.audio)
    pause = np.zeros(int(pause_ms * RATE / 1000), dtype=np.float32)
    audio = np.concatenate([clip.audio[:at], pause, clip.audio[at:], _tail()])
    start = at / RATE
    return TurnCase(
        f"{clip.name}+{pause_ms}",
        audio,
        speech_end_s=clip.seconds + pause_ms / 1000,
        pause=(start, start + pause_ms / 1000),
        pause_ms=pause_ms,
    )


def complete_case(clip: Clip) -> TurnCase:
    return TurnCase(clip.name, np.concatenate([clip.audio, _tail()]), speech_end_s=clip.seconds)


def _tail() -> np.ndarray:
    return np.zeros(int(TAIL_S * RATE), dtype=np.float32)


class Models:
    """The real models, called once per candidate (cached by the candidate's audio length)."""

    def __init__(self, vad: Any, smart_turn: Any, asr: Any, text_eou: Any | None) -> None:
        self.vad, self.smart_turn, self.asr, self.text_eou = vad, smart_turn, asr, text_eou

    def answers(self, case: TurnCase, candidate: EndOfTurnCandidate) -> Answers:
        key = len(candidate.audio)
        if key not in case.answers:
            audio_p, audio_s = _timed(lambda: self.smart_turn.predict(candidate.audio))
            transcript, asr_s = _timed(lambda: self.asr.transcribe(candidate.audio, "en").text)
            text_p, text_s, text_eou = None, 0.0, self.text_eou
            if text_eou is not None:
                text_p, text_s = _timed(lambda: text_eou.probability(HISTORY, transcript))
            case.answers[key] = Answers(audio_p, audio_s, transcript.strip(), asr_s, text_p, text_s)
        return case.answers[key]


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def run_case(
    case: TurnCase, models: Models, config: EndpointerConfig, instant: bool = False
) -> Outcome | None:
    """Feed the case frame by frame; deliver each answer when its worker would have finished
    (``instant``: as soon as the candidate is out, to show the rules apart from the CPU)."""
    endpointer = Endpointer(models.vad.new_stream(), config)
    due: list[tuple[float, str, float | None, int]] = []  # (audio time, signal, p, candidate)
    for start in range(0, len(case.audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        events: list[Any] = []
        for item in sorted(due):
            if item[0] <= endpointer.time:
                due.remove(item)
                _, signal, p, candidate = item
                if signal == "audio":
                    events += endpointer.on_turn_prediction(float(p or 0.0), candidate)
                elif not endpointer.ends_on_its_own():  # the listener asks no words then
                    events += endpointer.on_text_prediction(p, candidate)
        events += endpointer.feed(case.audio[start : start + FRAME_SAMPLES])
        for event in events:
            if isinstance(event, EndOfTurnCandidate):
                answers = models.answers(case, event)
                audio_at = event.t + (0.0 if instant else answers.audio_s)
                text_at = event.t + (0.0 if instant else answers.asr_s + answers.text_s)
                due.append((audio_at, "audio", answers.audio, event.candidate_id))
                if models.text_eou is not None:
                    due.append((text_at, "text", answers.text, event.candidate_id))
            elif isinstance(event, TurnEnded):
                return Outcome(event.t, event.reason)
    return None


@dataclass
class Summary:
    cut_rate: dict[int, tuple[int, int]] = field(default_factory=dict)  # pause → (cut, of)
    delays_ms: list[float] = field(default_factory=list)
    by_model: int = 0
    by_silence: int = 0
    early: int = 0  # complete questions ended before their speech did


def summarise(
    cases: list[TurnCase], models: Models, config: EndpointerConfig, instant: bool = False
) -> Summary:
    summary = Summary()
    for case in cases:
        outcome = run_case(case, models, config, instant)
        # Cut off: the turn ended before the speech did (in the pause, or at any other gap).
        cut_off = outcome is not None and outcome.end_t < case.speech_end_s - 0.05
        if case.pause is not None:
            cut, total = summary.cut_rate.get(case.pause_ms, (0, 0))
            summary.cut_rate[case.pause_ms] = (cut + cut_off, total + 1)
        elif cut_off:
            summary.early += 1
        elif outcome is not None:
            summary.delays_ms.append((outcome.end_t - case.speech_end_s) * 1000)
            if outcome.reason is EndReason.SILENCE:
                summary.by_silence += 1
            else:
                summary.by_model += 1
    return summary


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(name: str, summary: Summary) -> str:
    cuts = "  ".join(
        f"{pause} ms: {cut}/{total} ({cut / total:.0%})"
        for pause, (cut, total) in sorted(summary.cut_rate.items())
    )
    delays = summary.delays_ms
    ended = summary.by_model + summary.by_silence
    return (
        f"{name:>10}  cut in the pause  {cuts}\n"
        f"{'':>10}  complete: endpointing p50 {percentile(delays, 50):.0f} ms, "
        f"p95 {percentile(delays, 95):.0f} ms; ended by the models {summary.by_model}/{ended}, "
        f"by the silence {summary.by_silence}/{ended}"
        + (f"; {summary.early} cut off early" if summary.early else "")
    )


def load_models(text: bool, text_llm: str = "") -> Models:
    from ..assets import ensure_speech_assets
    from ..engines.asr.whisper import WhisperASR
    from ..engines.turn import SmartTurn
    from ..engines.vad.silero import SileroVAD
    from ..settings import Settings

    settings = Settings()
    assets = ensure_speech_assets(settings.models_dir, progress=False)
    vad = SileroVAD()
    asr = WhisperASR(assets.whisper_dir, threads=settings.asr_threads, vad=vad)
    asr.load()
    text_eou = _load_text_eou(settings, text_llm) if text else None
    return Models(vad, SmartTurn(assets.smart_turn_model, threads=1), asr, text_eou)


def _load_text_eou(settings: Any, name: str) -> Any:
    import asyncio

    from ..engines.llm.embedded import EmbeddedLLM
    from ..engines.llm.model_source import resolve_gguf
    from ..engines.turn import text_end_of_turn

    llm = EmbeddedLLM(
        resolve_gguf(name, settings.models_dir),
        threads=settings.embedded_llm_threads(),
        prefill_threads=settings.embedded_llm_prefill_threads(),
        context=2048,
        parallel=1,
    )
    asyncio.run(llm.load())
    return text_end_of_turn(llm)


def build_cases(tts: Any) -> tuple[list[TurnCase], list[TurnCase]]:
    """(Kokoro cases, human cases): the human recordings are held out of the tuning."""
    kokoro = synthesized(QUESTIONS + EXTRA_QUESTIONS, tts)
    human = human_recordings()

    def cases(clips: list[Clip]) -> list[TurnCase]:
        return [complete_case(c) for c in clips] + [
            cut_case(c, pause) for c in clips for pause in PAUSES_MS
        ]

    return cases(kokoro), cases(human)


CONFIGS: dict[str, EndpointerConfig] = {
    # Smart Turn alone, started 224 ms into the pause (7 frames >= 200 ms), as before the words.
    "old": EndpointerConfig(rules=AUDIO_ONLY_RULES, candidate_silence_ms=200),
    # The words too, still started when the turn may end.
    "words": EndpointerConfig(rules=TURN_RULES, candidate_silence_ms=200),
    # The words too, started 64 ms before the turn may end (the default until 96 ms won).
    "at 160": EndpointerConfig(rules=TURN_RULES, candidate_silence_ms=160),
    # The words too, started 128 ms before the turn may end (the server's default).
    "new": EndpointerConfig(rules=TURN_RULES),
}


def stage_latencies(cases: list[TurnCase]) -> str:
    answers = [a for case in cases for a in case.answers.values()]
    stages = {
        "smart turn": [a.audio_s * 1000 for a in answers],
        "asr": [a.asr_s * 1000 for a in answers],
        "text signal": [a.text_s * 1000 for a in answers if a.text is not None],
    }
    return "; ".join(
        f"{name} p50 {percentile(values, 50):.0f} / p95 {percentile(values, 95):.0f} ms"
        for name, values in stages.items()
        if values
    )


def text_accuracy(cases: list[TurnCase]) -> str:
    """The words' signal alone: finished transcripts (the last candidate of a complete clip)
    against cut ones (a cut clip's first candidate, in its pause)."""
    finished = [max(c.answers.items())[1].text for c in cases if c.pause is None and c.answers]
    cut = [min(c.answers.items())[1].text for c in cases if c.pause is not None and c.answers]
    finished_p = [p for p in finished if p is not None]
    cut_p = [p for p in cut if p is not None]
    if not finished_p or not cut_p:
        return "text signal: no answers"
    rules = TURN_RULES
    return (
        f"text signal: finished {sum(p >= rules.text_yes for p in finished_p)}/{len(finished_p)}"
        f" yes (p50 {statistics.median(finished_p):.2f}), cut "
        f"{sum(p < rules.text_no for p in cut_p)}/{len(cut_p)} no "
        f"(p50 {statistics.median(cut_p):.3f})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-text", action="store_true", help="without the LLM's text signal")
    parser.add_argument("--dump", help="write every candidate's answers to this JSON file")
    parser.add_argument(
        "--text-llm",
        default="",
        help="packaged model that gives the words' signal (default: the default model; a slow "
        "CPU's voice sessions use qwen2.5-coder-0.5b)",
    )
    args = parser.parse_args(argv)

    from ..assets import ensure_speech_assets
    from ..engines.tts.registry import create_tts_engine
    from ..settings import Settings

    settings = Settings()
    tts = create_tts_engine(settings, ensure_speech_assets(settings.models_dir, progress=False))
    tts.load()
    kokoro, human = build_cases(tts)
    models = load_models(text=not args.no_text, text_llm=args.text_llm)
    print(
        f"{len(kokoro) // 4} Kokoro clips, {len(human) // 4} human recordings; pauses "
        f"{', '.join(map(str, PAUSES_MS))} ms spliced at the quietest gap of the middle third; "
        "in-process, audio clock, measured model latency",
        flush=True,
    )
    for group, cases in (("kokoro (tuned on)", kokoro), ("human (held out)", human)):
        if not cases:
            continue
        print(f"-- {group}", flush=True)
        for name, config in CONFIGS.items():
            print(report(name, summarise(cases, models, config)), flush=True)
        for name, config in CONFIGS.items():
            summary = summarise(cases, models, config, instant=True)
            print(report(f"{name}, 0 ms", summary), flush=True)
        print(f"   model latency on this machine: {stage_latencies(cases)}")
        print(f"   {text_accuracy(cases)}", flush=True)
    if args.dump:
        dump = {
            case.name: {str(k): vars(a) for k, a in case.answers.items()} for case in kokoro + human
        }
        with open(args.dump, "w") as file:
            json.dump(dump, file, indent=1)
    return 0
