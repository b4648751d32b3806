"""A run paused for approval outlives its server: stop or crash it, start it again, resume.

Checkpoints live where `checkpointer.path` in langgraph.json puts them (`graph/server.py`): an
SQLite file in the data directory, or PostgreSQL when `ORCHESTRATOR_CHECKPOINTER` is a URI.
`langgraph dev` keeps only its thread registry in `./.langgraph_api/`, flushed every 10 s and at
a clean shutdown; after a crash inside that window the registry has forgotten the thread, and
registering its id again is enough, because the checkpoints were never in that registry.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph_sdk.errors import NotFoundError
from server_support import DevServer, ServerFactory, example, sdk

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE
from graph.server import SERVER_CHECKPOINTS, server_target
from tests.postgres import require_postgres

pytestmark = pytest.mark.server

RUN_TIMEOUT_S = 60


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> str:
    """`sqlite` (the default target) or the PostgreSQL URI the server is pointed at."""
    if request.param == "sqlite":
        return "sqlite"
    return require_postgres()


def store_env(store: str) -> dict[str, str]:
    return {} if store == "sqlite" else {"ORCHESTRATOR_CHECKPOINTER": store}


def stored_checkpoints(server: DevServer, store: str, thread_id: str) -> int:
    """Checkpoints of the thread in the configured store, read directly, not through the API."""
    query = "SELECT count(*) FROM checkpoints WHERE thread_id = "
    if store == "sqlite":
        with sqlite3.connect(server.home / SERVER_CHECKPOINTS) as conn:
            row = conn.execute(query + "?", (thread_id,)).fetchone()
    else:
        with psycopg.connect(store) as pg:
            row = pg.execute(query + "%s", (thread_id,)).fetchone()
    assert row is not None
    return int(row[0])


async def pause_for_approval(server: DevServer) -> tuple[str, dict[str, Any]]:
    """Starts the example trip; returns its thread id and the pending interrupt."""
    async with sdk(server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], "orchestrator", input=example("trip.json"))
        state = await client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["approve"]
    return thread["thread_id"], dict(state["interrupts"][0])


async def approve(server: DevServer, thread_id: str) -> dict[str, Any]:
    async with sdk(server.url) as client, asyncio.timeout(RUN_TIMEOUT_S):
        final = await client.runs.wait(thread_id, "orchestrator", command={"resume": "approve"})
    assert isinstance(final, dict)
    return final


def assert_booked_once(
    server: DevServer, thread_id: str, asked: dict[str, Any], final: dict[str, Any]
) -> None:
    """Completed, with exactly one confirmed booking per approved item."""
    assert final["status"] == "completed", final["reason"]
    bookings = Inventory(server.home / INVENTORY_FILE).bookings(thread_id=thread_id)
    approved = {item["task_id"] for item in asked["value"]["items"]}
    assert sorted(b.task_id for b in bookings) == sorted(approved)
    assert all(b.status == "confirmed" for b in bookings)


async def test_a_paused_run_survives_a_clean_restart(
    make_fresh_server: ServerFactory, store: str
) -> None:
    server = make_fresh_server("restart", store_env(store))
    saver = "AsyncSqliteSaver" if store == "sqlite" else "AsyncPostgresSaver"
    assert f"Using custom checkpointer: {saver}" in server.log_text()
    thread_id, asked = await pause_for_approval(server)

    server.stop()  # SIGTERM: the server shuts down cleanly
    assert stored_checkpoints(server, store, thread_id) > 0
    server.start()

    async with sdk(server.url) as client:
        assert (await client.threads.get(thread_id))["status"] == "interrupted"
        state = await client.threads.get_state(thread_id)
    assert state["next"] == ["approve"]
    assert state["interrupts"][0]["id"] == asked["id"]
    assert_booked_once(server, thread_id, asked, await approve(server, thread_id))


async def test_a_paused_run_survives_a_crash_that_loses_the_dev_registry(
    make_fresh_server: ServerFactory, store: str
) -> None:
    server = make_fresh_server("crash", store_env(store))
    thread_id, asked = await pause_for_approval(server)

    server.crash()  # SIGKILL: no shutdown, no flush
    # The dev server flushes its registry every 10 s; remove it to be deterministically inside
    # that window (a restart from another working directory looks the same).
    shutil.rmtree(server.workdir / ".langgraph_api", ignore_errors=True)
    assert stored_checkpoints(server, store, thread_id) > 0
    server.start()

    async with sdk(server.url) as client:
        with pytest.raises(NotFoundError):
            await client.threads.get(thread_id)
        # Recovery: register the id again; state and history come from the checkpointer.
        await client.threads.create(
            thread_id=thread_id, if_exists="do_nothing", metadata={"graph_id": "orchestrator"}
        )
        state = await client.threads.get_state(thread_id)
    values = state["values"]
    assert isinstance(values, dict)
    assert values["status"] == "awaiting_approval"
    assert_booked_once(server, thread_id, asked, await approve(server, thread_id))


def test_server_checkpoints_follow_the_data_directory_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path))
    monkeypatch.delenv("ORCHESTRATOR_CHECKPOINTER", raising=False)
    assert server_target() == str(tmp_path / SERVER_CHECKPOINTS)
    monkeypatch.setenv("ORCHESTRATOR_CHECKPOINTER", str(tmp_path / "mine.sqlite"))
    assert server_target() == str(tmp_path / "mine.sqlite")  # an explicit path is used as given
