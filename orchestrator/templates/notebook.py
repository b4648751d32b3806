"""The cells of a new domain's notebook (`{{name}}` and friends are filled in when written)."""

from __future__ import annotations

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """\
# {{title}}: your own orchestrator

This domain was written by `write_domain_skeleton`. It runs here twice: first with its
**deterministic planner** (plain Python reading the task board), then with the **LLM planner**
in the same seat, offline, against a scripted OpenAI-compatible server on your machine.""",
    ),
    (
        "code",
        """\
# The folder that holds the package must be importable (Jupyter starts in the notebook's).
import pathlib
import sys

here = pathlib.Path.cwd()
sys.path.insert(0, str(here.parent if (here / "__init__.py").exists() else here))""",
    ),
    (
        "code",
        """\
from langgraph.checkpoint.memory import InMemorySaver
from orchestrator import Context, build_graph, drive, run_config

from {{name}} import {{name}}_domain

domain = {{name}}_domain()
[spec["name"] for spec in domain.workers.catalogue()]""",
    ),
    (
        "md",
        """\
## 1. The deterministic planner

Each round `{{Class}}Planner` reads the board and answers a `PlanUpdate`: round 1 counts every
text at once (parallel tasks), round 2 shouts the longest one (it re-plans from the counts),
round 3 finishes. `{{Class}}Verifier` then decides whether the run is `completed`.""",
    ),
    (
        "code",
        """\
request = {"texts": ["the quick brown fox", "jumps", "over the lazy dog"]}
graph = build_graph(domain, checkpointer=InMemorySaver())
context = Context(planner="rules", approval="auto")
outcome = await drive(
    graph,
    {"goal": "count and shout", "request": request},
    config=run_config("rules-1", context),
    context=context,
)
print(outcome.values["answer"]["summary"])""",
    ),
    (
        "md",
        """\
## 2. The LLM planner

The same domain with `planner="llm"`: the model reads the goal, the worker catalogue (made
from the registry) and the board, and answers the plan updates. Offline, a scripted model gives
the answers below, over real HTTP; set `OPENAI_API_KEY` (or `base_url`) to use a real one.""",
    ),
    (
        "code",
        """\
from orchestrator.testing.scripted_openai import scripted_openai

texts = request["texts"]
count = [
    {"id": f"count-{n}", "worker": "count_words", "inputs": {"text": t}}
    for n, t in enumerate(texts, 1)
]
shout = {"id": "shout", "worker": "shout", "inputs": {"text": texts[0]}, "depends_on": ["count-1"]}
script = [
    {"add": count, "decisions": ["count every text at once"]},
    {"add": [shout], "decisions": ["text 1 is the longest: shout it"]},
    {"finish": {"status": "completed", "reason": "counted and shouted"}},
]
with scripted_openai(script) as server:
    context = Context(
        planner="llm",
        base_url=server.base_url,
        planner_model="scripted",
        approval="auto",
        request_retries=0,
    )
    graph = build_graph(domain, checkpointer=InMemorySaver())
    outcome = await drive(
        graph,
        {"goal": "count and shout", "request": request},
        config=run_config("llm-1", context),
        context=context,
    )
print(outcome.values["status"], "-", outcome.values["reason"])
print(len(outcome.values["usage"]), "model calls")""",
    ),
]
