"""Your own workers, no travel code: the research + calculator notebook runs offline, as shipped.

The notebook (`notebooks/02_your_own_workers.ipynb`) defines its own worker pool and runs the
LLM orchestrator against the scripted server in a real Jupyter kernel. The test executes it as
a reader would, then checks the run from inside the kernel.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "02_your_own_workers.ipynb"
GENERATOR = ROOT / "notebooks" / "make_02_your_own_workers.py"

CHECKS = """\
import json
values = outcome.values
first_prompt = server.requests[0]["messages"][1]["content"]
workers = first_prompt.split("## Workers", 1)[1].split("\\n\\n## ", 1)[0].splitlines()[1:]
heads = [line for line in workers if line[:1] != " "]
catalogue = [{"name": line.split(":", 1)[0].split(" (", 1)[0]} for line in heads]
ratio = values["results"][values["tasks"]["r2-ratio"]["result_ref"]]["output"]["value"]
print(json.dumps({
    "status": values["status"],
    "catalogue": [w["name"] for w in catalogue],
    "models": [r["model"] for r in server.requests],
    "tools": sorted({t["function"]["name"] for r in server.requests for t in r.get("tools", [])}),
    "ratio": ratio,
    "usage_roles": [u["role"] for u in values["usage"]],
    "summary": values["answer"]["summary"],
}))
"""


def test_the_notebook_is_generated_and_holds_no_outputs() -> None:
    spec = importlib.util.spec_from_file_location("make_02_your_own_workers", GENERATOR)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)

    shipped = nbformat.read(NOTEBOOK, as_version=4)
    assert nbformat.writes(generator.build()) == nbformat.writes(shipped), "run the generator again"
    assert all(not c.get("outputs") for c in shipped.cells if c.cell_type == "code")
    source = "\n".join(c.source for c in shipped.cells)
    assert "domains.travel" not in source and "search_flights" not in source


@pytest.mark.slow
def test_the_notebook_runs_offline_with_its_own_worker_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path warning
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(CHECKS))
    client = NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()

    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    report = json.loads(printed)
    assert report["status"] == "completed"
    assert report["catalogue"] == ["research", "calculator"]
    assert report["models"] == ["scripted-planner"] * 3 + ["scripted-writer"]
    assert report["tools"] == ["PlanUpdate"]
    assert report["ratio"] == pytest.approx((2_100_000 + 3_800_000) / 550_000)
    assert report["usage_roles"] == ["planner", "planner", "planner", "synthesizer"]
    assert report["summary"].startswith("Paris and Berlin together")
    progress = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "finished: completed" in progress
