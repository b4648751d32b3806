"""Writes a notebook from a list of (kind, source) cells, with stable ids and no outputs.

Each `make_0N_*.py` beside this file holds one notebook's cells; the committed `.ipynb` is their
output, so a notebook is reviewed as Python source and regenerated with `python notebooks/make_...`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def build(cells: Sequence[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = new_notebook()
    notebook.metadata.update(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )
    for n, (kind, source) in enumerate(cells, 1):
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        cell.id = f"cell-{n:02d}"
        notebook.cells.append(cell)
    return notebook


def write(cells: Sequence[tuple[str, str]], path: Path) -> None:
    nbformat.write(build(cells), path)
    print(f"wrote {path}")
