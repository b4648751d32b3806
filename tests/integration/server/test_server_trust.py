"""Trust boundaries on a real `langgraph dev` server: a caller cannot steer the deployment.

The audit's S-20 to S-23 through the SDK. A run, assistant or cron whose context names a model
endpoint (S-20, S-21), a data directory (S-22) or automatic approval (S-23) is refused with a
4xx and one message naming the field, whether auth is on or off, and nothing is contacted or
created. Behind that check, the server's graphs take those settings from the environment
whatever reaches them (an assistant saved on a server without the check). And `owner`
metadata is the server's: nobody can relabel a thread into someone else's list.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from server_support import DevServer, ServerFactory, example, refusal, sdk

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE
from orchestrator.testing.scripted_openai import Fail, ScriptedOpenAI, scripted_openai

pytestmark = pytest.mark.server

ALICE, BOB = "tok-alice-77e1", "tok-bob-04c9"
SERVER_KEY = "sk-server-KEY-9e4b2a71c3"
"""The server's OPENAI_API_KEY: no listener a caller names may ever see it."""
RUN_TIMEOUT_S = 60


@dataclass
class Listener:
    """A loopback TCP listener that records every byte anyone sends it."""

    sock: socket.socket
    received: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536) or b"(connected)")
                except OSError:
                    self.received.append(b"(connected)")


