"""The remote-delegation resume path (`orchestrator/remote.py`) on `langgraph dev`: the same
scenario `test_cluster.py` runs on Aegra, so the explicit-checkpoint continuation is checked on
both servers."""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import REPO, example, sdk
from langgraph.pregel.remote import RemoteGraph

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE
from orchestrator.delegate import DelegateInput
from orchestrator.remote import _finish

sys.path.insert(0, str(REPO / "tests" / "integration" / "server"))
from server_support import DevServer, server_env

pytestmark = [pytest.mark.server, pytest.mark.slow]

TRIP = example("trip.json")


@pytest.fixture(scope="module")
def dev_server(
    tmp_path_factory: pytest.TempPathFactory, cluster_inventory: Path
) -> Iterator[DevServer]:
    workdir = tmp_path_factory.mktemp("dev")
    home = workdir / "home"
    home.mkdir()
    shutil.copy(cluster_inventory, home / INVENTORY_FILE)
    server = DevServer(workdir=workdir, home=home, env=server_env(home))
    server.start()
    yield server
    server.stop()


async def test_a_stopped_remote_sub_run_resumes_from_its_checkpoint(dev_server: DevServer) -> None:
    thread_id = str(uuid.uuid4())
    async with sdk(dev_server.url) as client, asyncio.timeout(120):
        await client.threads.create(thread_id=thread_id)
        await client.runs.wait(thread_id, "orchestrator", input=TRIP, interrupt_before=["approve"])
        stopped = await client.threads.get_state(thread_id)
        assert stopped["next"] == ["approve"] and stopped["values"]
        final, ran = await _finish(
            client,
            RemoteGraph("orchestrator", client=client),
            {"configurable": {"thread_id": thread_id}},
            DelegateInput(goal=TRIP["goal"], request=TRIP["request"]),
            {},
            approve=True,
        )
    assert ran, "the stopped sub-run was continued, not only read"
    assert final["status"] == "completed", final.get("reason")
    assert len(Inventory.open(dev_server.home / INVENTORY_FILE).bookings(thread_id)) == 4
