"""Choosing Kokoro's graph, thread count and first-clause length from a warm-up on this machine.

Which Kokoro graph is faster depends on the CPU: the packaged int8 graph wins where onnxruntime
has VNNI integer kernels (AVX-512 VNNI, AVX-VNNI), the float graph rebuilt at install time wins
where integer convolution falls back to a slow path. Rather than guess from CPU flags, the engine
times each graph on one short sentence at start and keeps the faster; explicit settings
(``tts_graph``, ``tts_threads``) narrow the candidates to what was asked.

Graphs are compared on one thread by the CPU time of the synthesizing thread (onnxruntime runs a
one-thread session on the caller), which other processes on a busy machine barely disturb; a
second thread is then tried on the winner, by wall time, only where the LLM leaves a core free.

The first clause is what the user waits for, so once Kokoro has been measured it is always the
shortest a clause may be. A longer one would only trade a certain wait before the reply for a
possible pause after its first words, and the pause is the lesser evil: the first clause no
longer decides the fast-voice fallback (speech_out.py). The measured speed sets how long each
later clause may grow instead, so that it is made while the one before it plays. This module
only decides; the timing is done by the engine."""

from __future__ import annotations

from dataclasses import dataclass

GRAPHS = ("int8", "float")
GRAPH_SETTINGS = ("auto", *GRAPHS)

DEFAULT_FIRST_CLAUSE_WORDS = 4  # an engine not measured (yet)
# The first clause of a measured engine. One word alone is clipped: Kokoro gives a clause its own
# sentence prosody. On a 2-core AVX2 EPYC a 2-word clause is made in 0.6-0.7 s; where a slow hour
# of that VM once had the warm-up pick 6 words, the first audio came 1.7-2.6 s after the first
# token.
SHORTEST_FIRST_CLAUSE = 2
# Later clauses are capped so each is made while the one before it plays, but never below this
# (shorter clauses sound choppy; where even this is out of reach, a gap is the lesser evil).
NEXT_CLAUSE_MIN = 4
# The LLM decodes the rest of the reply while a clause is made, so synthesis then runs slower
# than in the warm-up: budget only this share of the audio ahead of a later clause for making
# it, so that it stays clear of the fast-voice fallback (at 1).
REAL_TIME_BUDGET = 0.75
# A second thread must cut the wall time at least this much to be kept: beyond the noise of one
# warm-up, since a thread that does not help costs when ASR wants the core (the LLM yields it:
# engines/priority.py). The engine times it twice and keeps the faster run. On a 2-core EPYC VM
# two threads made a 2-word clause in 0.71 s against 0.95 s idle, 0.73 against 1.01 beside a
# busy nice-19 process; but in busy moments of that VM the warm-up measured 0.89 against 1.05 s
# and 1.01 against 1.12 s, a bar at 0.85 then kept one thread, and the first audio of every
# reply came ~0.2 s later for the server's life.
THREAD_GAIN = 0.95


@dataclass(frozen=True)
class Candidate:
    graph: str
    threads: int

    def __str__(self) -> str:
        return f"{self.graph}/{self.threads}t"


@dataclass(frozen=True)
class Timing:
    candidate: Candidate
    synth_s: float
    """Wall time of the synthesis."""
    audio_s: float
    cpu_s: float = 0.0
    """CPU time of the calling thread: the whole synthesis when the session has one thread."""

    @property
    def rtf(self) -> float:
        return self.synth_s / self.audio_s if self.audio_s > 0 else float("inf")

    @property
    def cost_s(self) -> float:
        """What graphs are compared by: CPU time on one thread (robust to other processes),
        else wall time."""
        return self.cpu_s if self.candidate.threads == 1 and self.cpu_s > 0 else self.synth_s


def graph_candidates(graph: str, threads: int, *, have_float: bool) -> list[Candidate]:
    """The graphs to time, on the asked-for thread count (1 when automatic).

    graph: ``auto``, ``int8`` or ``float`` (the float graph only when it is installed);
    threads: 0 for automatic, else that count."""
    graph = graph.strip().lower()
    if graph not in GRAPH_SETTINGS:
        raise ValueError(f"unknown tts_graph {graph!r}; use one of {', '.join(GRAPH_SETTINGS)}")
    graphs = (list(GRAPHS) if have_float else ["int8"]) if graph == "auto" else [graph]
    return [Candidate(g, threads if threads > 0 else 1) for g in graphs]


def more_threads(best: Candidate, threads: int, free_cores: int) -> Candidate | None:
    """The winner on two threads, worth timing only when threads are automatic and two cores
    stay free while the LLM decodes (on a 2-core machine the LLM has one: none to spare)."""
    if threads > 0 or free_cores < 2:
        return None
    return Candidate(best.graph, 2)


def cheapest(timings: list[Timing]) -> Timing:
    if not timings:
        raise ValueError("nothing was timed")
    return min(timings, key=lambda t: t.cost_s)


def keep_threads(one: Timing, two: Timing | None) -> Timing:
    """Two threads only when clearly faster in wall time than one."""
    if two is not None and two.synth_s <= THREAD_GAIN * one.synth_s:
        return two
    return one


@dataclass(frozen=True)
class Fit:
    """Synthesis and audio seconds as a fixed part plus a part per word, from two timings (their
    ``cost_s``: on one thread the CPU time, so a busy machine at start does not shorten the
    later clauses for good; REAL_TIME_BUDGET leaves the room for the LLM decoding meanwhile)."""

    synth_fixed: float
    synth_per_word: float
    audio_fixed: float
    audio_per_word: float

    @classmethod
    def of(cls, short: tuple[int, Timing], long: tuple[int, Timing]) -> Fit:
        (w1, t1), (w2, t2) = short, long
        span = max(w2 - w1, 1)
        synth_slope = max((t2.cost_s - t1.cost_s) / span, 0.0)
        audio_slope = max((t2.audio_s - t1.audio_s) / span, 1e-3)
        return cls(
            synth_fixed=max(t1.cost_s - synth_slope * w1, 0.0),
            synth_per_word=synth_slope,
            audio_fixed=max(t1.audio_s - audio_slope * w1, 0.0),
            audio_per_word=audio_slope,
        )

    def rtf(self, words: int) -> float:
        audio = self.audio_fixed + self.audio_per_word * words
        return (self.synth_fixed + self.synth_per_word * words) / audio


def first_clause_words(fit: Fit | None) -> int:
    """The shortest clause once the engine has been measured (module docstring); the default
    when nothing was."""
    return DEFAULT_FIRST_CLAUSE_WORDS if fit is None else SHORTEST_FIRST_CLAUSE


def next_clause_words(fit: Fit | None, previous_words: int) -> int | None:
    """The most words a later clause may hold so that it is made while the clause before it
    (``previous_words`` long) plays, within REAL_TIME_BUDGET of that audio; at least
    NEXT_CLAUSE_MIN. None (no cap) when nothing was measured. A clause that grows past its cap
    is cut at a word boundary (tts/text.py): clauses grow as the audio queued ahead of them
    does, instead of one long clause leaving the listener in silence."""
    if fit is None or fit.synth_per_word <= 0:
        return None
    playing_s = fit.audio_fixed + fit.audio_per_word * max(previous_words, 1)
    words = int((playing_s * REAL_TIME_BUDGET - fit.synth_fixed) / fit.synth_per_word)
    return max(words, NEXT_CLAUSE_MIN)
