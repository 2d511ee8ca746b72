"""One session's speech recognition jobs on the ASR pool that every session shares.

Rules (docs/limits.md), so that work nobody waits for any more never holds the pool:

* A job cancelled before it starts (its turn dropped, speech resumed after a pause, the session
  closed) never runs: the pool's future is cancelled, and the job checks its own flag first
  when a worker picks it up, in case that cancel lost the race.
* A job cancelled while it runs has its result thrown away (whoever awaited it is gone), and
  it stops early: the engine asks the flag before each Whisper window, so a ten-minute
  utterance of a session that went away costs the window being decoded, not nineteen more.
* Once the session is closed, no job starts and every running one is flagged.
* Every session's jobs are counted on the pool's ``PoolLoad`` while awaited, so
  optional work (a partial only the LLM's head start wants) can wait for a pool nobody else needs.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Executor
from typing import Any

import numpy as np


class PoolLoad:
    """Jobs submitted to a shared pool and still awaited, over every session. A job cancelled
    while it runs stops counting at once, though its worker may finish the Whisper window it is
    on. Counted on the event loop, where jobs are submitted and awaited, so it needs no lock."""

    def __init__(self) -> None:
        self.jobs = 0


class Recognition:
    def __init__(self, asr: Any, executor: Executor, load: PoolLoad | None = None) -> None:
        self._asr = asr  # engines.asr: WhisperASR or OpenAICompatibleASR
        self._executor = executor
        self._load = load or PoolLoad()
        self._flags: set[threading.Event] = set()  # one per job submitted and not done
        self._closed = False

    async def transcribe(self, audio: np.ndarray, language: str | None) -> Any:
        """The engine's ``Transcript`` of ``audio``; cancelling the caller cancels the job."""
        if self._closed:
            raise asyncio.CancelledError  # the session is gone: nothing new starts
        cancelled = threading.Event()

        def job() -> Any:
            if cancelled.is_set():
                return None  # flagged while queued: never run
            return self._asr.transcribe(audio, language, cancelled=cancelled.is_set)

        future = self._executor.submit(job)
        self._flags.add(cancelled)
        self._load.jobs += 1
        try:
            transcript = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            cancelled.set()
            future.cancel()
            raise
        finally:
            self._load.jobs -= 1
            self._flags.discard(cancelled)
        if cancelled.is_set():  # flagged by close() while it ran: its text is unfinished
            raise asyncio.CancelledError
        return transcript

    def close(self) -> None:
        self._closed = True
        for cancelled in self._flags:
            cancelled.set()
