"""Pure operations on the task board, composed by the orchestrator node and tested directly.

Every function returns only the tasks it changed, keyed by id, ready to be written to the
`tasks` channel (whose reducer merges by id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from orchestrator.planning import NewTask
from state import TERMINAL_TASK_STATUSES, BoardIndex, Task, TaskResult, WorkerPayload


def result_key(task_id: str, attempt: int) -> str:
    """Where a task attempt's result is stored in `results`: every attempt keeps its own entry."""
    return f"{task_id}#{attempt}"


def new_task(spec: NewTask, round_no: int, inputs: dict[str, Any] | None = None) -> Task:
    """A pending task from the planner's `spec`, with `inputs` in place of its own if given."""
    return Task(
        id=spec.id,
        worker=spec.worker,
        inputs=spec.inputs if inputs is None else inputs,
        depends_on=list(spec.depends_on),
        status="pending",
        attempts=0,
        failures=0,
        round=round_no,
        reason=spec.reason,
        result_ref=None,
        started_at=None,
        ended_at=None,
        error=None,
    )


def fold_results(
    tasks: Mapping[str, Task],
    results: Mapping[str, TaskResult],
    ids: Iterable[str] | None = None,
) -> dict[str, Task]:
    """Marks each running task done or failed from the result of its latest attempt.

    `ids`: the tasks that may be running (the board index's open tasks); the whole board if None.
    """
    changed: dict[str, Task] = {}
    for task in tasks.values() if ids is None else (tasks[i] for i in ids):
        if task["status"] != "running":
            continue
        key = result_key(task["id"], task["attempts"])
        result = results.get(key)
        if result is None:
            if task["depends_on"]:
                # A lane step that did not start: what it waited for did not succeed, or the
                # run's deadline had passed by then (`nodes.lanes`). Pending again, for the
                # planner and the guards to decide.
                changed[task["id"]] = {
                    **task,
                    "status": "pending",
                    "attempts": task["attempts"] - 1,
                    "started_at": None,
                }
                continue
            # Only possible if a worker vanished without a result or an error: never silent.
            changed[task["id"]] = {
                **task,
                "status": "failed",
                "failures": task["failures"] + 1,
                "error": "the worker returned no result",
            }
            continue
        changed[task["id"]] = {
            **task,
            "status": "done" if result["ok"] else "failed",
            "failures": task["failures"] + (0 if result["ok"] else 1),
            "result_ref": key,
            "started_at": result["started_at"],
            "ended_at": result["ended_at"],
            "error": result["error"],
        }
        if "inputs" in result:
            # References filled in as the task ran (a lane): the board shows the values used.
            changed[task["id"]]["inputs"] = result["inputs"]
    return changed


def apply_plan(
    tasks: Mapping[str, Task],
    add: Iterable[NewTask],
    cancel: Iterable[str],
    retry: Iterable[str],
    round_no: int,
    inputs: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Task]:
    """Adds, cancels and re-queues tasks. Assumes the update was validated.

    `inputs`: the new tasks' normalized inputs by id (from validation), used over their own.
    """
    normalized = inputs or {}
    changed: dict[str, Task] = {}
    for spec in add:
        changed[spec.id] = new_task(spec, round_no, normalized.get(spec.id))
    for task_id in retry:
        changed[task_id] = {**tasks[task_id], "status": "pending", "error": None}
    for task_id in cancel:
        base = changed.get(task_id) or tasks[task_id]
        changed[task_id] = {**base, "status": "cancelled"}
    return changed


def ready_tasks(tasks: Mapping[str, Task], ids: Iterable[str] | None = None) -> list[Task]:
    """Pending tasks whose dependencies are all done, in insertion order.

    `ids`: the candidates in board order (the board index's open tasks); the whole board if None.
    """
    return [
        task
        for task in (tasks.values() if ids is None else (tasks[i] for i in ids))
        if task["status"] == "pending"
        and all(tasks[dep]["status"] == "done" for dep in task["depends_on"] if dep in tasks)
    ]


def blocked_tasks(tasks: Mapping[str, Task]) -> list[Task]:
    """Pending tasks that wait on a failed or cancelled dependency and so cannot run."""
    return [
        task
        for task in tasks.values()
        if task["status"] == "pending"
        and any(tasks[dep]["status"] in ("failed", "cancelled") for dep in task["depends_on"])
    ]