@contextmanager
def listening() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    listener = Listener(sock)
    thread = threading.Thread(target=listener.serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        sock.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    with listening() as found:
        yield found


@pytest.fixture(scope="module")
def operator_model() -> Iterator[ScriptedOpenAI]:
    """The model endpoint the operator configured (`OPENAI_BASE_URL`); it refuses every plan."""
    with scripted_openai() as state:
        yield state


def model_env(operator_model: ScriptedOpenAI) -> dict[str, str]:
    return {"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": operator_model.base_url}


@pytest.fixture(scope="module")
def open_server(make_server: ServerFactory, operator_model: ScriptedOpenAI) -> Iterator[DevServer]:
    """Auth off (no ORCHESTRATOR_AUTH_TOKENS): the context check runs all the same."""
    server = make_server("trust-open", model_env(operator_model))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def guarded(make_server: ServerFactory, operator_model: ScriptedOpenAI) -> Iterator[DevServer]:
    env = {**model_env(operator_model), "ORCHESTRATOR_AUTH_TOKENS": f"{ALICE}:alice,{BOB}:bob"}
    server = make_server("trust-auth", env)
    yield server
    server.stop()


async def drain(stream: Any) -> None:
    async for _ in stream:
        pass


def trip() -> dict[str, Any]:
    return dict(example("trip.json"))


async def nothing_reached(listener: Listener) -> None:
    await asyncio.sleep(1.0)  # a run started in the background would have called by now
    assert listener.received == [], "the caller's URL was contacted"


# --- S-20: a caller's model endpoint ----------------------------------------------------------


@pytest.mark.parametrize("auth", ["auth-off", "auth-on"])
async def test_s20_a_callers_base_url_is_refused_and_never_contacted(
    auth: str, open_server: DevServer, guarded: DevServer, listener: Listener
) -> None:
    server, token = (open_server, None) if auth == "auth-off" else (guarded, ALICE)
    evil = {"planner": "llm", "base_url": listener.url}
    async with sdk(server.url, token) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = (await client.threads.create())["thread_id"]
        attempts = [
            client.runs.wait(thread_id, "orchestrator", input=trip(), context=evil),
            client.runs.create(thread_id, "orchestrator", input=trip(), context=evil),
            drain(client.runs.stream(thread_id, "orchestrator", input=trip(), context=evil)),
            client.runs.create(
                thread_id, "orchestrator", input=trip(), config={"configurable": evil}
            ),
            client.runs.wait(None, "orchestrator", input=trip(), context=evil),  # stateless
        ]
        for attempt in attempts:
            status, detail = await refusal(attempt)
            assert status == 403, detail
            assert "base_url is a deployment setting" in detail
        assert await client.runs.list(thread_id) == []
    await nothing_reached(listener)


async def test_model_names_limits_above_caps_and_bad_values_are_refused(
    open_server: DevServer,
) -> None:
    async with sdk(open_server.url) as client:
        thread_id = (await client.threads.create())["thread_id"]

        async def run(context: dict[str, Any]) -> tuple[int, str]:
            return await refusal(
                client.runs.create(thread_id, "orchestrator", input=trip(), context=context)
            )

        status, detail = await run({"planner_model": "gpt-4o", "request_retries": 50})
        assert status == 403
        assert "planner_model is a deployment setting" in detail
        assert "request_retries is a deployment setting" in detail
        status, detail = await run({"max_rounds": 1_000_000, "max_parallel": 10_000})
        assert status == 400
        assert "max_rounds=1000000 is above this server's cap" in detail
        assert "max_parallel=10000" in detail
        status, detail = await run({"max_rounds": 0})
        assert (status, "must be at least 1" in detail) == (400, True)
        assert await client.runs.list(thread_id) == []


# --- S-21: an assistant that would carry a caller's endpoint ----------------------------------


async def test_s21_an_assistant_cannot_carry_an_endpoint(
    guarded: DevServer, listener: Listener
) -> None:
    async with (
        sdk(guarded.url, ALICE) as alice,
        sdk(guarded.url, BOB) as bob,
        asyncio.timeout(RUN_TIMEOUT_S),
    ):
        evil = {"planner": "llm", "base_url": listener.url}
        for create in (
            alice.assistants.create("orchestrator", context=evil, name="cheap flights"),
            alice.assistants.create("orchestrator", config={"configurable": evil}),
        ):
            status, detail = await refusal(create)
            assert status == 403 and "base_url is a deployment setting" in detail
        names = {a.get("name") for a in await bob.assistants.search(limit=100)}
        assert "cheap flights" not in names

        mine = await alice.assistants.create(
            "orchestrator", context={"max_rounds": 12}, name="alice's"
        )
        status, detail = await refusal(alice.assistants.update(mine["assistant_id"], context=evil))
        assert status == 403 and "base_url" in detail
        assert (await bob.assistants.get(mine["assistant_id"]))["context"] == {"max_rounds": 12}

        # Bob runs on Alice's (legitimate) assistant: his trip pauses for his approval.
        thread_id = (await bob.threads.create())["thread_id"]
        await bob.runs.wait(thread_id, mine["assistant_id"], input=trip())
        assert (await bob.threads.get_state(thread_id))["next"] == ["approve"]
    await nothing_reached(listener)


async def test_s21_an_assistant_saved_without_the_check_cannot_redirect_a_run(
    make_fresh_server: ServerFactory,
    operator_model: ScriptedOpenAI,
    listener: Listener,
    tmp_path: Path,
) -> None:
    """Defence in depth: with the auth handler left out, such an assistant can be saved, and a
    run on it still uses only the deployment's endpoint, data directory and approval."""
    bare = make_fresh_server("trust-bare", model_env(operator_model), auth=False)
    operator_model.reset()
    operator_model.script(*[Fail(400, "no plan today")] * 20)
    elsewhere = tmp_path / "planted-data"
    async with sdk(bare.url) as mallory, sdk(bare.url) as victim, asyncio.timeout(RUN_TIMEOUT_S):
        planted = await mallory.assistants.create(
            "orchestrator",
            context={"planner": "llm", "base_url": listener.url, "planner_model": "x"},
            name="planted endpoint",
        )
        thread_id = (await victim.threads.create())["thread_id"]
        final = await victim.runs.wait(thread_id, planted["assistant_id"], input=trip())
        assert isinstance(final, dict)
        assert final["status"] == "failed"  # the operator's model refused to plan: no booking
        assert operator_model.calls >= 1, "the LLM planner ran, on the operator's endpoint"
        assert all(h["authorization"] == f"Bearer {SERVER_KEY}" for h in operator_model.headers)
        assert {r["model"] for r in operator_model.requests} == {"gpt-4o-mini"}

        planted = await mallory.assistants.create(
            "orchestrator",
            context={"data_dir": str(elsewhere), "approval": "auto"},
            name="planted paths",
        )
        thread_id = (await victim.threads.create())["thread_id"]
        await victim.runs.wait(thread_id, planted["assistant_id"], input=trip())
        assert (await victim.threads.get_state(thread_id))["next"] == ["approve"]
    assert not elsewhere.exists()
    assert Inventory(bare.home / INVENTORY_FILE).bookings() == []
    await nothing_reached(listener)


# --- S-22 and S-23: a data directory, and automatic approval ----------------------------------


async def test_s22_a_callers_data_dir_is_refused_and_nothing_is_created(
    open_server: DevServer, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    async with sdk(open_server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = (await client.threads.create())["thread_id"]
        context = {"data_dir": str(elsewhere)}
        for attempt in (
            client.runs.wait(thread_id, "orchestrator", input=trip(), context=context),
            client.assistants.create("orchestrator", context=context),
            client.crons.create_for_thread(
                thread_id, "orchestrator", schedule="* * * * *", input=trip(), context=context
            ),
        ):
            status, detail = await refusal(attempt)
            assert status == 403 and "data_dir is a deployment setting" in detail
    await asyncio.sleep(1.0)
    assert not elsewhere.exists() and not elsewhere.parent.exists()


@pytest.mark.parametrize("auth", ["auth-off", "auth-on"])
async def test_s23_approval_auto_is_refused_and_a_run_pauses_for_approval(
    auth: str, open_server: DevServer, guarded: DevServer
) -> None:
    server, token = (open_server, None) if auth == "auth-off" else (guarded, BOB)
    async with sdk(server.url, token) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = (await client.threads.create())["thread_id"]
        for attempt in (
            client.runs.wait(thread_id, "orchestrator", input=trip(), context={"approval": "auto"}),
            client.runs.create(
                thread_id,
                "orchestrator",
                input=trip(),
                config={"configurable": {"approval": "auto"}},
            ),
        ):
            status, detail = await refusal(attempt)
            assert status == 403 and "approval='auto'" in detail
        assert await client.runs.list(thread_id) == []

        # As the README promises: without approval set (or with `ask`), the run pauses.
        await client.runs.wait(
            thread_id, "orchestrator", input=trip(), context={"approval": "ask", "max_rounds": 20}
        )
        state = await client.threads.get_state(thread_id)
        assert state["next"] == ["approve"]
    assert Inventory(server.home / INVENTORY_FILE).bookings(thread_id) == []


# --- owner metadata is the server's ------------------------------------------------------------


async def test_a_thread_cannot_be_relabelled_into_another_users_list(guarded: DevServer) -> None:
    async with (
        sdk(guarded.url, ALICE) as alice,
        sdk(guarded.url, BOB) as bob,
        asyncio.timeout(RUN_TIMEOUT_S),
    ):
        thread_id = (await alice.threads.create(metadata={"trip": "paris"}))["thread_id"]
        status, detail = await refusal(alice.threads.update(thread_id, metadata={"owner": "bob"}))
        assert status == 403 and "owner" in detail
        status, _ = await refusal(alice.threads.create(metadata={"owner": "bob"}))
        assert status == 403
        status, _ = await refusal(
            alice.runs.create(None, "orchestrator", input=trip(), metadata={"owner": "bob"})
        )
        assert status == 403
        # Her own name is no change, and other metadata is hers to edit.
        await alice.threads.update(thread_id, metadata={"owner": "alice", "trip": "rome"})

        assert thread_id not in {t["thread_id"] for t in await bob.threads.search(limit=100)}
        assert (await refusal(bob.threads.get(thread_id)))[0] == 404
        thread = await alice.threads.get(thread_id)
        assert (thread["metadata"] or {})["owner"] == "alice"
        assert (thread["metadata"] or {})["trip"] == "rome"

        mine = await alice.assistants.create("orchestrator", name="alice relabel test")
        status, _ = await refusal(
            alice.assistants.update(mine["assistant_id"], metadata={"owner": "bob"})
        )
        assert status == 403
        assert (await bob.assistants.get(mine["assistant_id"]))["metadata"]["owner"] == "alice"


# --- a caller's input is checked as the CLI checks it ------------------------------------------


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"goal": None}, "the input has no goal"),
        ({"origin": "ZZZ"}, "unknown airport 'ZZZ'"),
        ({"date": "2020-01-01"}, "2020-01-01 is in the past"),
    ],
    ids=["no-goal", "unknown-airport", "past-date"],
)
async def test_a_bad_trip_from_the_sdk_is_refused_in_one_line_with_nothing_done(
    open_server: DevServer, change: dict[str, Any], said: str
) -> None:
    sent = trip()
    if "goal" in change:
        del sent["goal"]
    else:
        sent["request"]["legs"][0].update(change)
    async with sdk(open_server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = (await client.threads.create())["thread_id"]
        out = await client.runs.wait(thread_id, "orchestrator", input=sent)
        state = (await client.threads.get_state(thread_id))["values"]
    assert out["status"] == "failed"
    assert said in state["claim"]["reason"], state["claim"]
    assert said in out["answer"]["summary"], "the traveller reads why"
    assert state.get("tasks") in ({}, None), "nothing was planned"
    assert Inventory(open_server.home / INVENTORY_FILE).bookings(thread_id) == []
