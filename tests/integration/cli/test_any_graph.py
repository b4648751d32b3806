"""`--graph`: the CLI reads and runs threads of any graph built on the engine, not only travel."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import pytest

from orchestrator.cli import main

DOMAIN = textwrap.dedent(
    """
    from domains.synthetic import ScriptedPlanner, synthetic_domain
    from orchestrator.planning import Finish, NewTask, PlanUpdate


    def plan(view):
        if not view.tasks:
            return PlanUpdate(add=[NewTask(id="nap", worker="sleep", inputs={"ms": 1})])
        return PlanUpdate(finish=Finish(status="completed", reason="napped"))


    domain = synthetic_domain(ScriptedPlanner(plan))
    """
)


def _run_thread(module: Path, store: Path) -> None:
    async def go() -> None:
        from graph import build_graph, open_checkpointer
        from orchestrator.cli.graphs import _import
        from orchestrator.context import Context

        domain = _import(f"{module}:domain")
        async with open_checkpointer(str(store)) as saver:
            graph = build_graph(domain, checkpointer=saver)
            config = {"configurable": {"thread_id": "nap-1"}}
            out = await graph.ainvoke({"goal": "take a nap"}, config, context=Context())
            assert out["status"] == "completed"

    asyncio.run(go())


def test_show_history_and_runs_read_another_domains_thread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "napping.py"
    module.write_text(DOMAIN)
    store = tmp_path / "runs.sqlite"
    _run_thread(module, store)
    where = ["--checkpointer", str(store), "--data-dir", str(tmp_path / "data")]
    graph = ["--graph", f"{module}:domain"]

    assert main(["show", "nap-1", *graph, *where, "--format", "json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["status"] == "completed"
    assert [t["id"] for t in report["tasks"]] == ["nap"]
    assert "Ignoring unknown node name" not in out.err

    assert main(["history", "nap-1", *graph, *where, "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert any("sleep" in e["ran"] for e in entries)
    assert not any(e["ran"] == ["(loop)"] for e in entries)

    assert main(["runs", *graph, *where, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["thread_id"] == "nap-1" and row["status"] == "completed"


def test_a_graph_that_cannot_be_found_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "napping.py"
    module.write_text(DOMAIN)
    store = tmp_path / "runs.sqlite"
    _run_thread(module, store)
    where = ["--checkpointer", str(store), "--data-dir", str(tmp_path)]
    assert main(["history", "nap-1", "--graph", "nowhere", *where]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --graph 'nowhere' is not a graph of langgraph.json")
    assert err.count("\n") == 1
    assert main(["history", "nap-1", "--graph", "no_such_module:x", *where]) == 2
    assert "cannot import no_such_module" in capsys.readouterr().err
