"""The embedded llama.cpp runtime (packaged placeholder model): cancelled streams stay quiet.

A voice session abandons generations all the time (barge-in, a speculative reply the user talks
over, a client that leaves); none of that is an error, so none of it may reach the log above
debug level, nor asyncio's "Exception in callback" report.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from openlive.engines.llm.base import ChatRequest
from openlive.engines.llm.embedded import EmbeddedLLM
from openlive.engines.llm.model_source import packaged_placeholder

ESSAY = ChatRequest(
    messages=[{"role": "user", "content": "Write a very long essay about rivers."}],
    max_tokens=200,
    temperature=0.0,
)


async def first_token_then_leave(llm: EmbeddedLLM) -> None:
    async for _ in llm.stream(ESSAY):
        break


async def test_abandoned_and_cancelled_streams_log_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    llm = EmbeddedLLM(packaged_placeholder(), threads=1, context=1024, parallel=1)
    try:
        await llm.load()
        with caplog.at_level(logging.DEBUG):
            # More streams than workers: some are still queued in the executor when the runtime
            # shuts down and cancels them; others are left after their first token.
            streams = [asyncio.create_task(first_token_then_leave(llm)) for _ in range(2)]
            queued = [asyncio.create_task(first_token_then_leave(llm)) for _ in range(4)]
            await asyncio.gather(*streams)
            for task in queued:
                task.cancel()
            await asyncio.gather(*queued, return_exceptions=True)
            await llm.aclose()
            await asyncio.sleep(0.5)
            gc.collect()
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert [context["message"] for context in reported] == []
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG and "llm" in r.name]
    assert loud == []


async def test_requests_past_the_slots_wait_in_order_and_a_cancelled_one_never_runs() -> None:
    llm = EmbeddedLLM(packaged_placeholder(), threads=1, context=1024, parallel=1)
    await llm.load()
    try:
        running = llm.stream(ESSAY)
        await anext(running)  # generating: the one slot is taken
        gone = asyncio.create_task(first_token_then_leave(llm))
        served = asyncio.create_task(first_token_then_leave(llm))
        await asyncio.sleep(0.1)
        assert llm.slots.waiting == 2 and llm.slots.granted == 1
        gone.cancel()
        await asyncio.sleep(0)
        assert llm.slots.waiting == 1
        await running.aclose()  # the slot frees once the runtime stops, and passes on in order
        await asyncio.wait_for(served, 60)
        assert gone.cancelled() and llm.slots.granted == 2
    finally:
        await llm.aclose()


def cpu_and_nice_per_thread() -> dict[int, tuple[float, int]]:
    """This process's threads: CPU seconds used so far and nice value (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    threads = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        # After the name: state is field 3, utime 14, stime 15, nice 19 (proc(5)).
        threads[int(task.name)] = ((int(fields[11]) + int(fields[12])) / ticks, int(fields[16]))
    return threads


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_the_runtime_computes_on_threads_of_lower_priority_and_the_loop_keeps_its_own() -> (
    None
):
    loop_thread = threading.get_native_id()
    loop_nice = os.getpriority(os.PRIO_PROCESS, loop_thread)
    llm = EmbeddedLLM(
        packaged_placeholder(), threads=1, prefill_threads=2, context=1024, parallel=1, nice=5
    )
    await llm.load()
    try:
        before = cpu_and_nice_per_thread()
        async for _ in llm.stream(ESSAY):
            pass
        after = cpu_and_nice_per_thread()
    finally:
        await llm.aclose()
    busy = {
        thread: nice
        for thread, (cpu, nice) in after.items()
        if thread != loop_thread and cpu - before.get(thread, (0.0, 0))[0] >= 0.05
    }
    # 200 tokens of decoding is seconds of CPU; all of it on the runtime's lowered threads.
    assert busy and all(nice >= loop_nice + 5 for nice in busy.values()), (busy, loop_nice)
    assert os.getpriority(os.PRIO_PROCESS, loop_thread) == loop_nice
