"""The board index (open tasks, failures by signature) is kept from the writes, never drifts
from a scan of the board, and is rebuilt when the board was written without it."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.runtime import Runtime

import graph.builder as builder
from nodes.orchestrate import make_orchestrate
from orchestrator import board
from orchestrator.context import Context
from orchestrator.planning import PlanUpdate, PlanView
from state import GrowingDeltaChannel, merge_by_id, merge_index
from tests.unit.core.support import NOTHING, add, harness, sleep


def _same_as_a_scan(values: dict[str, Any]) -> None:
    scanned = board.build_index(values["tasks"])
    kept = values["board_index"]
    assert kept["size"] == scanned["size"]
    assert kept["open"] == scanned["open"]
    assert (kept.get("failed") or {}) == scanned["failed"]


async def test_the_index_matches_a_scan_after_failures_retries_and_cancels() -> None:
    def script(view: PlanView) -> PlanUpdate:
        tasks = view.tasks
        if not tasks:
            return add(
                sleep("ok", 0),
                sleep("bad", 0, fail=True),
                sleep("later", 0, deps=["bad"]),
                sleep("drop", 0, deps=["bad"]),
            )
        if tasks["bad"]["status"] == "failed" and tasks["bad"]["failures"] == 1:
            return PlanUpdate(retry=["bad"], cancel=["drop"])
        if tasks["bad"]["status"] == "failed" and "again" not in tasks:
            return add(sleep("again", 0, fail=True))
        return NOTHING

    h = harness(script, then=None, checkpointer=InMemorySaver())
    await h.run(context=Context(max_identical_failures=5))
    values = await h.values()
    _same_as_a_scan(values)
    assert values["board_index"]["failed"]  # `bad` failed twice, `again` once
    assert values["tasks"]["drop"]["status"] == "cancelled"


async def test_a_board_without_the_index_gets_it_rebuilt_by_the_next_round() -> None:
    tasks = {
        "t1": board.new_task(sleep("t1", 0), 1),
        "t2": {**board.new_task(sleep("t2", 0), 1), "status": "failed", "failures": 1},
    }
    h = harness([NOTHING])
    node = make_orchestrate(h.domain)
    state: Any = {"goal": "g", "tasks": tasks, "results": {}, "round": 1, "status": "running"}
    update = await node(state, runtime=Runtime(context=Context()))
    written = update["board_index"]
    assert written["size"] == 2
    assert written["open"]["t1"] == 0  # t1 was dispatched: running, still open
    assert sum(written["failed"].values()) == 1
    # Tasks written behind the orchestrator's back (a size the index does not know): rebuilt.
    state["board_index"] = {"size": 1, "open": {}, "failed": {}}
    update = await node(state, runtime=Runtime(context=Context()))
    assert update["board_index"]["size"] == 2


def test_the_index_reducer_gives_the_same_index_however_writes_are_batched() -> None:
    writes = [
        {"size": 2, "open": {"a": 0, "b": 1}},
        {"size": 3, "open": {"a": None, "c": 2}, "failed": {"s": 1}},
        {"size": 3, "open": {"b": None}, "failed": {"s": 2, "t": 1}},
    ]
    one_by_one: Any = {}
    for write in writes:
        one_by_one = merge_index(one_by_one, [write])
    assert merge_index({}, writes) == one_by_one
    assert one_by_one == {"size": 3, "open": {"c": 2}, "failed": {"s": 2, "t": 1}}
    assert merge_index(merge_index({}, writes[:1]), writes[1:]) == one_by_one


def test_board_snapshots_come_at_doublings_and_copies_share_the_value() -> None:
    channel = GrowingDeltaChannel(merge_by_id, dict, snapshot_frequency=50)
    assert channel.snapshot_frequency == 50
    for n in range(300):  # 10 new entries per update
        channel.update([{f"t{n}-{i}": i for i in range(10)}])
    # 3,000 entries growing by 10 per update: about doubled after 150 more updates.
    assert channel.snapshot_frequency == 150
    copy = channel.copy()
    assert copy.get() is channel.get()
    copy.update([{"new": 1}])
    assert "new" not in channel.get()  # the reducer never mutates what it was given
    capped = GrowingDeltaChannel(merge_by_id, dict, snapshot_frequency=50).from_checkpoint(
        {"same": -1}
    )
    assert capped.snapshot_frequency == 50
    for n in range(10):
        capped.update([{"same": n}])  # no growth: a snapshot only at the cap
    assert capped.snapshot_frequency == GrowingDeltaChannel.MAX_UPDATES_BETWEEN_SNAPSHOTS


def test_gc_tuning_freezes_once_and_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    threshold = gc.get_threshold()
    try:
        monkeypatch.setattr(builder, "_gc_tuned", False)
        monkeypatch.setenv(builder.GC_ENV, "0")
        assert builder.tune_gc() is False
        monkeypatch.delenv(builder.GC_ENV)
        assert builder.tune_gc() is True
        assert gc.get_threshold()[0] >= builder.GC_GEN0_THRESHOLD
        assert gc.get_freeze_count() > 0
        assert builder.tune_gc() is False  # once per process
    finally:
        gc.set_threshold(*threshold)
