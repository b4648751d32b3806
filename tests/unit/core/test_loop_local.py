"""Per-loop caches (attempt deadlines, runs' worker slots) must not keep a finished loop alive."""

from __future__ import annotations

import asyncio
import gc
import weakref

import nodes.work as work
from orchestrator.deadlines import deadline


async def _attempt_and_queue_for_a_slot() -> None:
    async with deadline(30):  # arms the loop's shared deadline timer
        await asyncio.sleep(0)
    slots = work._run_slots("thread", "", 1)
    await work._take_slot(slots, lambda: None)

    async def queued() -> None:
        await work._take_slot(slots, lambda: None)
        work._give_slot(slots)

    waiter = asyncio.create_task(queued())
    await asyncio.sleep(0.01)  # the waiter binds the run's semaphore to this loop
    work._give_slot(slots)
    await waiter


def test_a_finished_loop_is_collected_with_what_it_cached() -> None:
    finished: list[weakref.ref[asyncio.AbstractEventLoop]] = []
    for _ in range(3):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(_attempt_and_queue_for_a_slot())
        loop.close()
        finished.append(weakref.ref(loop))
        del loop

    gc.collect()

    assert [ref() for ref in finished] == [None, None, None]
