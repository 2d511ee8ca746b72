"""Generation slots (engines/llm/slots.py): order, cancellation, waiting as progress, overload.

A hand-moved clock stands in for time; the slots are the real ones."""

from __future__ import annotations

import asyncio

import pytest

from openlive.engines.llm.slots import TICK_S, LLMSlots, queue_progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def generate(slots: LLMSlots, name: str, ran: list[str]) -> None:
    """A generation: it runs (is noted in ``ran``) once it holds a slot."""
    await slots.acquire()
    ran.append(name)


async def test_waiters_get_slots_in_arrival_order() -> None:
    slots = LLMSlots(1)
    order: list[str] = []
    await slots.acquire()  # the running generation
    tasks = [asyncio.create_task(generate(slots, name, order)) for name in "abc"]
    await settle()
    assert order == [] and slots.waiting == 3
    for expected in (["a"], ["a", "b"], ["a", "b", "c"]):
        slots.release()
        await settle()
        assert order == expected
    await asyncio.gather(*tasks)
    assert slots.running == 1 and slots.waiting == 0


async def test_a_request_cancelled_while_waiting_never_runs_and_frees_its_place() -> None:
    slots = LLMSlots(1)
    ran: list[str] = []
    await slots.acquire()
    gone = asyncio.create_task(generate(slots, "gone", ran))
    kept = asyncio.create_task(generate(slots, "kept", ran))
    await settle()
    gone.cancel()
    await settle()
    assert slots.waiting == 1
    slots.release()
    await kept
    assert ran == ["kept"]
    assert gone.cancelled()


async def test_a_slot_handed_to_a_waiter_cancelled_in_the_same_instant_passes_on() -> None:
    slots = LLMSlots(1)
    await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    await settle()
    slots.release()  # granted to ``first``, which has not run yet...
    first.cancel()  # ...and is cancelled before it does
    await settle()
    assert first.cancelled()
    assert second.done() and slots.running == 1 and slots.waiting == 0


async def test_free_slots_are_taken_without_waiting() -> None:
    slots = LLMSlots(2, clock=Clock())
    assert await slots.acquire() == 0.0
    assert await slots.acquire() == 0.0
    assert slots.running == 2 and slots.waiting == 0
    third = asyncio.create_task(slots.acquire())
    await settle()
    assert not third.done()
    slots.release()
    await third
    assert slots.running == 2


async def test_a_waiter_hears_progress_while_the_runtime_produces_and_when_the_queue_moves() -> (
    None
):
    clock = Clock()
    slots = LLMSlots(1, clock=clock)
    heard: list[float] = []
    await slots.acquire()

    async def wait_with_a_watchdog() -> None:
        queue_progress.set(lambda: heard.append(clock.now))
        await slots.acquire()

    waiter = asyncio.create_task(wait_with_a_watchdog())
    await settle()
    slots.tick()
    assert heard == [100.0]
    clock.now += TICK_S / 2
    slots.tick()  # too soon after the last: nobody is told twice a tick
    assert heard == [100.0]
    clock.now += TICK_S
    slots.tick()
    assert heard == [100.0, 100.0 + 1.5 * TICK_S]
    slots.release()
    await waiter
    assert queue_progress.get() is None  # the waiter's context was its own


async def test_overloaded_while_a_wait_passes_the_target_and_for_the_cooldown_after() -> None:
    clock = Clock()
    slots = LLMSlots(1, target_s=0.5, cooldown_s=5.0, clock=clock)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire())
    await settle()
    clock.now += 0.4
    assert not slots.overloaded()  # waiting, but within the target
    clock.now += 0.2
    assert slots.overloaded()
    slots.release()
    assert await waiter == pytest.approx(0.6)
    assert slots.overloaded() and slots.waited_past_target == 1
    clock.now += 4.9
    assert slots.overloaded()
    clock.now += 0.2
    assert not slots.overloaded()


async def test_short_waits_never_overload() -> None:
    clock = Clock()
    slots = LLMSlots(1, target_s=0.5, clock=clock)
    for _ in range(10):
        await slots.acquire()
        waiter = asyncio.create_task(slots.acquire())
        await settle()
        clock.now += 0.3
        slots.release()
        assert await waiter == pytest.approx(0.3)
        slots.release()
    assert not slots.overloaded() and slots.granted == 20
