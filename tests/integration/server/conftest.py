"""Fixtures: real `langgraph dev` servers (see `server_support`), stopped in teardown."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path

import pytest
from server_support import DevServer, ServerFactory, example, legs_of, server_env

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE


@pytest.fixture(scope="session")
def inventory_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small inventory around the examples' dates, copied into every server's home.

    Built for the examples' own dates rather than from today, so the examples stay bookable in
    these tests however old they get.
    """
    days = [
        date.fromisoformat(leg["date"])
        for name in ("trip.json", "group_trip.json")
        for leg in legs_of(example(name)["request"])
    ]
    start = min(days) - timedelta(days=7)
    path = tmp_path_factory.mktemp("inventory") / INVENTORY_FILE
    Inventory.open(path, start=start, days=(max(days) - start).days + 14)
    return path


@pytest.fixture(scope="session")
def make_server(
    tmp_path_factory: pytest.TempPathFactory, inventory_file: Path
) -> Iterator[ServerFactory]:
    """A factory of started servers; all of them are stopped at the end of the session."""
    started: list[DevServer] = []

    def make(
        name: str = "server", env: Mapping[str, str] | None = None, *, auth: bool = True
    ) -> DevServer:
        workdir = tmp_path_factory.mktemp(name)
        home = workdir / "home"
        home.mkdir()
        shutil.copy(inventory_file, home / INVENTORY_FILE)
        server = DevServer(workdir=workdir, home=home, env=server_env(home, env), auth=auth)
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(make_server: ServerFactory) -> Iterator[DevServer]:
    """A plain server (no auth), shared by the tests of a module."""
    srv = make_server("server")
    yield srv
    srv.stop()


@pytest.fixture
def make_fresh_server(make_server: ServerFactory) -> Iterator[ServerFactory]:
    """Like `make_server`, for one test: its servers stop when the test ends."""
    mine: list[DevServer] = []

    def make(
        name: str = "server", env: Mapping[str, str] | None = None, *, auth: bool = True
    ) -> DevServer:
        server = make_server(name, env, auth=auth)
        mine.append(server)
        return server

    yield make
    for server in mine:
        server.stop()
