"""The words' end-of-turn signal for a candidate: the speculative transcript, judged by the LLM.

The listener starts recognition at every end-of-turn candidate; once that transcript is in, this
asks the text signal (engines/turn/text_eou.py) how likely the turn is over after those words,
in the conversation so far. It runs on the listener's workers (one LLM prefill, once the
transcript is in), and it never fails a turn: a voided candidate, an empty transcript or an
engine error all mean "no words to judge" (None), and the voice and the silence decide.

While the user talks, ``prefill_words`` runs the same prompt on each partial transcript, for the
runtime's cache alone: at the pause, the signal and then the reply prefill only the words said
since (on a 2-core AVX2 EPYC, a reply's first token came 230 → 130 ms after the transcript).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from ..engines.listening import AUDIO_ONLY_RULES, TURN_RULES, EndpointerConfig
from .services import SpeechServices

log = logging.getLogger("openlive.listener")


def endpointer_config(detection: object | None, speech: SpeechServices) -> EndpointerConfig:
    """The client's activity detection settings, with the rules for the signals we have: the
    words' too when the LLM can give them, else Smart Turn alone."""
    config = EndpointerConfig.from_setup(detection)
    rules = TURN_RULES if speech.text_turn is not None else AUDIO_ONLY_RULES
    longest = speech.max_turn_audio_s or None  # docs/limits.md: 0 is no bound
    return dataclasses.replace(config, rules=rules, max_utterance_s=longest)


async def prefill_words(
    signal: Any,  # engines.turn.TextEndOfTurn
    conversation: Callable[[], list[dict[str, Any]]],
    words: str,
) -> None:
    """Prefill the user's words so far (module docstring). Off the listener's workers, which the
    pause's own recognition and turn model must find free; skipped while another session's
    prefill runs (TextEndOfTurn.prefill), and a failure costs only the head start."""
    history = conversation()  # on the loop: the session's history is not thread-safe
    try:
        await asyncio.to_thread(signal.prefill, history, words)
    except Exception as error:
        log.debug("prefilling the words so far failed: %s", error)


async def words_end_probability(
    signal: Any,  # engines.turn.TextEndOfTurn
    conversation: Callable[[], list[dict[str, Any]]],
    transcript: asyncio.Future[str],
    executor: Executor,
) -> float | None:
    try:
        # Shielded: this waiting being cancelled must not cancel the turn's own transcript.
        words = await asyncio.shield(transcript)
    except asyncio.CancelledError:
        if transcript.cancelled():  # speech resumed: the candidate is void
            return None
        raise
    except Exception:  # recognition failed: the turn reports that, not us
        return None
    if not words.strip():
        return None
    history = conversation()  # on the loop: the session's history is not thread-safe
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, signal.probability, history, words)
    except Exception as error:
        log.warning("text end-of-turn signal failed: %s", error)
        return None
