"""`make cluster`'s default: checkpoints and bookings both in PostgreSQL, none on a host's disk."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cluster_support import ALICE, TOKENS, Cluster, example, sdk, start_cluster, stop_cluster

from domains.travel.services import INVENTORY_FILE

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

RUN_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def pg_cluster(
    tmp_path_factory: pytest.TempPathFactory, cluster_inventory: Path
) -> Iterator[Cluster]:
    started = start_cluster(
        tmp_path_factory.mktemp("pg-cluster"),
        cluster_inventory,
        {"ORCHESTRATOR_AUTH_TOKENS": TOKENS},
        inventory="cluster",
    )
    yield started
    stop_cluster(started)


async def test_make_cluster_keeps_bookings_in_postgresql_by_default(pg_cluster: Cluster) -> None:
    async with sdk(pg_cluster.url, ALICE) as alice, asyncio.timeout(RUN_TIMEOUT_S):
        thread_id = (await alice.threads.create())["thread_id"]
        await alice.runs.wait(thread_id, "orchestrator", input=example("trip.json"))
        final = await alice.runs.wait(thread_id, "orchestrator", command={"resume": "approve"})
    assert isinstance(final, dict)
    assert final["status"] == "completed", final["reason"]

    with psycopg.connect(pg_cluster.database_uri) as conn:
        rows = conn.execute(
            "SELECT ref, status FROM travel_inventory.bookings WHERE thread_id = %s",
            (thread_id,),
        ).fetchall()
    shown = {x["booking"] for k in ("legs", "hotels", "cars") for x in final["answer"]["data"][k]}
    assert {ref for ref, status in rows if status == "confirmed"} == shown != set()
    assert not (pg_cluster.home / INVENTORY_FILE).exists()  # nothing on the host's disk
