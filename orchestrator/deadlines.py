"""Attempt deadlines that share one loop timer: `async with deadline(seconds): ...`.

Same contract as `asyncio.timeout`: when the time is up the block's task is cancelled, and the
cancellation leaves the block as `TimeoutError`, unless somebody else cancelled the task too.

Why not `asyncio.timeout`: it arms a loop timer per block and disarms it when the block ends
early, which is what nearly every worker attempt does. At a few hundred short tasks a second the
event loop's timer heap fills with cancelled handles and every loop iteration pays for them
(bench B1 measured about 0.05x of a round). Here all running attempts of a loop sit in one heap
of our own, kept on the loop, and the loop holds one timer, armed for the earliest deadline: an
attempt that ends in time just marks its entry done, and the timer is re-armed only when a new
deadline is earlier than the armed one.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from types import TracebackType

from orchestrator.loop_local import loop_local

_COMPACT_AT = 256
"""Entries (live or done) past which the heap drops its done entries, if they are most of it."""


class _Entry:
    __slots__ = ("expired", "task", "when")

    def __init__(self, when: float, task: asyncio.Task[object]) -> None:
        self.when = when
        self.task: asyncio.Task[object] | None = task
        """None once the block has ended (or expired): a finished attempt's task must not
        outlive it in the heap, where done entries wait to be dropped."""
        self.expired = False


class _Deadlines:
    """The running deadlines of one event loop, and the one timer that serves them all."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, _Entry]] = []
        self._order = itertools.count()  # ties on `when` must never compare entries
        self._live = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, entry: _Entry) -> None:
        heapq.heappush(self._heap, (entry.when, next(self._order), entry))
        self._live += 1
        if self._timer is None or entry.when < self._timer.when():
            self._arm(entry.when)
        if len(self._heap) > _COMPACT_AT and self._live * 2 < len(self._heap):
            self._heap = [item for item in self._heap if item[2].task is not None]
            heapq.heapify(self._heap)

    def now(self) -> float:
        return self._loop.time()

    def remove(self, entry: _Entry) -> None:
        if entry.task is not None:
            entry.task = None
            self._live -= 1

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = self._loop.time()
        heap = self._heap
        while heap and (heap[0][2].task is None or heap[0][0] <= now):
            _, _, entry = heapq.heappop(heap)
            if entry.task is not None:
                entry.expired = True
                entry.task.cancel()
                self.remove(entry)
        if heap:
            self._arm(heap[0][0])


LOOP_ATTRIBUTE = "_orchestrator_deadlines"


class deadline:  # used like `asyncio.timeout`, so named like it
    """Bounds the enclosed block to `seconds` of wall time (see the module's docstring)."""

    __slots__ = ("_cancelling", "_entry", "_owner", "_seconds", "_task")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("deadline() must be used inside a task")
        self._owner = loop_local(LOOP_ATTRIBUTE, _Deadlines)
        self._task = task
        self._cancelling = task.cancelling()
        self._entry = _Entry(self._owner.now() + self._seconds, task)
        self._owner.add(self._entry)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._owner.remove(self._entry)
        # Our cancellation, and no other since the block began: it is the timeout.
        if (
            self._entry.expired
            and self._task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimeoutError from exc
