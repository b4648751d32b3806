"""Fixtures shared by every test tier: real inventory files, a fresh data directory per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from domains.travel.inventory import Inventory
from domains.travel.services import INVENTORY_FILE


@pytest.fixture(scope="session")
def inventory_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One inventory database built per session (seconds); tests get copies of it."""
    path = tmp_path_factory.mktemp("inventory-template") / INVENTORY_FILE
    Inventory.open(path)
    return path


@pytest.fixture
def data_dir(tmp_path: Path, inventory_template: Path) -> Iterator[Path]:
    """A data directory holding a private copy of the inventory, for tests that book."""
    target = tmp_path / "data"
    target.mkdir()
    shutil.copy(inventory_template, target / INVENTORY_FILE)
    yield target


@pytest.fixture
def inventory(data_dir: Path) -> Inventory:
    return Inventory.open(data_dir / INVENTORY_FILE)
