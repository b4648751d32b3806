"""Approval pauses that outlive the process, parallel interrupts, history and forks."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from domains.travel.domain import travel_domain
from domains.travel.inventory import Inventory
from graph import build_graph, open_checkpointer
from orchestrator.context import Context
from orchestrator.delegate import delegate_worker
from orchestrator.domain import Domain
from orchestrator.history import fork, history
from orchestrator.planning import Finish, NewTask, PlanOutcome, PlanUpdate, PlanView
from orchestrator.runner import drive, run_config
from orchestrator.synthesis import TemplateSynthesizer
from orchestrator.workers import WorkerRegistry
from tests.keys import without_run

BIN = Path(sys.executable).parent / "orchestrator"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def trip_flags(inventory: Inventory, offset: int = 60, budget: str = "20000") -> list[str]:
    start = inventory.window()[0] + timedelta(days=offset)
    return [
        "--from", "SFO", "--to", "CDG", "--depart", str(start),
        "--return", str(start + timedelta(days=4)), "--travelers", "2", "--budget", budget,
    ]  # fmt: skip


def test_a_paused_run_survives_the_process_and_resumes_from_a_new_one(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"pause-{uuid.uuid4().hex[:8]}"

    paused = cli("trip", *trip_flags(inventory), "--thread", thread, "--json", *where)

    assert paused.returncode == 3, paused.stderr  # no terminal, no --yes: stays paused
    waiting = json.loads(paused.stdout)
    assert waiting["status"] == "awaiting_approval"
    items = waiting["approval"][0]["items"]
    assert {i["kind"] for i in items} == {"flight", "hotel"}
    assert waiting["approval"][0]["total"] == pytest.approx(sum(i["price"] for i in items))
    assert inventory.bookings(thread) == []  # nothing booked before approval

    resumed = cli("resume", thread, "--yes", "--json", *where)

    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    assert len([b for b in inventory.bookings(thread) if b.status == "confirmed"]) == 3


def test_resume_of_a_completed_run_prints_it_and_does_nothing_else(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"done-{uuid.uuid4().hex[:8]}"
    assert cli("trip", *trip_flags(inventory), "--thread", thread, "--yes", *where).returncode == 0
    before = [b.model_dump() for b in inventory.bookings()]
    steps_before = len(json.loads(cli("history", thread, "--json", *where).stdout))

    again = cli("resume", thread, "--yes", *where)

    assert again.returncode == 0
    assert "already finished" in again.stderr
    assert "Trip status: COMPLETED" in again.stdout
    assert [b.model_dump() for b in inventory.bookings()] == before
    assert len(json.loads(cli("history", thread, "--json", *where).stdout)) == steps_before


def test_history_lists_rounds_nodes_decisions_and_dispatches(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"hist-{uuid.uuid4().hex[:8]}"
    assert cli("trip", *trip_flags(inventory), "--thread", thread, "--yes", *where).returncode == 0

    entries = json.loads(cli("history", thread, "--json", *where).stdout)

    planning = [e for e in entries if "orchestrate" in e["ran"]]
    assert [e["round"] for e in planning] == list(range(1, len(planning) + 1))
    assert any("search flights for all 2 legs" in d for e in planning for d in e["decisions"])
    assert entries[2]["dispatched"] == ["flights-1", "flights-2"]
    assert any("approve" in e["ran"] for e in entries)
    assert entries[-1]["ran"] == ["synthesize"] and entries[-1]["status"] == "completed"
    table = cli("history", thread, *where)
    assert table.returncode == 0 and "dispatch flights-1, flights-2" in table.stdout


def test_fork_replans_under_a_new_budget_and_leaves_the_original_alone(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"fork-{uuid.uuid4().hex[:8]}"
    tight = cli("trip", *trip_flags(inventory, budget="500"), "--thread", thread, "--yes", *where)
    assert tight.returncode == 1 and "planner stopped because: over budget" in tight.stdout
    entries = json.loads(cli("history", thread, "--json", *where).stdout)
    after_flights = next(e for e in entries if e["dispatched"][:1] == ["hotels-1"])

    forked = cli(
        "fork", thread, "--at", after_flights["checkpoint_id"], "--budget", "20000",
        "--thread", f"{thread}-b", "--yes", "--json", *where,
    )  # fmt: skip

    assert forked.returncode == 0, forked.stderr
    result = json.loads(forked.stdout)
    assert result["status"] == "completed" and result["itinerary"]["budget"] == 20000
    assert inventory.bookings(thread) == []
    assert len(inventory.bookings(f"{thread}-b")) == 3
    assert json.loads(cli("history", thread, "--json", *where).stdout) == entries
    missing = cli("fork", thread, "--at", "no-such-checkpoint", *where)
    assert missing.returncode == 2 and "no checkpoint 'no-such-checkpoint'" in missing.stderr
    reused = cli("trip", *trip_flags(inventory), "--thread", thread, "--yes", *where)
    assert reused.returncode == 2 and "already holds a run" in reused.stderr


class TwoTripsPlanner:
    """A managing planner that hands two whole trips to sub-orchestrators at once."""

    def __init__(self, requests: list[dict[str, Any]]) -> None:
        self.requests = requests

    async def plan(self, view: PlanView) -> PlanOutcome:
        if not view.tasks:
            add = [
                NewTask(
                    id=f"trip-{n}", worker="book_trip", inputs={"goal": f"trip {n}", "request": r}
                )
                for n, r in enumerate(self.requests, 1)
            ]
            return PlanOutcome(PlanUpdate(add=add, decisions=["delegate both trips in parallel"]))
        done = all(t["status"] in ("done", "failed") for t in view.tasks.values())
        if done:
            ok = [t["id"] for t in view.tasks.values() if t["status"] == "done"]
            status = "completed" if len(ok) == len(view.tasks) else "partial"
            return PlanOutcome(PlanUpdate(finish=Finish(status=status, reason=f"done: {ok}")))
        return PlanOutcome(PlanUpdate())


def two_trips_manager(start: date) -> Domain:
    """A managing domain that delegates an SFO-CDG and a JFK-LHR round trip to sub-orchestrators."""
    requests = [
        {"legs": [{"origin": "SFO", "destination": "CDG", "date": str(start)},
                  {"origin": "CDG", "destination": "SFO", "date": str(start + timedelta(days=3))}]},
        {"legs": [{"origin": "JFK", "destination": "LHR", "date": str(start)},
                  {"origin": "LHR", "destination": "JFK", "date": str(start + timedelta(days=3))}]},
    ]  # fmt: skip
    return Domain(
        name="manager",
        description="delegates trips",
        workers=WorkerRegistry.of(delegate_worker(travel_domain(), name="book_trip")),
        planner=lambda ctx: TwoTripsPlanner(requests),
        synthesizer=lambda ctx: TemplateSynthesizer(),
    )


async def test_parallel_approval_interrupts_resume_by_interrupt_id(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    start = inventory.window()[0] + timedelta(days=70)
    manager = two_trips_manager(start)
    context = Context(data_dir=str(data_dir), approval="ask")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(manager, checkpointer=saver)
        config = run_config("managed", context)
        first = await drive(graph, {"goal": "two trips"}, config=config, context=context)
        assert len(first.paused) == 2  # both sub-orchestrators wait for approval at once
        by_origin = {p["value"]["items"][0]["label"].split()[2][:3]: p["id"] for p in first.paused}

        answers = {
            by_origin["SFO"]: "approve",
            by_origin["JFK"]: {"decision": "reject", "reason": "no"},
        }
        final = await drive(graph, Command(resume=answers), config=config, context=context)

    assert final.finished
    tasks = final.values["tasks"]
    assert tasks["trip-1"]["status"] == "done"
    assert tasks["trip-2"]["status"] == "failed"  # its sub-run ended partial: nothing booked
    assert final.values["status"] == "partial"
    booked = [b for b in inventory.bookings("managed") if b.status == "confirmed"]
    assert {b.kind for b in booked} == {"flight", "hotel"}
    # Only the approved trip was booked.
    assert all(without_run(b.key).startswith("managed:trip-1/") for b in booked)


async def test_history_and_fork_from_python(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    start = inventory.window()[0] + timedelta(days=80)
    request = {
        "legs": [{"origin": "SFO", "destination": "CDG", "date": str(start)},
                 {"origin": "CDG", "destination": "SFO", "date": str(start + timedelta(days=3))}],
        "budget": 400,
    }  # fmt: skip
    context = Context(data_dir=str(data_dir), approval="auto")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        first = await drive(
            graph,
            {"goal": "Paris", "request": request},
            config=run_config("py", context),
            context=context,
        )
        assert first.values["status"] == "failed"  # nothing fits $400: nothing is booked
        entries = await history(graph, "py")
        at = next(e for e in entries if "orchestrate" in e.ran and e.round == 2)
        branch = await fork(
            graph, "py", at.checkpoint_id, "py-2", request_changes={"budget": 30000}
        )
        second = await drive(
            graph, branch.start, config=run_config("py-2", context), context=context
        )
    assert second.values["status"] == "completed"
    assert second.values["request"]["budget"] == 30000
    assert first.values["request"]["budget"] == 400


async def test_sub_orchestrators_on_one_thread_never_share_a_booking(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    """Both sub-runs have a task 'book-flight-1'; the scope keeps their idempotency keys apart."""
    start = inventory.window()[0] + timedelta(days=75)
    manager = two_trips_manager(start)
    context = Context(data_dir=str(data_dir), approval="auto")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(manager, checkpointer=saver)
        final = await drive(
            graph, {"goal": "two trips"}, config=run_config("shared", context), context=context
        )

    assert final.values["status"] == "completed", final.values["reason"]
    bookings = inventory.bookings("shared")
    assert len(bookings) == 6  # 2 flights + 1 hotel per trip, none merged
    assert {without_run(b.key) for b in bookings} >= {
        "shared:trip-1/book-flight-1",
        "shared:trip-2/book-flight-1",
    }
    assert len({b.ref for b in bookings}) == 6


async def test_time_paused_for_approval_does_not_count_against_the_deadline(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    start = inventory.window()[0] + timedelta(days=85)
    request = {
        "legs": [{"origin": "SFO", "destination": "CDG", "date": str(start)},
                 {"origin": "CDG", "destination": "SFO", "date": str(start + timedelta(days=3))}],
    }  # fmt: skip
    context = Context(data_dir=str(data_dir), approval="ask", deadline_s=1.0)
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        config = run_config("slow-human", context)
        paused = await drive(
            graph, {"goal": "Paris", "request": request}, config=config, context=context
        )
        assert paused.paused
        await asyncio.sleep(1.5)  # the person takes longer than the whole deadline to answer
        final = await drive(graph, Command(resume="approve"), config=config, context=context)

    assert final.values["status"] == "completed", final.values["reason"]
    assert final.values["busy_s"] < 1.0


def approval_of(paused: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert paused.returncode == 3, paused.stderr
    question: dict[str, Any] = json.loads(paused.stdout)["approval"][0]
    return question


def confirmed(cli_where: list[str], thread: str) -> dict[str, dict[str, Any]]:
    """The thread's live bookings by task id, as `orchestrator bookings --json` lists them."""
    listed = cli("bookings", "--thread", thread, "--json", *cli_where)
    assert listed.returncode == 0, listed.stderr
    return {b["task_id"]: b for b in json.loads(listed.stdout) if b["status"] == "confirmed"}


