"""Every notebook in `notebooks/` runs offline, top to bottom, in a fresh kernel of this venv.

Cells that fail fail the test. The notebooks are committed without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.integration.observability.conftest import data_dir_from

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
CELL_TIMEOUT_S = 120


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_three_tutorials_are_there() -> None:
    prefixes = {p.name[:3] for p in notebooks()}
    assert prefixes >= {"01_", "02_", "03_"}, prefixes


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_the_notebook_is_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)

    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.slow
@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_the_notebook_runs_offline(
    path: Path,
    tmp_path: Path,
    inventory_template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kernel inherits this environment: no model, no tracing (the conftests see to that),
    # and a data directory that already holds an inventory, so no notebook spends seconds
    # building one.
    monkeypatch.setenv(
        "ORCHESTRATOR_HOME", str(data_dir_from(inventory_template, tmp_path / "home"))
    )
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},
    )

    client.execute()

    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
