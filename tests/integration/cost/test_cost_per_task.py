"""Cost per task: every model call of a run, the planner's and each worker agent's, attributed to
a task (or to planning), with its cost; totals per task, worker and round that add up to what
the model server saw; and `orchestrator show` printing them.

The research domain's LLM planner and its three ReAct agents run for real, over real HTTP to the
scripted loopback model, the planner on one priced model and the agents on another.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from domains.research import research_domain
from domains.research.demo import DEMO_PLAN, DEMO_REQUEST
from domains.research.offline import ResearchModel, research_model
from graph.builder import build_graph
from graph.persistence import open_checkpointer
from orchestrator.cli import main
from orchestrator.context import Context
from orchestrator.llm.usage import cost_usd
from orchestrator.report.cost import cost_breakdown
from orchestrator.runner import drive, run_config

THREAD = "research-cost"
PLANNER_MODEL = "gpt-4o-mini"
WORKER_MODEL = "gpt-4.1-nano"
GRAPH = "domains.research:research_domain"
WORKERS = ("search", "read", "write")

Finished = tuple[dict[str, Any], ResearchModel, Path]


async def research(server: ResearchModel, store: Path) -> dict[str, Any]:
    context = Context(
        planner="llm",
        base_url=server.base_url,
        planner_model=PLANNER_MODEL,
        worker_model=WORKER_MODEL,
        request_retries=0,
        request_timeout_s=10,
        approval="auto",
    )
    async with open_checkpointer(str(store)) as saver:
        outcome = await drive(
            build_graph(research_domain(), checkpointer=saver),
            {"goal": DEMO_REQUEST["question"], "request": DEMO_REQUEST},
            config=run_config(THREAD, context),
            context=context,
        )
    return outcome.values


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """One research run (planner and agents on the scripted model), kept in a SQLite file."""
    store = tmp_path_factory.mktemp("cost") / "runs.sqlite"
    with research_model(*DEMO_PLAN) as server:
        values = asyncio.run(research(server, store))
    assert server.errors == [] and server.left == 0
    assert values["status"] == "completed", values["reason"]
    return values, server, store


def test_every_call_is_attributed_and_the_totals_are_what_the_server_saw(
    finished: Finished,
) -> None:
    values, server, _ = finished
    cost = cost_breakdown(values["usage"])

    assert cost.total.calls == server.calls
    assert cost.total.prompt_tokens == server.prompt_tokens
    assert cost.total.completion_tokens == server.completion_tokens
    # Each breakdown is a partition of the same calls.
    for part in (cost.by_task, cost.by_worker, cost.by_round):
        assert sum(t.calls for t in part.values()) == server.calls
        assert sum(t.tokens for t in part.values()) == cost.total.tokens
    # The agents' calls went to the workers' model, the planner's to its own.
    by_model = {m: sum(1 for r in server.requests if r["model"] == m) for m in (PLANNER_MODEL,)}
    assert cost.by_worker["(planning)"].calls == by_model[PLANNER_MODEL] == len(DEMO_PLAN)
    workers = {k: v for k, v in cost.by_worker.items() if k != "(planning)"}
    assert set(workers) == set(WORKERS)
    assert sum(t.calls for t in workers.values()) == server.agent_calls
    assert {r["model"] for r in server.requests} == {PLANNER_MODEL, WORKER_MODEL}


def test_each_worker_task_has_its_own_tokens_and_cost(
    finished: Finished,
) -> None:
    values, _, _ = finished
    cost = cost_breakdown(values["usage"])
    worker_tasks = [t for t in values["tasks"].values() if t["worker"] in WORKERS]
    assert len(worker_tasks) >= 6
    for task in worker_tasks:
        mine = cost.by_task[task["id"]]
        assert mine.calls >= 2, task["id"]  # an agent: a tool call, then its answer
        # The same calls as the agent adapter measured on its own, from its output.
        result = values["results"][task["result_ref"]]
        (measured,) = result["output"]["usage"]
        assert (mine.calls, mine.prompt_tokens, mine.completion_tokens) == (
            measured["calls"],
            measured["prompt_tokens"],
            measured["completion_tokens"],
        )
        assert mine.cost_usd == cost_usd(WORKER_MODEL, mine.prompt_tokens, mine.completion_tokens)
        records = [u for u in values["usage"] if u.get("task_id") == task["id"]]
        assert {(u["worker"], u["round"], u["model"]) for u in records} == {
            (task["worker"], task["round"], WORKER_MODEL)
        }
    planning = cost.by_task["(planning)"]
    assert planning.cost_usd == pytest.approx(
        cost_usd(PLANNER_MODEL, planning.prompt_tokens, planning.completion_tokens)
    )


def test_show_prints_the_totals_per_worker_round_and_task(
    finished: Finished,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    values, server, store = finished
    where = ["--graph", GRAPH, "--checkpointer", str(store), "--data-dir", str(tmp_path)]
    cost = cost_breakdown(values["usage"])

    assert main(["show", THREAD, *where]) == 0
    out = capsys.readouterr().out
    assert "Model usage (per worker, round and task)" in out
    for worker in (*WORKERS, "(planning)"):
        t = cost.by_worker[worker]
        assert re.search(rf"worker\s+{re.escape(worker)}\s+{t.calls}\s.*\s{t.tokens:,}\s", out)
    total = server.prompt_tokens + server.completion_tokens
    assert re.search(rf"run\s+total\s+{server.calls}\s.*\s{total:,}\s+\$", out)

    assert main(["show", THREAD, *where, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cost"]["total"]["total_tokens"] == total
    assert report["cost"]["by_task"]["write-1"] == cost.by_task["write-1"].as_dict()
    assert set(report["cost"]["by_round"]) == {str(r) for r in cost.by_round}