def test_resume_answer_makes_several_edits_and_books_exactly_what_they_say(
    data_dir: Path, inventory: Inventory, checkpointer_target: str
) -> None:
    where = ["--data-dir", str(data_dir), "--checkpointer", checkpointer_target]
    thread = f"answer-{uuid.uuid4().hex[:8]}"
    question = approval_of(
        cli("trip", *trip_flags(inventory), "--thread", thread, "--json", *where)
    )
    first, second = question["items"][0], question["items"][1]
    option = min(3, 1 + len(first["alternatives"]))
    assert option >= 2, "the first flight needs an alternative for this test"
    chosen = first["alternatives"][option - 2]

    answered = cli(
        "resume", thread, "--answer", "drop 2", "--answer", f"alt 1 {option}", "--answer", "y",
        "--json", *where,
    )  # fmt: skip

    assert answered.returncode in (0, 1), answered.stderr
    assert "Edited batch" in answered.stderr and "dropped" in answered.stderr
    booked = confirmed(where, thread)
    assert second["task_id"] not in booked  # dropped: never booked
    assert booked[first["task_id"]]["item_id"] == chosen["item_id"]  # option M, counted from 1
    assert booked[first["task_id"]]["total_price"] == pytest.approx(chosen["price"])
    others = {i["task_id"] for i in question["items"][2:]}
    assert set(booked) == {first["task_id"], *others}


