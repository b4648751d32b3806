"""Writes `02_your_own_workers.ipynb`, without outputs: `python notebooks/make_02_...py`.

The notebook is generated so that it stays reviewable as code: edit this file, not the notebook,
and run it again. Cell ids are fixed, so every run writes the same file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

# The shared writer sits beside these scripts, which run as files, not as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _build

NOTEBOOK = Path(__file__).with_name("02_your_own_workers.ipynb")

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """\
# Your own workers: a research and calculator pool, planned by rules, then by an LLM

The orchestrator is not about travel. Give it a pool of workers, a planner and a goal: the
planner splits the goal into tasks, the workers run them (independent ones in parallel), the
planner reads the results and plans again until the goal is met.

In this notebook you will:

1. write two workers, **research** (looks facts up) and **calculator** (does arithmetic);
2. write a **deterministic planner**: plain Python that reads the task board each round;
3. put them in a `Domain` and run a goal, watching the rounds;
4. put the **LLM planner** in the same seat, and run the same goal again.

Start with the deterministic planner: it is fast, free and testable, and it shows exactly what
a planner's job is. The LLM planner does the same job from a prompt. It runs **offline** here:
the model is a scripted OpenAI-compatible server on your own machine
(`orchestrator.testing.scripted_openai`), reached over real HTTP by the real `ChatOpenAI`
client. Its answers are written below, so you can see exactly what a model is asked to produce.
To use a real model, see the end of the notebook.""",
    ),
    (
        "code",
        """\
import ast
import operator
import sys
import tempfile
from contextlib import ExitStack

from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel, Field

# Everything a domain author needs is one import.
from orchestrator import (
    Context,
    Domain,
    Finish,
    LLMPlanner,
    LLMSynthesizer,
    NewTask,
    Planner,
    PlanOutcome,
    PlanUpdate,
    PlanView,
    Synthesizer,
    TaskFailed,
    TemplateSynthesizer,
    WorkerCall,
    WorkerRegistry,
    WorkerSpec,
    build_graph,
    drive,
    run_config,
)
from orchestrator.cli.progress import ProgressPrinter
from orchestrator.llm.usage import usage_totals
from orchestrator.testing.scripted_openai import Text, scripted_openai""",
    ),
    (
        "md",
        """\
## 1. The workers

A worker is an async function from a pydantic input to a pydantic output, plus a name and a
description. The planner's prompt is built from these: the name, the description and the input
fields (each with its type, default and description, one compact line per worker) are all the
model knows about a worker, so a new worker needs no prompt edit.

`summarize` matters: the planner reads a compact one-line summary of each result, never the raw
output. Raise `TaskFailed` for an expected failure; the planner sees the message and can plan
around it.""",
    ),
    (
        "code",
        """\
# A tiny offline "library". Approximate figures, for the example only.
FACTS = {
    "population of paris": (2_100_000, "people"),
    "population of berlin": (3_800_000, "people"),
    "population of lisbon": (550_000, "people"),
    "area of paris": (105, "km2"),
    "area of berlin": (891, "km2"),
}


class ResearchInput(BaseModel):
    topic: str = Field(description="What to look up, e.g. 'population of Paris'.")


class Finding(BaseModel):
    topic: str
    value: float
    unit: str


async def research(inputs: ResearchInput, call: WorkerCall) -> Finding:
    key = inputs.topic.strip().lower()
    if key not in FACTS:
        raise TaskFailed(f"nothing known about {inputs.topic!r}; known: {', '.join(FACTS)}")
    value, unit = FACTS[key]
    return Finding(topic=inputs.topic, value=value, unit=unit)


RESEARCH = WorkerSpec(
    name="research",
    description="Looks up one fact (a number with its unit) about a topic.",
    input_model=ResearchInput,
    output_model=Finding,
    run=research,
    summarize=lambda f: f"{f.topic}: {f.value:,.0f} {f.unit}",
)""",
    ),
    (
        "code",
        """\
OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
}


def evaluate(node: ast.AST) -> float:
    \"\"\"Arithmetic only: numbers, + - * / ** and parentheses. Nothing else runs.\"\"\"
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](evaluate(node.left), evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](evaluate(node.operand))
    raise ValueError(f"not allowed in an expression: {ast.dump(node)[:60]}")


class CalculatorInput(BaseModel):
    expression: str = Field(description="Arithmetic with numbers only, e.g. '(2 + 3) / 4'.")


class Calculation(BaseModel):
    expression: str
    value: float


