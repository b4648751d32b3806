"""`orchestrator.deadlines.deadline`: the contract of `asyncio.timeout`, on one shared timer."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref

import pytest

from orchestrator.deadlines import deadline


async def test_a_block_that_outlives_its_deadline_raises_timeout_error() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with deadline(0.05):
            await asyncio.sleep(5)
    assert time.monotonic() - started < 1.0


async def test_the_task_goes_on_normally_after_a_timeout() -> None:
    with pytest.raises(TimeoutError):
        async with deadline(0.02):
            await asyncio.sleep(5)
    await asyncio.sleep(0.01)  # no cancellation is left pending on the task
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_block_that_ends_in_time_is_never_cancelled_afterwards() -> None:
    async with deadline(0.05):
        await asyncio.sleep(0)
    await asyncio.sleep(0.1)  # past the deadline: nothing fires at this task


async def test_an_outside_cancel_stays_a_cancel() -> None:
    async def guarded() -> None:
        async with deadline(5):
            await asyncio.sleep(5)

    task = asyncio.create_task(guarded())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_each_deadline_fires_at_its_own_time_even_when_a_shorter_one_comes_later() -> None:
    ended: dict[str, float] = {}
    started = time.monotonic()

    async def bounded(name: str, seconds: float) -> None:
        try:
            async with deadline(seconds):
                await asyncio.sleep(5)
        except TimeoutError:
            ended[name] = time.monotonic() - started

    slow = asyncio.create_task(bounded("slow", 0.3))
    await asyncio.sleep(0)  # the slow one arms the shared timer first
    fast = asyncio.create_task(bounded("fast", 0.05))
    await asyncio.gather(slow, fast)

    assert ended["fast"] < 0.25 <= ended["slow"] < 1.0


async def test_a_finished_attempt_does_not_keep_its_task_alive() -> None:
    async def attempt() -> None:
        async with deadline(30):
            await asyncio.sleep(0)

    task = asyncio.create_task(attempt())
    await task
    ref = weakref.ref(task)
    del task
    for _ in range(3):  # let the loop drop its own references (done callbacks, wake-ups)
        await asyncio.sleep(0)
    gc.collect()
    assert ref() is None


async def test_thousands_of_short_blocks_all_finish_and_none_times_out() -> None:
    async def attempt(n: int) -> int:
        async with deadline(30):
            await asyncio.sleep(0)
        return n

    done = await asyncio.gather(*(attempt(n) for n in range(2_000)))
    assert done == list(range(2_000))
