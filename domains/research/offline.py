"""The offline model for the research domain: the scripted loopback server, playing every agent.

Worker agents run in parallel, so a single queue of replies would hand one agent's answer to
another. Here the server answers the three research agents from a script *function* of the
request (which agent asks, and what its tools returned so far), and everything else (the LLM
planner's plan updates) from its ordinary queue, in order. The agents' answers are mechanical:
the searcher keeps the tool's hits, the reader copies a document's first sentences as facts with
verbatim quotes, the writer cites them. The real `ChatOpenAI` client, the prebuilt agents and
their tool calls all run for real, over HTTP.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from domains.research.corpus import words
from orchestrator.testing.scripted_openai import (
    Call,
    Calls,
    Reply,
    ScriptedOpenAI,
    Text,
    _handler,
)

SEARCHER = "You are the research searcher."
READER = "You are the research reader."
WRITER = "You are the research writer."
HITS_KEPT = 4
FACTS_PER_DOCUMENT = 3
CLAIMS_PER_DOCUMENT = 2

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class _PerThreadLog(list[dict[str, Any]]):
    """The server's request log, remembering which request each handler thread appended last:
    the server asks for a reply right after recording the request, in the same thread."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def append(self, item: dict[str, Any]) -> None:
        self.local.last = item
        super().append(item)


@dataclass
class ResearchModel(ScriptedOpenAI):
    """A `ScriptedOpenAI` whose research-agent requests are answered by `answer`."""

    requests: list[dict[str, Any]] = field(default_factory=_PerThreadLog)
    agent_calls: int = 0

    def next_reply(self) -> Reply:
        log = self.requests
        request = getattr(log.local, "last", None) if isinstance(log, _PerThreadLog) else None
        reply = answer(request) if request is not None else None
        if reply is not None:
            with self.lock:
                self.agent_calls += 1
            return reply
        return super().next_reply()


@contextmanager
def research_model(*planner_replies: Reply) -> Iterator[ResearchModel]:
    """Serves on a free 127.0.0.1 port until the block ends; `base_url` ends in /v1.

    `planner_replies` are the LLM planner's answers, in order (none for the rules planner).
    """
    state = ResearchModel()
    state.script(*planner_replies)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.02,), name="research-model", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def answer(request: dict[str, Any]) -> Reply | None:
    """The research agents' reply to `request`, or None when no research agent asks."""
    messages: list[dict[str, Any]] = request.get("messages") or []
    fmt = request.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        make = _STRUCTURED.get(str(fmt.get("json_schema", {}).get("name")))
        return make(messages) if make else None
    system = next((str(m.get("content") or "") for m in messages if m["role"] == "system"), "")
    agent = system.splitlines()[0] if system else ""
    tools_done = [m for m in messages if m["role"] == "tool"]
    task = _task(messages)
    if agent == SEARCHER:
        if not tools_done:
            return Calls((Call("search_documents", {"query": task}),))
        return Text("These are the documents that matter for the query.")
    if agent == READER:
        if not tools_done:
            return Calls((Call("read_document", {"doc_id": json.loads(task)["doc_id"]}),))
        return Text("I have read the document.")
    if agent == WRITER:
        doc_ids = json.loads(task)["doc_ids"]
        if len(tools_done) < len(doc_ids):
            return Calls((Call("read_document", {"doc_id": doc_ids[len(tools_done)]}),))
        return Text("The report is written.")
    return None


def _task(messages: list[dict[str, Any]]) -> str:
    return next((str(m.get("content") or "") for m in messages if m["role"] == "user"), "")


def _tool_outputs(messages: list[dict[str, Any]]) -> list[Any]:
    outputs = []
    for message in messages:
        if message["role"] == "tool":
            try:
                outputs.append(json.loads(str(message.get("content") or "")))
            except json.JSONDecodeError:
                outputs.append(None)  # an error the tool reported
    return outputs


def sentences(text: str) -> list[str]:
    """A document's sentences, without its 'See also' line."""
    return [s for s in _SENTENCE.split(" ".join(text.split())) if not s.startswith("See also")]


def _search_results(messages: list[dict[str, Any]]) -> dict[str, Any]:
    hits: list[dict[str, Any]] = []
    for output in _tool_outputs(messages):
        hits.extend(output if isinstance(output, list) else [])
    kept = [{k: h[k] for k in ("doc_id", "title", "score")} for h in hits[:HITS_KEPT]]
    return {"query": _task(messages), "hits": kept}


def _reading(messages: list[dict[str, Any]]) -> dict[str, Any]:
    task = json.loads(_task(messages))
    documents = [o for o in _tool_outputs(messages) if isinstance(o, dict)]
    if not documents:
        return {"doc_id": task["doc_id"], "relevant": False, "facts": [], "see_also": []}
    document = documents[0]
    shared = set(words(task["question"])) & set(words(document["text"]))
    facts = [{"statement": s, "quote": s} for s in sentences(document["text"])[:FACTS_PER_DOCUMENT]]
    return {
        "doc_id": document["doc_id"],
        "relevant": len(shared) >= 2,
        "facts": facts,
        "see_also": document["links"],
    }


def _report(messages: list[dict[str, Any]]) -> dict[str, Any]:
    task = json.loads(_task(messages))
    claims = []
    for document in _tool_outputs(messages):
        if not isinstance(document, dict):
            continue
        for sentence in sentences(document["text"])[:CLAIMS_PER_DOCUMENT]:
            citation = {"doc_id": document["doc_id"], "quote": sentence}
            claims.append({"text": sentence, "citations": [citation]})
    return {"title": task["question"], "claims": claims}


_STRUCTURED = {"SearchResults": _search_results, "Reading": _reading, "Report": _report}
