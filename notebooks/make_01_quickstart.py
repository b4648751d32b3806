"""Writes `01_quickstart.ipynb`, without outputs: `python notebooks/make_01_quickstart.py`.

The notebook is generated so that it stays reviewable as code: edit this file, not the notebook,
and run it again. Cell ids are fixed, so every run writes the same file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

# The shared writer sits beside these scripts, which run as files, not as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _build

NOTEBOOK = Path(__file__).with_name("01_quickstart.ipynb")

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """\
# Quickstart: the orchestrator from Python

The orchestrator turns a goal into tasks, sends each task to a worker, reads what comes back and
plans again until the goal is met. This notebook drives it from Python:

1. build the compiled graph with a checkpointer;
2. run a trip and **stream** its progress events;
3. **inspect** the final state: status, task board, answer;
4. read the run's **history**, checkpoint by checkpoint;
5. get the run's **report**: rounds, timeline, critical path;
6. pause before the bookings and **resume** with an approval.

Everything runs **offline**: the travel domain books from an embedded inventory database and
plans with a deterministic rules planner. No API key, no network.""",
    ),
    (
        "code",
        """\
import os
import tempfile
from datetime import timedelta

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from domains.travel.domain import travel_domain
from domains.travel.models import Leg, TripRequest
from domains.travel.services import inventory_at
from graph import build_graph
from orchestrator.context import Context

# The inventory (airports, flights, hotels, cars) is built on first use, in a few seconds.
# ORCHESTRATOR_HOME reuses one you already have (the CLI keeps its own there).
data_dir = os.environ.get("ORCHESTRATOR_HOME") or tempfile.mkdtemp(prefix="quickstart-")
first_day, last_day = inventory_at(data_dir).window()
print(f"inventory in {data_dir}: bookable from {first_day} to {last_day}")""",
    ),
    (
        "md",
        """\
## 1. The graph

`build_graph(domain, checkpointer=...)` compiles the orchestrator for a domain: here travel.
The checkpointer stores every step, which is what makes history, resume and approvals work;
`InMemorySaver` keeps it in this process, an SQLite file or PostgreSQL keep it on disk
(`graph.open_checkpointer(path_or_uri)`).

Run settings live in a `Context`: the planner (`rules` is the offline one), limits, and the
approval mode (`auto` here: no pause before bookings).""",
    ),
    (
        "code",
        """\
graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
context = Context(data_dir=data_dir, planner="rules", approval="auto")
config = {"configurable": {"thread_id": "quickstart-1"}}

start = first_day + timedelta(days=30)
trip = TripRequest(
    legs=[
        Leg(origin="SFO", destination="CDG", date=start),
        Leg(origin="CDG", destination="SFO", date=start + timedelta(days=5)),
    ],
    travelers=2,
    budget=6000,
    car=True,
)
inputs = {"goal": trip.goal(), "request": trip.model_dump(mode="json")}
print(inputs["goal"])
print("nodes:", [n for n in graph.nodes if not n.startswith("__")])""",
    ),
    (
        "md",
        """\
## 2. Stream the progress events

The orchestrator and the workers emit custom stream events (`stream_mode="custom"`): a round
started, the plan changed (with the reasons), a task was dispatched, a task is done or failed
(with its duration), approval is needed, the run finished. The CLI draws its live view from
them, and LangGraph Studio and the SDK see the same events.""",
    ),
    (
        "code",
        """\
SHOWN = ("round", "task_id", "worker", "seconds", "reasons", "status", "reason")

async for event in graph.astream(inputs, config, context=context, stream_mode="custom"):
    details = {k: v for k, v in event.items() if k in SHOWN and v not in (None, [], "")}
    print(f"{event['event']:<16} {details}")""",
    ),
    (
        "md",
        """\
## 3. Inspect the state

The checkpointer holds the final state: the status and its reason, the **task board** (a
mapping from task id to task: worker, inputs, dependencies, status, attempts, timings), every
worker result, the decision log, and the synthesized answer.""",
    ),
    (
        "code",
        """\