async def calculate(inputs: CalculatorInput, call: WorkerCall) -> Calculation:
    try:
        value = evaluate(ast.parse(inputs.expression, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError) as exc:
        raise TaskFailed(f"cannot compute {inputs.expression!r}: {exc}") from exc
    return Calculation(expression=inputs.expression, value=value)


CALCULATOR = WorkerSpec(
    name="calculator",
    description="Evaluates an arithmetic expression exactly; use it for every computation.",
    input_model=CalculatorInput,
    output_model=Calculation,
    run=calculate,
    summarize=lambda c: f"{c.expression} = {c.value:,.4g}",
)""",
    ),
    (
        "md",
        """\
## 2. A deterministic planner

A planner answers one question each round: given the goal and the task board, what next? It
returns a `PlanUpdate`: tasks to `add` (independent ones run in parallel; `depends_on` orders
the rest), `decisions` (why, for the log and the report), or `finish` with a status and a
reason. `view.output_of(task_id)` is a finished task's output; the planner never calls a worker
itself.

This one looks the three populations up at once, then computes the ratio from the figures that
came back (it re-plans from the results), then finishes. A failed look-up ends the run `failed`,
saying which.""",
    ),
    (
        "code",
        """\
CITIES = ("Paris", "Berlin", "Lisbon")
LOOKUPS = [f"r1-{city.lower()}" for city in CITIES]


class PopulationPlanner:
    async def plan(self, view: PlanView) -> PlanOutcome:
        if not view.tasks:  # round 1: three independent look-ups, run in parallel
            add = [
                NewTask(id=task_id, worker="research", inputs={"topic": f"population of {city}"})
                for task_id, city in zip(LOOKUPS, CITIES, strict=True)
            ]
            return PlanOutcome(PlanUpdate(add=add, decisions=["look the populations up at once"]))
        if any(t["status"] in ("pending", "running") for t in view.tasks.values()):
            return PlanOutcome(PlanUpdate())  # wait for the tasks still running
        if "r2-ratio" not in view.tasks:  # round 2: compute from what came back
            found = {task_id: view.output_of(task_id) for task_id in LOOKUPS}
            missing = [task_id for task_id, output in found.items() if output is None]
            if missing:
                reason = f"no figure from {', '.join(missing)}"
                return PlanOutcome(PlanUpdate(finish=Finish(status="failed", reason=reason)))
            paris, berlin, lisbon = (found[task_id]["value"] for task_id in LOOKUPS)
            ratio = NewTask(
                id="r2-ratio",
                worker="calculator",
                inputs={"expression": f"({paris:.0f} + {berlin:.0f}) / {lisbon:.0f}"},
                depends_on=LOOKUPS,
            )
            decision = "compute the ratio with the calculator, from the figures found"
            return PlanOutcome(PlanUpdate(add=[ratio], decisions=[decision]))
        return PlanOutcome(
            PlanUpdate(finish=Finish(status="completed", reason="the ratio is computed"))
        )""",
    ),
    (
        "md",
        """\
## 3. The domain, and a run

A `Domain` bundles the worker pool with a planner factory and a synthesizer factory, each
called with the run's `Context`. The planner is a seat: this domain puts the
`PopulationPlanner` in it, or the `LLMPlanner` when a run asks for `planner="llm"`. The
`TemplateSynthesizer` writes an exact account of the board; with the LLM, an `LLMSynthesizer`
writes a short answer above it.

The graph is the same for every domain: `orchestrate` plans and dispatches, one node per worker
runs the tasks (all ready tasks in parallel), `synthesize` writes the answer.""",
    ),
    (
        "code",
        """\
def planner(context: Context) -> Planner:
    return LLMPlanner() if context.planner == "llm" else PopulationPlanner()


def synthesizer(context: Context) -> Synthesizer:
    if context.planner == "llm":
        return LLMSynthesizer(TemplateSynthesizer())
    return TemplateSynthesizer()


domain = Domain(
    name="research",
    description="Answers questions by looking facts up and computing with them.",
    workers=WorkerRegistry.of(RESEARCH, CALCULATOR),
    planner=planner,
    synthesizer=synthesizer,
)
graph = build_graph(domain, checkpointer=InMemorySaver())
[spec["name"] for spec in domain.workers.catalogue()]""",
    ),
    (
        "code",
        """\
goal = "How many times more people live in Paris and Berlin together than in Lisbon?"
rules = Context(planner="rules", approval="auto", data_dir=tempfile.mkdtemp())
outcome = await drive(
    graph,
    {"goal": goal},
    config=run_config("rules-1", rules),
    context=rules,
    on_event=ProgressPrinter(out=sys.stdout),
)
print()
print(outcome.values["status"], "-", outcome.values["reason"])
print(outcome.values["answer"]["data"]["outputs"]["r2-ratio"])""",
    ),
    (
        "md",
        """\
## 4. The LLM planner in the same seat

The `LLMPlanner` reads the goal, the worker catalogue (made from the registry: each worker's
name, description and input fields with their types and descriptions) and the board, and
answers the same `PlanUpdate`s through function calling. A new worker needs no prompt edit.

The scripted server answers each request with the next reply of its script. A dict is sent the
way a model answers through function calling: as the arguments of the `PlanUpdate` tool. So
each reply below is one round's plan update, the same ones the `PopulationPlanner` made. The
last reply is plain text: the synthesizer's answer.

Every reply still goes through the same validation as any planner's: an unknown worker, inputs
that fail a worker's schema, a dependency cycle or a missing task would be refused and the model
asked again with the reasons.""",
    ),
    (
        "code",
        """\
stack = ExitStack()
server = stack.enter_context(scripted_openai())
server.script(
    # Round 1: three independent look-ups, run in parallel.
    {
        "add": [
            {"id": "r1-paris", "worker": "research", "inputs": {"topic": "population of Paris"}},
            {"id": "r1-berlin", "worker": "research", "inputs": {"topic": "population of Berlin"}},
            {"id": "r1-lisbon", "worker": "research", "inputs": {"topic": "population of Lisbon"}},
        ],
        "decisions": ["look up the three populations at once"],
    },
    # Round 2: the model read the summaries; now it computes.
    {
        "add": [
            {
                "id": "r2-ratio",
                "worker": "calculator",
                "inputs": {"expression": "(2100000 + 3800000) / 550000"},
            }
        ],
        "decisions": ["compute the ratio with the calculator, not in my head"],
    },
    # Round 3: the answer is on the board.
    {"finish": {"status": "completed", "reason": "the ratio is computed"}},
    # The synthesizer's prose.
    Text(
        "Paris and Berlin together have about 5.9 million people: "
        "about 10.7 times as many as Lisbon (0.55 million)."
    ),
)
server.base_url""",
    ),
    (
        "md",
        """\
Settings for one run live in a `Context`. `planner="llm"` picks the LLM planner (the default,
`auto`, picks it whenever a model is configured). `base_url` points the client at any
OpenAI-compatible server; the API key, if any, is read from `OPENAI_API_KEY` by the client and
never enters the context or the checkpoints.""",
    ),
    (
        "code",
        """\
context = Context(
    planner="llm",
    base_url=server.base_url,
    planner_model="scripted-planner",
    synthesizer_model="scripted-writer",
    approval="auto",
    data_dir=tempfile.mkdtemp(),
)
outcome = await drive(
    graph,
    {"goal": goal},
    config=run_config("llm-1", context),
    context=context,
    on_event=ProgressPrinter(out=sys.stdout),
)
print()
print(outcome.values["answer"]["summary"])""",
    ),
    (
        "md",
        """\
## 5. What the model was asked, and what it cost

Each round's prompt holds the goal, the catalogue generated from the registry, the limits left,
a window of the task board with one-line summaries, and the planner's notes. Worker results are
fenced as untrusted data. Token usage is recorded per call in the run's state (with a cost when
the model is in `orchestrator.llm.usage.PRICES`).""",
    ),
    (
        "code",
        """\
second_round = server.requests[1]["messages"][1]["content"]
print(second_round[second_round.index("## Task board") :])""",
    ),
    (
        "code",
        """\
for entry in outcome.values["usage"]:
    print(entry)
print(usage_totals(outcome.values["usage"]).describe())""",
    ),
    (
        "md",
        """\
## 6. With a real model

Drop the scripted server and configure a model; nothing else changes:

```python
os.environ["OPENAI_API_KEY"] = "sk-..."      # OpenAI (better: export it in your shell)
# or a local server, no key needed:
context = Context(planner="llm", base_url="http://localhost:11434/v1",   # Ollama
                  planner_model="llama3.1", synthesizer_model="llama3.1", approval="auto")
```

A real model writes the plan updates itself, from the same prompt. Limits that keep a run safe
(`max_rounds`, `max_tasks`, `deadline_s`, `token_budget`, `plan_attempts`...) are all `Context`
fields.""",
    ),
    (
        "code",
        "stack.close()  # stops the scripted server",
    ),
]


def build() -> nbformat.NotebookNode:
    return _build.build(CELLS)


if __name__ == "__main__":
    _build.write(CELLS, NOTEBOOK)