def payload(
    task: Task,
    *,
    scope: str,
    round_no: int,
    run_id: str = "",
    after: list[str] | None = None,
    not_after: float | None = None,
) -> WorkerPayload:
    """What a worker receives for one attempt of `task` (after `mark_dispatched`).

    `after`: tasks of the same dispatch it must wait for (it then runs in a lane), and
    `not_after`: the wall-clock time past which it must not start (the run's deadline)."""
    out = WorkerPayload(
        task_id=task["id"],
        worker=task["worker"],
        inputs=task["inputs"],
        attempt=task["attempts"],
        scope=scope,
        run_id=run_id,
        round=round_no,
    )
    if after:
        out["after"] = after
        if not_after is not None:
            out["not_after"] = not_after
    return out


def mark_dispatched(batch: Iterable[Task], now: float) -> dict[str, Task]:
    return {
        task["id"]: {
            **task,
            "status": "running",
            "attempts": task["attempts"] + 1,
            "started_at": now,
            "ended_at": None,
        }
        for task in batch
    }


def counts(tasks: Mapping[str, Task]) -> dict[str, int]:
    out = {"pending": 0, "running": 0, "done": 0, "failed": 0, "cancelled": 0}
    for task in tasks.values():
        out[task["status"]] += 1
    return out


def with_dependents(
    dropped: Iterable[str], items: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """Every item to drop: those asked, plus (transitively) those whose `requires` names one.

    Returns task id -> the dropped task it follows from ('' for those dropped as asked). A
    hotel whose nights follow from a flight makes no sense once that flight is dropped."""
    out = {task_id: "" for task_id in dropped}
    grew = True
    while grew:
        grew = False
        for task_id, item in items.items():
            needs = item.get("requires") or []
            cause = next((n for n in needs if n in out), None)
            if task_id not in out and cause is not None:
                out[task_id] = cause
                grew = True
    return out


class Board(Mapping[str, Task]):
    """The board as a round sees it: the state's tasks with this round's changes on top.

    A round used to copy the whole board (0.1 ms at 10,000 tasks) to change a few entries; this
    view reads through to the state's mapping, never copies or mutates it, and keeps `len`
    and lookups O(1).
    """

    __slots__ = ("_added", "_base", "_changes")

    def __init__(self, base: Mapping[str, Task]) -> None:
        self._base = base
        self._changes: dict[str, Task] = {}
        self._added: list[str] = []
        """Ids not in `base`, in the order they were added (the board's own order)."""

    def __getitem__(self, key: str) -> Task:
        try:
            return self._changes[key]
        except KeyError:
            return self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._changes or key in self._base

    def __len__(self) -> int:
        return len(self._base) + len(self._added)

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from self._added

    def update(self, tasks: Mapping[str, Task]) -> None:
        for task_id, task in tasks.items():
            if task_id not in self._changes and task_id not in self._base:
                self._added.append(task_id)
            self._changes[task_id] = task

    def position(self, task_id: str) -> int:
        """Where `task_id` sits in the board's order (a scan: only for a task re-opened)."""
        for n, key in enumerate(self):
            if key == task_id:
                return n
        raise KeyError(task_id)


def build_index(tasks: Mapping[str, Task]) -> BoardIndex:
    """The board index from a scan: for a thread written before the index, or by another
    writer that added tasks behind the orchestrator's back."""
    from orchestrator.validation import task_signature

    open_: dict[str, int] = {}
    failed: dict[str, int] = {}
    for n, task in enumerate(tasks.values()):
        if task["status"] not in TERMINAL_TASK_STATUSES:
            open_[task["id"]] = n
        if task["failures"]:
            sig = task_signature(task["worker"], task["inputs"])
            failed[sig] = failed.get(sig, 0) + task["failures"]
    return BoardIndex(size=len(tasks), open=open_, failed=failed)


class IndexKeeper:
    """Keeps the board index in step with a round's changes, and records the delta to write.

    The index holds the open (pending or running) tasks with their board positions, and the
    failed attempts per work signature; a round reads them instead of scanning the board, so its
    cost follows what changed, not how big the board is.
    """

    __slots__ = ("board", "failed", "failed_delta", "open", "open_delta", "rebuilt", "size")

    def __init__(self, board: Board, index: BoardIndex | None) -> None:
        self.board = board
        self.rebuilt = index is None or index.get("size") != len(board)
        if self.rebuilt:
            index = build_index(board)
        assert index is not None
        self.size = -1 if self.rebuilt else len(board)
        self.open: dict[str, int] = dict(index.get("open") or {})
        self.failed: Mapping[str, int] = index.get("failed") or {}
        self.open_delta: dict[str, int | None] = dict(self.open) if self.rebuilt else {}
        self.failed_delta: dict[str, int] = dict(self.failed) if self.rebuilt else {}
        # Tasks another writer closed (an approval that dropped them) leave the index here.
        for task_id in [i for i in self.open if board[i]["status"] in TERMINAL_TASK_STATUSES]:
            del self.open[task_id]
            self.open_delta[task_id] = None

    def apply(self, changed: Mapping[str, Task]) -> None:
        """Applies `changed` to the board, keeping the index in step."""
        from orchestrator.validation import task_signature

        board = self.board
        for task_id, task in changed.items():
            before = board.get(task_id)
            more = task["failures"] - (before["failures"] if before is not None else 0)
            if more:
                sig = task_signature(task["worker"], task["inputs"])
                count = self.failed.get(sig, 0) + more
                # The state's mapping is never mutated: a copy, once a round changes it.
                self.failed = {**self.failed, sig: count}
                self.failed_delta[sig] = count
            if task["status"] in TERMINAL_TASK_STATUSES:
                if task_id in self.open:
                    del self.open[task_id]
                    self.open_delta[task_id] = None
            elif task_id not in self.open:
                at = len(board) if before is None else board.position(task_id)
                board.update({task_id: task})
                self.open[task_id] = self.open_delta[task_id] = at
                continue
            board.update({task_id: task})

    def open_ids(self) -> list[str]:
        """The open tasks in board order."""
        return sorted(self.open, key=self.open.__getitem__)

    def full(self) -> BoardIndex:
        """The whole index as it now stands (for a write that replaces the channel)."""
        return BoardIndex(size=len(self.board), open=dict(self.open), failed=dict(self.failed))

    def delta(self) -> BoardIndex | None:
        """What to write to the index channel, or None when nothing changed."""
        size = len(self.board)
        if size == self.size and not (self.open_delta or self.failed_delta):
            return None
        out = BoardIndex(size=size, open=self.open_delta)  # type: ignore[typeddict-item]
        if self.failed_delta:
            out["failed"] = self.failed_delta
        return out


def lane_followers(
    tasks: Mapping[str, Task],
    open_ids: Iterable[str],
    batch: Iterable[Task],
    runs_in_lane: Callable[[Task], bool],
) -> list[Task]:
    """Pending tasks that can start, within this dispatch, once tasks of `batch` (or of each
    other) succeed: every dependency done or among them, and `runs_in_lane` (no side effect).

    In board order. A dependency that fails leaves its followers pending (`fold_results`)."""
    coming = {t["id"] for t in batch}
    candidates = [
        t
        for t in (tasks[i] for i in open_ids)
        if t["status"] == "pending" and t["id"] not in coming and t["depends_on"]
    ]
    chosen: list[Task] = []
    grew = True
    while grew and candidates:
        grew = False
        rest = []
        for task in candidates:
            deps = [d for d in task["depends_on"] if d in tasks]
            if (
                any(d in coming for d in deps)
                and all(d in coming or tasks[d]["status"] == "done" for d in deps)
                and runs_in_lane(task)
            ):
                coming.add(task["id"])
                chosen.append(task)
                grew = True
            else:
                rest.append(task)
        candidates = rest
    return chosen


def lanes_of(
    payloads: list[WorkerPayload],
) -> tuple[list[WorkerPayload], list[list[WorkerPayload]]]:
    """Splits a dispatch into tasks that run alone and lanes: groups of tasks connected by
    `after`, each in dispatch order."""
    parent: dict[str, str] = {p["task_id"]: p["task_id"] for p in payloads}

    def root(task_id: str) -> str:
        while parent[task_id] != task_id:
            parent[task_id] = parent[parent[task_id]]
            task_id = parent[task_id]
        return task_id

    linked = False
    for p in payloads:
        for dep in p.get("after") or []:
            if dep in parent:
                linked = True
                parent[root(p["task_id"])] = root(dep)
    if not linked:
        return payloads, []
    groups: dict[str, list[WorkerPayload]] = {}
    for p in payloads:
        groups.setdefault(root(p["task_id"]), []).append(p)
    alone = [g[0] for g in groups.values() if len(g) == 1]
    return alone, [g for g in groups.values() if len(g) > 1]
