"""Both inventories know the same routes, and name the same one-stop hubs from them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from domains.travel.inventory.generate import _routes
from domains.travel.inventory.postgres import PostgresInventory
from domains.travel.workers.search_flights import one_stop_hubs
from tests.integration.inventory_pg.conftest import START

pytestmark = pytest.mark.postgres


def test_served_routes_and_hubs_are_the_same_on_sqlite_and_postgresql(
    pg_shared: PostgresInventory, sqlite_template: Path
) -> None:
    sqlite = Inventory(sqlite_template)
    routes = sqlite.served_routes()

    assert routes == pg_shared.served_routes() == frozenset(_routes())
    assert ("ORD", "BCN") not in routes and ("ORD", "CDG") in routes
    day = START + timedelta(days=20)
    for origin, destination, some in [("ORD", "BCN", 3), ("BCN", "SFO", 3), ("SYD", "DUB", 0)]:
        hubs = one_stop_hubs(sqlite, origin, destination, day)
        assert len(hubs) == some and hubs == one_stop_hubs(pg_shared, origin, destination, day)
