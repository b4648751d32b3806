"""Writes `04_research.ipynb`, without outputs: `python notebooks/make_04_research.py`.

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

NOTEBOOK = Path(__file__).with_name("04_research.ipynb")

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """\
# Research: LLM agents as workers, a deterministic planner, then an LLM one

The research domain answers a question from a local document set with a **cited report**.
Its workers are **agents**: three prebuilt LangGraph ReAct agents (a searcher, a reader and a
writer), each with its own tools and a structured answer. The orchestrator plans, delegates in
parallel, re-plans from what the agents found, and a **verifier** checks that every claim of
the report quotes a document that was read.

In this notebook you will:

1. see the documents and turn a LangChain tool and an agent into workers;
2. run the domain with its **deterministic planner** (plain Python; the workers still are agents);
3. see the verifier's verdict and what each agent's tokens cost;
4. run it again with the **LLM planner** in the same seat.

Everything runs **offline**: the model is a scripted OpenAI-compatible server on loopback,
reached over real HTTP by the real `ChatOpenAI` client.""",
    ),
    (
        "code",
        """\
import sys
from contextlib import ExitStack

from langgraph.checkpoint.memory import InMemorySaver

from domains.research import research_domain
from domains.research.corpus import load_corpus
from domains.research.demo import DEMO_PLAN, DEMO_REQUEST
from domains.research.offline import research_model
from domains.research.tools import search_documents
from orchestrator import Context, build_graph, drive, run_config, worker_from_tool
from orchestrator.cli.progress import ProgressPrinter""",
    ),
    (
        "md",
        """\
## 1. The documents and the workers

About thirty short markdown files on a fictional island group ship with the package, so no
model can answer from memory. A BM25 index ranks them for a query.""",
    ),
    (
        "code",
        """\
corpus = load_corpus()
print(len(corpus.documents), "documents")
for hit in corpus.search("why did the kelp harvest collapse", k=3):
    print(f"{hit.score:5.2f}  {hit.doc_id:20} {hit.title}")""",
    ),
    (
        "md",
        """\
Anything LangChain or LangGraph can run can be a worker, typed and validated like any other:

- `worker_from_tool(tool)`: a `@tool`; its args schema is the input;
- `worker_from_runnable(runnable, In, Out)`: any Runnable;
- `worker_from_graph(graph, In, Out)`: a compiled graph, a prebuilt ReAct agent too. The task is
  the agent's first message, its structured answer the output, and the tokens its model used
  ride on the output (`usage`). The agent runs as a subgraph: an `interrupt()` inside it pauses
  the whole run.

The search tool alone, as a worker:""",
    ),
    (
        "code",
        """\
tool_worker = worker_from_tool(search_documents, timeout_s=5, max_attempts=2)
print(tool_worker.name, "-", tool_worker.description)
print("input:", tool_worker.input_schema()["properties"])""",
    ),
    (
        "md",
        """\
The research domain's workers are agents built per call on the run's model
(`agent_factory` + `worker_from_graph`, see `domains/research/workers.py`). This is what the
planner sees of them: name, description and input schema.""",
    ),
    (
        "code",
        """\
domain = research_domain()
for spec in domain.workers.catalogue():
    print(f"{spec['name']:7} {spec['description']}")""",
    ),
    (
        "md",
        """\
## 2. The deterministic planner

`ResearchRulesPlanner` (`domains/research/planner.py`) reads the board each round:

1. search for the question and each sub-question **at once**;
2. read the best hits **in parallel**;
3. **re-plan from the findings**: read the documents the relevant readings refer to;
4. hand the relevant documents to the writer; finish.

The offline model plays the agents: it answers each agent from what its tools returned (the
searcher keeps the hits, the reader copies sentences as facts, the writer cites them).""",
    ),
    (
        "code",
        """\
stack = ExitStack()
server = stack.enter_context(research_model())
context = Context(
    planner="rules", base_url=server.base_url, planner_model="scripted", approval="auto"
)
graph = build_graph(domain, checkpointer=InMemorySaver())
outcome = await drive(
    graph,
    {"goal": DEMO_REQUEST["question"], "request": DEMO_REQUEST},
    config=run_config("research-rules", context),
    context=context,
    on_event=ProgressPrinter(out=sys.stdout),
)
print()
print(outcome.values["answer"]["summary"])""",
    ),
    (
        "md",
        """\
## 3. The verdict and the cost per agent

The planner's `completed` is only a claim: the `CitationVerifier` decides, from the board and
the documents. Every claim must cite a document a reader read, and its quote must be in it.
Each agent reported its own token usage on its output.""",
    ),
    (
        "code",
        """\
values = outcome.values
print([e["message"] for e in values["log"] if e["message"].startswith("verified")])
for task in values["tasks"].values():
    output = values["results"][task["result_ref"]]["output"]
    for usage in output["usage"]:
        tokens = usage["prompt_tokens"] + usage["completion_tokens"]
        print(f"{task['id']:28} {usage['calls']} calls {tokens:6,} tokens")
print("planner model calls:", sum(1 for u in values["usage"] if u["role"] == "planner"))""",
    ),
    (
        "md",
        """\
## 4. The LLM planner

Same domain, same workers, same verifier; `planner="llm"` puts `LLMPlanner` in the seat, with
`ResearchGuide` adding the documents found and read to its prompt. Offline, its answers are the
plan updates below (what a model would have to write); the agents are played as before.""",
    ),
    (
        "code",
        """\
for n, update in enumerate(DEMO_PLAN, 1):
    print(n, update.get("decisions") or update.get("finish"))""",
    ),
    (
        "code",
        """\
server_llm = stack.enter_context(research_model(*DEMO_PLAN))
context_llm = Context(
    planner="llm", base_url=server_llm.base_url, planner_model="scripted", approval="auto"
)
outcome_llm = await drive(
    build_graph(domain, checkpointer=InMemorySaver()),
    {"goal": DEMO_REQUEST["question"], "request": DEMO_REQUEST},
    config=run_config("research-llm", context_llm),
    context=context_llm,
    on_event=ProgressPrinter(out=sys.stdout),
)
print(outcome_llm.values["status"], "-", outcome_llm.values["reason"])
planner_calls = [u for u in outcome_llm.values["usage"] if u["role"] == "planner"]
print("planner model calls:", len(planner_calls))""",
    ),
    (
        "md",
        """\
What the model read in round 3: the documents found and read, computed by the guide.""",
    ),
    (
        "code",
        """\
planning = [r for r in server_llm.requests if "## Task board" in str(r["messages"])]
prompt = planning[2]["messages"][1]["content"]
print(prompt[prompt.index("documents_read") - 2 :][:400])""",
    ),
    (
        "md",
        """\
## With a real model

Set `OPENAI_API_KEY` (and `OPENAI_BASE_URL` for any OpenAI-compatible server) and run
`python -m domains.research --planner llm --question "..."`: the agents and the planner then
think for themselves; the verifier still checks every quote. `make research` runs it offline.""",
    ),
    (
        "code",
        "stack.close()  # stops the scripted servers",
    ),
]


def build() -> nbformat.NotebookNode:
    return _build.build(CELLS)


if __name__ == "__main__":
    _build.write(CELLS, NOTEBOOK)
