"""The task board: a map from task id to task that records what ran, when and how it went."""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

from tests.unit.core.support import add, harness, sleep


async def test_each_task_records_worker_inputs_dependencies_status_attempts_and_result(
    memory_saver: InMemorySaver,
) -> None:
    h = harness(
        [add(sleep("a", 20), sleep("b", 10, deps=["a"], payload="hi"))], checkpointer=memory_saver
    )

    await h.run()
    values = await h.values()
    tasks, results = values["tasks"], values["results"]

    assert set(tasks) == {"a", "b"}
    b = tasks["b"]
    assert b["id"] == "b"
    assert b["worker"] == "sleep"
    # Inputs are stored as the worker's schema normalized them (defaults filled in).
    assert b["inputs"] == {"ms": 10, "fail": False, "crash_times": 0, "payload": "hi"}
    assert b["depends_on"] == ["a"]
    assert b["status"] == "done"
    assert b["attempts"] == 1
    assert b["failures"] == 0
    assert b["round"] == 1
    assert b["result_ref"] == "b#1"
    assert results["b#1"]["ok"] is True
    assert results["b#1"]["output"] == {"task_id": "b", "slept_ms": 10, "call": 1, "payload": "hi"}
    for t in tasks.values():
        assert isinstance(t["started_at"], float)
        assert isinstance(t["ended_at"], float)
        assert t["started_at"] <= t["ended_at"]
    # a slept 20 ms: its recorded timing is the worker's, not the dispatch time.
    assert tasks["a"]["ended_at"] - tasks["a"]["started_at"] >= 0.015


async def test_failed_task_records_its_failure_and_error(memory_saver: InMemorySaver) -> None:
    h = harness([add(sleep("bad", 0, fail=True))], checkpointer=memory_saver)

    await h.run()
    bad = (await h.values())["tasks"]["bad"]

    assert bad["status"] == "failed"
    assert bad["attempts"] == 1
    assert bad["failures"] == 1
    assert bad["result_ref"] == "bad#1"
    assert bad["error"] == "bad failed as asked"


async def test_board_is_keyed_by_task_id_across_rounds(memory_saver: InMemorySaver) -> None:
    h = harness([add(sleep("a")), add(sleep("b")), add(sleep("c"))], checkpointer=memory_saver)

    await h.run()
    tasks = (await h.values())["tasks"]

    assert list(tasks) == ["a", "b", "c"]
    assert [tasks[i]["round"] for i in "abc"] == [1, 2, 3]
    assert all(t["status"] == "done" for t in tasks.values())


async def test_a_task_never_starts_before_its_dependencies_ended() -> None:
    h = harness(
        [
            add(
                sleep("c", 10, deps=["b"]),
                sleep("b", 30, deps=["a"]),
                sleep("a", 30),
                sleep("d", 10, deps=["a", "b"]),
            )
        ]
    )

    out = await h.run()

    assert out["status"] == "completed"
    log = h.domain.call_log
    (a,), (b,), (c,), (d,) = log.of("a"), log.of("b"), log.of("c"), log.of("d")
    assert a.ended is not None and b.ended is not None
    assert b.started >= a.ended
    assert c.started >= b.ended
    assert d.started >= max(a.ended, b.ended)
    assert [r.task_id for r in log.records] == ["a", "b", "c", "d"]


async def test_a_task_whose_dependency_failed_never_runs() -> None:
    h = harness([add(sleep("a", 0, fail=True), sleep("b", 0, deps=["a"]))])

    out = await h.run()

    assert h.calls == {"a": 1}
    assert out["status"] == "failed"  # nothing was achieved
    assert out["reason"] == "nothing was achieved: 0 done, 1 failed, 0 cancelled"
