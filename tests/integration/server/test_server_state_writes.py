"""A caller cannot write a thread's state, or steer its graph, through the SDK.

On a real `langgraph dev` server, a trip paused for approval is open to `threads.update_state`
(as any node), to a thread created with `supersteps`, and to a run whose `command` carries
`update` or `goto`. Any of these could release the booking batch without its approval, book nine
seats where the question showed two, or write `status: completed`. The auth handler refuses them
all with 403, whether auth is on or off; a paused run is answered with `resume` only. Behind the
handler, the approval node releases only the batch the question showed, and a resume edit can
only switch an item to a listed alternative.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient
from server_support import DevServer, ServerFactory, example, refusal, sdk

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE
from nodes.approve import changed_since_asked

pytestmark = pytest.mark.server

ALICE, BOB = "tok-alice-5d20", "tok-bob-a7c3"
RUN_TIMEOUT_S = 90
REFUSED = "a thread's state is written only by its graph"


@pytest.fixture(scope="module")
def open_server(make_server: ServerFactory) -> Iterator[DevServer]:
    server = make_server("state-open")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def guarded(make_server: ServerFactory) -> Iterator[DevServer]:
    server = make_server("state-auth", {"ORCHESTRATOR_AUTH_TOKENS": f"{ALICE}:alice,{BOB}:bob"})
    yield server
    server.stop()


async def paused_trip(client: LangGraphClient) -> tuple[str, dict[str, Any]]:
    """A thread whose trip waits for approval, and its values."""
    thread_id = str((await client.threads.create())["thread_id"])
    await client.runs.wait(thread_id, "orchestrator", input=example("trip.json"))
    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["approve"]
    values = state["values"]
    assert isinstance(values, dict)
    return thread_id, values


def released(values: dict[str, Any], quantity: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """What a forger writes to skip the approval: the batch as dispatched payloads, each flight
    at `quantity` seats, and the board with those tasks running."""
    payloads, running = [], {}
    for task_id in values["approval"]["task_ids"]:
        task = values["tasks"][task_id]
        inputs = dict(task["inputs"])
        if inputs.get("kind") == "flight":
            inputs["quantity"] = quantity
        running[task_id] = {**task, "inputs": inputs, "status": "running", "attempts": 1}
        payloads.append(
            {
                "task_id": task_id,
                "worker": task["worker"],
                "inputs": inputs,
                "attempt": 1,
                "scope": "",
                "run_id": values.get("run_id", ""),
                "round": values["round"],
            }
        )
    return payloads, running


def booked(server: DevServer, thread_id: str) -> list[tuple[str, int]]:
    return [
        (b.kind, b.quantity)
        for b in Inventory(server.home / INVENTORY_FILE).bookings(thread_id)
        if b.status == "confirmed"
    ]


@pytest.mark.parametrize("auth", ["auth-off", "auth-on"])
async def test_update_state_and_steering_commands_are_refused(
    auth: str, open_server: DevServer, guarded: DevServer
) -> None:
    server, token = (open_server, None) if auth == "auth-off" else (guarded, ALICE)
    async with sdk(server.url, token) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id, values = await paused_trip(client)
        payloads, running = released(values, quantity=9)
        skip = {"approval": None, "status": "running", "dispatch": payloads, "tasks": running}
        lie = {"status": "completed", "claim": {"status": "completed", "reason": "all booked"}}
        for values_, node in ((skip, "approve"), (skip, "orchestrate"), (lie, "synthesize")):
            status, detail = await refusal(
                client.threads.update_state(thread_id, values=values_, as_node=node)
            )
            assert (status, REFUSED in detail) == (403, True), detail
        status, detail = await refusal(
            client.threads.update_state(thread_id, values={"approval": None})  # no as_node
        )
        assert status == 403, detail

        for command in (
            {"update": skip, "goto": [{"node": "book", "input": payloads[0]}]},
            {"goto": [{"node": "book", "input": payloads[0]}]},
            {"resume": "approve", "update": lie},
        ):
            status, detail = await refusal(
                client.runs.create(thread_id, "orchestrator", command=command)
            )
            assert status == 403, detail
            assert "a run's command may only resume a paused run" in detail
        assert len(await client.runs.list(thread_id)) == 1, "only the run that paused"

        # A thread cannot be born with a forged state either.
        forged = {"updates": [{"values": {**values, **lie}, "as_node": "synthesize"}]}
        await refusal(client.threads.create(supersteps=[forged], graph_id="orchestrator"))
        for thread in await client.threads.search(limit=100):
            assert (thread["values"] or {}).get("status") != "completed"

        # Nothing was booked; the pause is intact, and a resume (with the empty `goto`
        # RemoteGraph sends) books exactly what the question showed.
        assert booked(server, thread_id) == []
        state = await client.threads.get_state(thread_id)
        assert state["next"] == ["approve"]
        final = await client.runs.wait(
            thread_id,
            "orchestrator",
            command={"resume": "approve", "goto": [], "update": None},  # type: ignore[typeddict-item]
        )
        assert isinstance(final, dict)
        assert final["status"] == "completed", final["reason"]
    shown = [(i["kind"], i["quantity"]) for i in values["approval"]["items"]]
    assert sorted(booked(server, thread_id)) == sorted(shown)
    assert ("flight", 2) in shown


async def test_metadata_updates_and_run_cancels_stay_allowed(guarded: DevServer) -> None:
    async with sdk(guarded.url, ALICE) as alice, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = str((await alice.threads.create())["thread_id"])
        await alice.threads.update(thread_id, metadata={"trip": "paris"})
        assert ((await alice.threads.get(thread_id))["metadata"] or {})["trip"] == "paris"
        run = await alice.runs.create(thread_id, "orchestrator", input=example("trip.json"))
        assert await refusal(alice.runs.cancel(thread_id, run["run_id"])) == (200, "")


async def test_bob_cannot_write_copy_fork_or_resume_alices_trip(guarded: DevServer) -> None:
    async with (
        sdk(guarded.url, ALICE) as alice,
        sdk(guarded.url, BOB) as bob,
        asyncio.timeout(RUN_TIMEOUT_S),
    ):
        thread_id, values = await paused_trip(alice)
        checkpoint_id = (await alice.threads.get_state(thread_id))["checkpoint"]["checkpoint_id"]
        status, _ = await refusal(
            bob.threads.update_state(thread_id, values={"approval": None}, as_node="approve")
        )
        assert status == 403
        assert (await refusal(bob.threads.copy(thread_id)))[0] in (404, 409)
        for attempt in (
            bob.runs.create(thread_id, "orchestrator", command={"resume": "approve"}),
            bob.runs.create(thread_id, "orchestrator", input=None, checkpoint_id=checkpoint_id),
            bob.runs.create(
                thread_id, "orchestrator", input=example("trip.json"), if_not_exists="create"
            ),
            bob.threads.get_history(thread_id),
            bob.threads.delete(thread_id),
        ):
            assert (await refusal(attempt))[0] == 404
        assert await bob.threads.count() == 0
        assert (await refusal(bob.threads.create(thread_id=thread_id)))[0] == 409

        state = await alice.threads.get_state(thread_id)
        assert state["next"] == ["approve"]
        assert state["values"]["tasks"] == values["tasks"]
    assert booked(guarded, thread_id) == []


async def test_a_resume_edit_cannot_change_what_the_question_showed(
    open_server: DevServer,
) -> None:
    async with sdk(open_server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id, values = await paused_trip(client)
        flight = values["approval"]["items"][0]
        task_id = flight["task_id"]
        assert (flight["item_id"], flight["quantity"]) == (
            values["tasks"][task_id]["inputs"]["item_id"],
            2,
        )
        for patch, said in (
            ({"quantity": 9}, "quantity cannot be changed"),
            ({"quantity": -3, "kind": "hotel"}, "kind, quantity cannot be changed"),
            ({"item_id": "ZZ999:2027-02-10:economy"}, "is not an option of this item"),
        ):
            edit = {"decision": "edit", "inputs": {task_id: patch}}
            await client.runs.wait(thread_id, "orchestrator", command={"resume": edit})
            state = await client.threads.get_state(thread_id)
            assert state["next"] == ["approve"]
            (asked,) = state["tasks"][0]["interrupts"]
            assert said in asked["value"]["error"], asked["value"]["error"]
        for answer, said in (
            ({"decision": "edit", "inputs": {"nope": {}}}, "not in this approval: nope"),
            ({"decision": "edit", "drop": "book-flight-1"}, "unreadable decision"),
            ({"decision": "approve", "reason": "x" * 200_000}, None),
        ):
            await client.runs.wait(thread_id, "orchestrator", command={"resume": answer})
            if said is None:
                break
            state = await client.threads.get_state(thread_id)
            (asked,) = state["tasks"][0]["interrupts"]
            assert said in asked["value"]["error"]
            assert booked(open_server, thread_id) == []
    shown = [(i["kind"], i["quantity"]) for i in values["approval"]["items"]]
    assert sorted(booked(open_server, thread_id)) == sorted(shown)


async def test_without_the_handler_a_board_changed_after_the_question_is_not_released(
    make_fresh_server: ServerFactory,
) -> None:
    """Defence in depth: with the auth handler left out, `update_state` can change a pending
    booking after the question was asked; the approval then releases nothing."""
    bare = make_fresh_server("state-bare", auth=False)
    async with sdk(bare.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id, values = await paused_trip(client)
        task_id = values["approval"]["items"][0]["task_id"]
        task = values["tasks"][task_id]
        more = {**task, "inputs": {**task["inputs"], "quantity": 4}}
        await client.threads.update_state(thread_id, values={"tasks": {task_id: more}})
        await client.runs.wait(thread_id, "orchestrator", command={"resume": "approve"})
        state = await client.threads.get_state(thread_id)
    log = [e["message"] for e in state["values"]["log"]]
    assert f"changed since the question was asked: {task_id} (quantity)" in "\n".join(log)
    assert ("flight", 4) not in booked(bare, thread_id)
    assert all(b[1] == 2 or b[0] != "flight" for b in booked(bare, thread_id))


def test_changed_since_asked_names_each_changed_field() -> None:
    def task(status: str = "pending", **inputs: Any) -> Any:
        return {"id": "t", "worker": "book", "status": status, "inputs": inputs}

    shown = {"t": {"task_id": "t", "action": "book", "item_id": "A", "quantity": 2, "price": 5}}
    same = task(item_id="A", quantity=2, price=5, label="x")
    assert changed_since_asked(["t"], {"t": same}, shown) == []
    moved = task(item_id="B", quantity=3, price=5)
    assert changed_since_asked(["t"], {"t": moved}, shown) == ["t (item_id, quantity)"]
    assert changed_since_asked(["t"], {"t": {**same, "worker": "cancel"}}, shown) == ["t (action)"]
    assert changed_since_asked(["t"], {"t": task("done", item_id="A")}, shown) == [
        "t (status 'done')"
    ]
    assert changed_since_asked(["t", "u"], {"t": same}, shown) == ["u (not on the board)"]
    plain = {"t": {"task_id": "t", "worker": "book", "inputs": {"item_id": "A"}}}
    assert changed_since_asked(["t"], {"t": task(item_id="B")}, plain) == ["t (inputs)"]
