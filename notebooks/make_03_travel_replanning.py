"""Writes `03_travel_replanning.ipynb`, without outputs: `python notebooks/make_03_...py`.

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

NOTEBOOK = Path(__file__).with_name("03_travel_replanning.ipynb")

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """\
# The travel scenario: a plan that changes as the world answers

A multi-leg trip cannot be planned up front. The flight that is found decides the hotel nights
and the car dates; a flight that lands before dawn needs an extra hotel night; a plan over
budget needs cheaper options; a hotel can sell out between the search and the booking.

This notebook books a three-city trip for two (San Francisco, New York, Paris, back to San
Francisco, with a car) and then **draws** what happened: the plan as a graph of rounds and tasks,
and the timeline of every task, with the critical path. To show a re-plan that no planner can
foresee, someone else books the last rooms of our Paris hotel while we are approving.

It runs **offline**: the embedded inventory and the rules planner, no key, no network.""",
    ),
    (
        "code",
        """\
%matplotlib inline
import os
import sys
import tempfile
from datetime import date

from langgraph.checkpoint.memory import InMemorySaver

from domains.travel.domain import travel_domain
from domains.travel.request import showcase_trip
from domains.travel.services import inventory_at
from graph import build_graph
from orchestrator.cli.approval import render_approval
from orchestrator.cli.progress import ProgressPrinter
from orchestrator.context import Context
from orchestrator.runner import drive, run_config

# The inventory is built on first use (a few seconds); ORCHESTRATOR_HOME reuses yours.
data_dir = os.environ.get("ORCHESTRATOR_HOME") or tempfile.mkdtemp(prefix="replanning-")
inventory = inventory_at(data_dir)
first_day, _last_day = inventory.window()""",
    ),
    (
        "md",
        """\
## The trip

Three legs, two travellers, 4-star hotels and a car at each stop, under $7,000. The rules
planner searches every leg at once, picks flights by a documented policy (price plus a penalty
for bad hours), then searches hotels and cars for the dates those flights imply.""",
    ),
    (
        "code",
        """\
# The same trip `make demo` books: SFO -> JFK -> CDG -> SFO for two, with a car, under $7,000.
trip = showcase_trip(first_day)
print(trip.goal())
print(trip.model_dump_json(indent=2))""",
    ),
    (
        "md",
        """\
## The run

`drive` (the loop the CLI uses) streams the progress events to a printer and answers each
approval pause with the function below. The first time, before approving, it lets someone else
take the last rooms of the Paris hotel we are about to book: the booking fails, and the
orchestrator plans around it.""",
    ),
    (
        "code",
        """\
graph = build_graph(travel_domain(), checkpointer=InMemorySaver())
context = Context(data_dir=data_dir, planner="rules", approval="ask")
config = run_config("replanning-1", context)
taken: list[str] = []


async def approve(question):
    print(render_approval(question))
    if not taken:
        tasks = (await graph.aget_state(config)).values["tasks"]
        bookings = [t["inputs"] for t in tasks.values() if t["worker"] == "book"]
        paris = [b for b in bookings if b["kind"] == "hotel"][-1]
        hotel_id, check_in, *_ = paris["item_id"].split(":")
        inventory.set_rooms(hotel_id, date.fromisoformat(check_in), 0)
        taken.append(paris["label"])
        print(f"  ... meanwhile someone books the last rooms of {paris['label']}")
    print("  approved\\n")
    return {"decision": "approve"}


outcome = await drive(
    graph,
    {"goal": trip.goal(), "request": trip.model_dump(mode="json")},
    config=config,
    context=context,
    on_event=ProgressPrinter(sys.stdout),
    approver=approve,
)
print(outcome.values["status"], "-", outcome.values["reason"])""",
    ),
    (
        "code",
        """\
print(outcome.values["answer"]["summary"])""",
    ),
    (
        "md",
        """\
## The plan

One column per orchestrator round, left to right, with the tasks that round added. A dashed
arrow is the orchestrator reading a round's results and planning the next: that is where the
flights decided the hotel dates, where the budget sent the search a tier lower, and where the
failed booking was replaced. Solid arrows are explicit task dependencies (`depends_on`): each
booking depends on the search that found its option. An arrow that skips a round runs in a lane
under the columns, never behind a box. A red outline marks the critical path.""",
    ),
    (
        "code",
        """\
from orchestrator.report import load_report
from orchestrator.report.image import plan_figure, timeline_figure
from orchestrator.report.text import seconds

report = await load_report(graph, "replanning-1")
plan_figure(report)""",
    ),
    (
        "md",
        """\
## The timeline

Every task attempt is a bar; the top row is the orchestrator itself (planning in blue, the
approval wait in purple, the final synthesis). The shaded bands are the rounds. Tasks of one
round run together, and the next round starts only when the slowest of them is done, so the
**critical path** is the slowest task of each round; with one planning step per round, it is the
floor of the run's wall time.""",
    ),
    (
        "code",
        """\
timeline_figure(report)""",
    ),
    (
        "code",
        """\
for r in report.rounds:
    sent = f"{len(r.dispatched)} task(s) sent, up to {r.max_parallel} at once"
    print(f"round {r.round}: {sent}, planned in {seconds(r.planning_s)}")
    for decision in r.decisions:
        print(f"    - {decision}")
totals = report.totals
print(f"\\nwall time {seconds(totals.wall_s)}, worker time {seconds(totals.worker_s)}")
print(f"planning {seconds(totals.planning_s)}, approval wait {seconds(totals.approval_wait_s)}")
print(f"critical path ({seconds(totals.critical_path_s)}): {' -> '.join(report.critical_path)}")""",
    ),
    (
        "md",
        """\
## The same pictures as Mermaid

For a README, an issue or a pull request: `plan_flowchart` and `timeline_gantt` (or
`orchestrator show THREAD --format mermaid`) give Mermaid text that GitHub renders.""",
    ),
    (
        "code",
        """\
from orchestrator.report.mermaid import plan_flowchart, timeline_gantt

print(plan_flowchart(report)[:600], "...")
print(timeline_gantt(report)[:600], "...")""",
    ),
    (
        "md",
        """\
## From the command line

```sh
orchestrator demo                          # the same trip, with a live view of the rounds
orchestrator runs                          # every run, newest first
orchestrator show THREAD                   # the report as text (a unique prefix of THREAD will do)
orchestrator show THREAD --out trip.png    # these two pictures in one image (or .svg)
orchestrator graph --out graph.png         # the LangGraph structure itself
```""",
    ),
]


def build() -> nbformat.NotebookNode:
    return _build.build(CELLS)


if __name__ == "__main__":
    _build.write(CELLS, NOTEBOOK)
