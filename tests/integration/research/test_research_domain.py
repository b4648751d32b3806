"""The research domain end to end: prebuilt ReAct agents as workers, over real HTTP to the
scripted loopback model, planned by the rules planner and by the LLM planner, checked by the
citation verifier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from domains.research import research_domain
from domains.research.corpus import load_corpus
from domains.research.demo import DEMO_PLAN, DEMO_REQUEST
from domains.research.offline import ResearchModel, research_model
from graph.builder import build_graph
from orchestrator.context import Context
from orchestrator.runner import drive, run_config

ROOT = Path(__file__).resolve().parents[3]


async def run(server: ResearchModel, planner: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    context = Context(
        planner=planner,  # type: ignore[arg-type]
        base_url=server.base_url,
        planner_model="scripted",
        request_retries=0,
        request_timeout_s=10,
        approval="auto",
    )
    events: list[dict[str, Any]] = []
    graph = build_graph(research_domain(), checkpointer=InMemorySaver())
    outcome = await drive(
        graph,
        {"goal": DEMO_REQUEST["question"], "request": DEMO_REQUEST},
        config=run_config("research", context),
        context=context,
        on_event=events.append,
    )
    return outcome.values, events


def dispatched_by_round(events: list[dict[str, Any]]) -> list[list[str]]:
    rounds: list[list[str]] = []
    for event in events:
        if event["event"] == "round_started":
            rounds.append([])
        elif event["event"] == "task_dispatched":
            rounds[-1].append(event["task_id"])
    return [r for r in rounds if r]


def outputs(values: dict[str, Any], worker: str) -> list[dict[str, Any]]:
    return [
        values["results"][t["result_ref"]]["output"]
        for t in values["tasks"].values()
        if t["worker"] == worker and t["status"] == "done"
    ]


async def test_the_rules_planner_runs_agents_in_parallel_follows_links_and_cites() -> None:
    with research_model() as server:
        values, events = await run(server, "rules")

    assert server.errors == [] and server.left == 0
    assert values["status"] == "completed", values["reason"]
    rounds = dispatched_by_round(events)
    assert rounds[0] == ["search-1", "search-2"]  # both searches in one superstep
    assert len(rounds[1]) == 4 and all(t.startswith("read-") for t in rounds[1])
    # Re-planned from findings: documents the first readings referred to.
    followed = [t for t in values["tasks"].values() if t["reason"].startswith("a relevant")]
    assert rounds[2] == [t["id"] for t in followed] and len(followed) == 2
    assert rounds[3] == ["write-1"]
    read = {t["inputs"]["doc_id"] for t in values["tasks"].values() if t["worker"] == "read"}
    (report,) = outputs(values, "write")
    corpus = load_corpus()
    for claim in report["claims"]:
        for citation in claim["citations"]:
            assert citation["doc_id"] in read
            assert corpus.documents[citation["doc_id"]].contains(citation["quote"])
    answer = values["answer"]
    assert "[1]" in answer["summary"] and "Sources:" in answer["summary"]
    assert answer["data"]["sources"]
    # Every agent reported its own token usage on its output; the planner made no model call.
    for worker in ("search", "read", "write"):
        for output in outputs(values, worker):
            (usage,) = output["usage"]
            assert usage["model"] == "scripted" and usage["calls"] >= 3
            assert usage["prompt_tokens"] > 0
    assert [u for u in values["usage"] if u["role"] == "planner"] == []
    agent_calls = sum(
        u["calls"]
        for w in ("search", "read", "write")
        for o in outputs(values, w)
        for u in o["usage"]
    )
    assert agent_calls == server.agent_calls == server.calls
    # The run's own records attribute the same calls to their tasks (tests/integration/cost).
    assert sum(u.get("calls", 1) for u in values["usage"]) == server.calls


async def test_the_llm_planner_plans_the_same_agents_and_sees_what_was_found() -> None:
    with research_model(*DEMO_PLAN) as server:
        values, events = await run(server, "llm")

    assert server.errors == [] and server.left == 0
    assert values["status"] == "completed", values["reason"]
    planning = [
        r
        for r in server.requests
        if any(t["function"]["name"] == "PlanUpdate" for t in r.get("tools") or [])
    ]
    assert len(planning) == len(DEMO_PLAN)
    third = "\n".join(str(m.get("content")) for m in planning[2]["messages"])
    assert "documents_read" in third and "kelp-collapse-1987" in third
    assert len([u for u in values["usage"] if u["role"] == "planner"]) == len(DEMO_PLAN)
    assert dispatched_by_round(events)[1] == [
        f"read-{d}" for d in DEMO_PLAN[2]["add"][0]["inputs"]["doc_ids"]
    ]


@pytest.mark.slow
def test_make_research_runs_offline_and_prints_a_cited_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "domains.research"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ORCHESTRATOR_HOME": str(tmp_path),
            "LANGSMITH_TRACING": "false",
        },
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Status: completed")
    assert "Sources:" in done.stdout and "offline: the scripted model" in done.stderr
    assert json.dumps(done.stdout)  # printable