def test_resume_answer_without_a_final_y_applies_the_edits(
    data_dir: Path, inventory: Inventory
) -> None:
    where = ["--data-dir", str(data_dir)]
    thread = f"answer-{uuid.uuid4().hex[:8]}"
    question = approval_of(
        cli("trip", *trip_flags(inventory), "--thread", thread, "--json", *where)
    )
    first = question["items"][0]

    answered = cli("resume", thread, "--answer", "alt 1 2", *where)

    assert answered.returncode in (0, 1), answered.stderr
    booked = confirmed(where, thread)
    assert booked[first["task_id"]]["item_id"] == first["alternatives"][0]["item_id"]
    assert set(booked) == {i["task_id"] for i in question["items"]}


def test_a_bad_answer_exits_2_writes_nothing_and_the_run_stays_paused(
    data_dir: Path, inventory: Inventory
) -> None:
    where = ["--data-dir", str(data_dir)]
    thread = f"bad-{uuid.uuid4().hex[:8]}"
    question = approval_of(
        cli("trip", *trip_flags(inventory), "--thread", thread, "--json", *where)
    )
    steps = cli("history", thread, "--json", *where).stdout
    count = len(question["items"])

    bad_flags = [
        ["--answer", "drop 0"],
        ["--answer", "drop 2", "--answer", "alt 1 99", "--answer", "y"],
        ["--answer", "y", "--answer", "drop 1"],
        ["--answer", "maybe"],
        ["--answer", "y", "--yes"],
    ]
    for flags in bad_flags:
        bad = cli("resume", thread, *flags, *where)

        assert bad.returncode == 2, (flags, bad.stderr)
        (line,) = bad.stderr.strip().splitlines()
        assert line.startswith("error: "), line
        assert cli("history", thread, "--json", *where).stdout == steps  # nothing written
    assert (
        f"item 0 does not exist: choose 1 to {count}"
        in cli("resume", thread, "--answer", "drop 0", *where).stderr
    )
    assert inventory.bookings(thread) == []

    done = cli("resume", thread, "--answer", "y", "--json", *where)  # still the same pause
    assert done.returncode == 0, done.stderr
    assert set(confirmed(where, thread)) == {i["task_id"] for i in question["items"]}

    late = cli("resume", thread, "--answer", "y", *where)
    assert late.returncode == 2
    assert (
        late.stderr.strip()
        == f"error: run {thread} already finished: there is no approval to answer"
    )