snapshot = await graph.aget_state(config)
values = snapshot.values
print(f"status: {values['status']} - {values['reason']}")
print(f"{values['round']} rounds, {len(values['tasks'])} tasks\\n")
for task in values["tasks"].values():
    took = ""
    if task["started_at"] is not None and task["ended_at"] is not None:
        took = f"{(task['ended_at'] - task['started_at']) * 1000:5.0f} ms"
    row = f"{task['id']:<16} {task['worker']:<15} {task['status']:<9}"
    print(f"  round {task['round']}  {row} {took}")""",
    ),
    (
        "code",
        """\
print(values["answer"]["summary"])""",
    ),
    (
        "md",
        """\
## 4. The history

Every superstep wrote a checkpoint. `orchestrator.history.history` lists them with the node(s)
that ran, the round, the tasks dispatched and the decisions taken; `fork` can start a new thread
from any of them (the CLI's `orchestrator history` and `orchestrator fork`).""",
    ),
    (
        "code",
        """\
from orchestrator.history import history

for entry in await history(graph, "quickstart-1"):
    ran = ",".join(sorted(set(entry.ran))) or f"({entry.source})"
    what = ", ".join(entry.dispatched) or "; ".join(entry.decisions)
    print(f"step {entry.step:>2}  round {entry.round}  {ran:<15} {what[:90]}")""",
    ),
    (
        "md",
        """\
## 5. The report

`load_report` reads the state and the checkpoint times into a `RunReport`: the plan, every task
attempt on a timeline, the rounds, and the **critical path**: the chain of tasks, each finishing
before the next started, that held the run's wall time. `orchestrator show THREAD` prints the
same report, draws it as Mermaid (`--format mermaid`) or to an image (`--out run.png`).""",
    ),
    (
        "code",
        """\
from rich import print as rich_print

from orchestrator.report import load_report
from orchestrator.report.text import renderables

report = await load_report(graph, "quickstart-1")
for part in renderables(report):
    rich_print(part)""",
    ),
    (
        "md",
        """\
## 6. Approve before booking

With `approval="ask"` the run pauses before any side effect: a LangGraph `interrupt` whose value
describes the batch of bookings. The pause is checkpointed, so another process can answer it
later. `Command(resume=...)` answers: `"approve"`, `{"decision": "reject"}`, or an edit that
drops items or picks alternatives.""",
    ),
    (
        "code",
        """\
ask = Context(data_dir=data_dir, planner="rules", approval="ask")
paused_config = {"configurable": {"thread_id": "quickstart-2"}}

await graph.ainvoke(inputs, paused_config, context=ask)
paused = await graph.aget_state(paused_config)
print("waiting at:", paused.next)
question = paused.interrupts[0].value
for item in question["items"]:
    print(f"  {item['label']:<60} ${item['price']:>9,.2f}")
print(f"  total ${question['total']:,.2f} of a ${question['budget']:,.0f} budget")""",
    ),
    (
        "code",
        """\
final = await graph.ainvoke(Command(resume="approve"), paused_config, context=ask)
print(final["status"], "-", final["reason"])""",
    ),
    (
        "md",
        """\
## Next

- `02_your_own_workers.ipynb`: your own worker pool, planned by an LLM.
- `03_travel_replanning.ipynb`: a three-city trip that re-plans, drawn as a plan and a timeline.
- From a shell: `orchestrator demo`, then `orchestrator show THREAD --out run.png`.
- Traces: set `LANGSMITH_TRACING=true` and `LANGSMITH_API_KEY` and each run becomes a LangSmith
  trace, every round and every worker task a run in it, tagged with thread, round, task and
  worker. Without them nothing is sent anywhere.""",
    ),
]


def build() -> nbformat.NotebookNode:
    return _build.build(CELLS)


if __name__ == "__main__":
    _build.write(CELLS, NOTEBOOK)
