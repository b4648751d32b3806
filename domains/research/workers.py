"""The research workers: three LLM agents (prebuilt ReAct agents) over the document set.

Each is `worker_from_graph` around an agent built per call on the run's model (`Context`
endpoint and model name), with its own tools and its structured answer as the output. Their
token usage rides on each output (`usage`).
"""

from __future__ import annotations

from typing import Any

from domains.research import prompts
from domains.research.models import (
    Reading,
    ReadInput,
    Report,
    SearchInput,
    SearchResults,
    WriteInput,
)
from domains.research.tools import read_document, search_documents
from orchestrator.adapters import agent_factory, worker_from_graph
from orchestrator.workers import WorkerSpec

SEARCH = "search"
READ = "read"
WRITE = "write"


def _search_summary(out: SearchResults) -> str:
    hits = ", ".join(f"{h.doc_id} ({h.score:g})" for h in out.hits[:5]) or "nothing"
    return f"{out.query!r}: {len(out.hits)} hit(s): {hits}"


def _read_summary(out: Reading) -> str:
    verdict = "relevant" if out.relevant else "not relevant"
    links = f"; see also {', '.join(out.see_also)}" if out.see_also else ""
    return f"{out.doc_id}: {verdict}, {len(out.facts)} fact(s){links}"


def _write_summary(out: Report) -> str:
    cited = sorted({c.doc_id for claim in out.claims for c in claim.citations})
    return f"{out.title!r}: {len(out.claims)} claim(s) citing {', '.join(cited) or 'nothing'}"


def research_workers() -> list[WorkerSpec[Any, Any]]:
    searcher = worker_from_graph(
        agent_factory(
            [search_documents], SearchResults, prompt=prompts.SEARCHER_PROMPT, name="searcher"
        ),
        SearchInput,
        SearchResults,
        name=SEARCH,
        description="An agent that searches the local document set; returns ranked doc ids.",
        messages=True,
        timeout_s=120,
        max_attempts=2,
        summarize=_search_summary,
    )
    reader = worker_from_graph(
        agent_factory([read_document], Reading, prompt=prompts.READER_PROMPT, name="reader"),
        ReadInput,
        Reading,
        name=READ,
        description="An agent that reads one document; returns its facts with verbatim quotes "
        "and the documents it refers to.",
        messages=True,
        timeout_s=120,
        max_attempts=2,
        summarize=_read_summary,
    )
    writer = worker_from_graph(
        agent_factory([read_document], Report, prompt=prompts.WRITER_PROMPT, name="writer"),
        WriteInput,
        Report,
        name=WRITE,
        description="An agent that writes the cited report from documents already read.",
        messages=True,
        timeout_s=180,
        max_attempts=2,
        summarize=_write_summary,
    )
    return [searcher, reader, writer]