def at_a_terminal(
    args: list[str], then: str, typed: bytes = b"", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs the CLI with a terminal on stdin; at the approval prompt types `typed`, then sends
    end of input (`then="eof"`) or Ctrl-C (`then="ctrl-c"`)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN), *args], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    os.close(slave)
    assert proc.stderr is not None and proc.stdout is not None
    err = b""
    deadline = time.monotonic() + timeout
    try:
        while not err.endswith(b"> "):
            assert time.monotonic() < deadline and proc.poll() is None, err.decode()
            if select.select([proc.stderr], [], [], 0.5)[0]:
                err += os.read(proc.stderr.fileno(), 65536)
        if typed:
            os.write(master, typed)
            while err.count(b"> ") <= typed.count(b"\n"):  # one prompt per line typed
                assert time.monotonic() < deadline and proc.poll() is None, err.decode()
                if select.select([proc.stderr], [], [], 0.5)[0]:
                    err += os.read(proc.stderr.fileno(), 65536)
        if then == "eof":
            os.write(master, b"\x04")  # Ctrl-D at the start of a line: end of input
        else:
            proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        os.close(master)
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, out.decode(), (err + rest).decode()
    )


def test_end_of_input_at_the_prompt_leaves_the_run_paused(
    data_dir: Path, inventory: Inventory
) -> None:
    where = ["--data-dir", str(data_dir)]
    thread = f"eof-{uuid.uuid4().hex[:8]}"

    typed = b"drop 0\ndrop 2\n"  # a bad number, then an edit that is never confirmed
    stopped = at_a_terminal(
        ["trip", *trip_flags(inventory), "--thread", thread, *where], "eof", typed
    )

    assert stopped.returncode == 3, stopped.stderr
    assert "item 0 does not exist: choose 1 to" in stopped.stderr
    assert "Edited batch" in stopped.stderr
    assert "the run stays paused" in stopped.stderr
    assert "rejected" not in stopped.stderr
    assert inventory.bookings(thread) == []
    waiting = cli("resume", thread, "--json", *where)  # no terminal: still paused, same question
    assert waiting.returncode == 3, waiting.stderr
    assert "error" not in json.loads(waiting.stdout)["approval"][0]


