"""Fixtures: one Aegra cluster per test module (see `cluster_support`), stopped in teardown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from cluster_support import ALICE, TOKENS, Cluster, example, start_cluster, stop_cluster

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE


@pytest.fixture(scope="session")
def cluster_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small inventory around the examples' dates (as the server tests build theirs)."""
    trip, group = example("trip.json")["request"], example("group_trip.json")["request"]
    legs = trip["legs"] + [leg for party in group["parties"] for leg in party["trip"]["legs"]]
    days = [date.fromisoformat(leg["date"]) for leg in legs]
    start = min(days) - timedelta(days=7)
    path = tmp_path_factory.mktemp("cluster-inventory") / INVENTORY_FILE
    Inventory.open(path, start=start, days=(max(days) - start).days + 14)
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, cluster_inventory: Path) -> Iterator[Cluster]:
    """An API process and two workers, auth on (Alice and Bob), shared by a module's tests."""
    started = start_cluster(
        tmp_path_factory.mktemp("cluster"),
        cluster_inventory,
        # group_trip delegates each party to the cluster itself, as Alice (the deployment's
        # identity for its sub-runs).
        {"ORCHESTRATOR_AUTH_TOKENS": TOKENS, "ORCHESTRATOR_REMOTE_TOKEN": ALICE},
    )
    yield started
    stop_cluster(started)