def test_ctrl_c_at_the_prompt_leaves_the_run_paused_and_resumable(
    data_dir: Path, inventory: Inventory
) -> None:
    where = ["--data-dir", str(data_dir)]
    thread = f"ctrlc-{uuid.uuid4().hex[:8]}"

    stopped = at_a_terminal(["trip", *trip_flags(inventory), "--thread", thread, *where], "ctrl-c")

    assert stopped.returncode == 3, stopped.stderr
    assert "the run stays paused" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert inventory.bookings(thread) == []

    resumed = cli("resume", thread, "--answer", "y", "--json", *where)

    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"
    assert len([b for b in inventory.bookings(thread) if b.status == "confirmed"]) == 3


async def test_an_edit_cannot_book_an_item_that_was_not_offered(
    data_dir: Path, inventory: Inventory, tmp_path: Path
) -> None:
    start = inventory.window()[0] + timedelta(days=90)
    request = {
        "legs": [{"origin": "SFO", "destination": "CDG", "date": str(start)},
                 {"origin": "CDG", "destination": "SFO", "date": str(start + timedelta(days=3))}],
        "travelers": 2,
    }  # fmt: skip
    context = Context(data_dir=str(data_dir), approval="ask")
    async with open_checkpointer(str(tmp_path / "c.sqlite")) as saver:
        graph = build_graph(travel_domain(), checkpointer=saver)
        config = run_config("forged", context)
        paused = await drive(
            graph, {"goal": "Paris", "request": request}, config=config, context=context
        )
        question = paused.paused[0]["value"]
        flight = question["items"][0]
        task_id, alternative = flight["task_id"], flight["alternatives"][0]
        # An option that is offered, but for another item.
        other_leg = next(
            alt["item_id"] for item in question["items"][1:] for alt in item["alternatives"]
        )

        for forged in ("bogus", other_leg):
            edit = {"decision": "edit", "inputs": {task_id: {"item_id": forged}}}
            again = await drive(graph, Command(resume=edit), config=config, context=context)

            (asked,) = again.paused
            assert (
                f"{task_id}: item_id {forged!r} is not an option of this item"
                in (asked["value"]["error"])
            )
            assert inventory.bookings("forged") == []

        # A listed alternative is accepted, at its own price and label, whatever the caller says.
        cheat = {"item_id": alternative["item_id"], "price": 1, "label": "free upgrade"}
        edit = {"decision": "edit", "inputs": {task_id: cheat}}
        final = await drive(graph, Command(resume=edit), config=config, context=context)

    assert final.finished
    inputs = final.values["tasks"][task_id]["inputs"]
    assert inputs["item_id"] == alternative["item_id"]
    assert inputs["price"] == alternative["price"] and inputs["label"] == alternative["label"]
    booked = {b.task_id: b for b in inventory.bookings("forged") if b.status == "confirmed"}
    assert booked[task_id].item_id == alternative["item_id"]
