"""The API key is used (the server sees it) but never stored: not in checkpoints, logs or traces."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from domains.synthetic import SLEEP
from graph.persistence import open_checkpointer
from orchestrator.testing.scripted_openai import Fail, ScriptedOpenAI, Text
from tests.integration.llm.support import (
    API_KEY,
    add,
    finish,
    llm_context,
    run,
    sleep_graph,
    stored_bytes,
    task,
)


class TraceRecorder(BaseCallbackHandler):
    """Everything a tracer (LangSmith or another) would be handed, as text."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def _keep(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.events.append(name + json.dumps([args, kwargs], default=repr))

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, **kw: Any) -> Any:
        self._keep("chat_model_start", serialized, messages, **kw)

    def on_llm_end(self, response: Any, **kw: Any) -> Any:
        self._keep("llm_end", response, **kw)

    def on_llm_error(self, error: BaseException, **kw: Any) -> Any:
        self._keep("llm_error", error, **kw)

    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, **kw: Any) -> Any:
        self._keep("chain_start", serialized, inputs, **kw)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> Any:
        self._keep("chain_end", outputs, run_id=run_id, **kw)


async def test_the_api_key_reaches_the_server_and_nothing_else(
    server: ScriptedOpenAI,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The key goes only to the endpoint the environment configures it for.
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    caplog.set_level(logging.DEBUG)
    server.script(add(task("r1-a", SLEEP, ms=1)), finish(), Text("Slept once, as asked."))
    path = tmp_path / "checkpoints.sqlite"
    tracer = TraceRecorder()
    context = llm_context(server, synthesizer_model="writer-model")

    async with open_checkpointer(str(path)) as saver:
        graph = sleep_graph(checkpointer=saver, llm_synthesizer=True)
        values = (await run(graph, context, callbacks=[tracer])).values

    assert values["status"] == "completed"
    assert values["answer"]["summary"].startswith("Slept once, as asked.")
    assert [u["role"] for u in values["usage"]] == ["planner", "planner", "synthesizer"]
    assert [r["model"] for r in server.requests] == ["test-model", "test-model", "writer-model"]
    assert all(h["authorization"] == f"Bearer {API_KEY}" for h in server.headers)

    assert API_KEY.encode() not in stored_bytes(path)
    assert b"sk-test" not in stored_bytes(path)
    assert caplog.records, "debug logging was on"
    assert API_KEY not in caplog.text
    assert len(tracer.events) > 5, "the model calls were traced"
    assert not any(API_KEY in event for event in tracer.events)


async def test_an_error_that_echoes_the_key_is_redacted(
    server: ScriptedOpenAI, tmp_path: Path
) -> None:
    server.script(
        Fail(401, f"Incorrect API key provided: {API_KEY}. Check your key."),
        Text("Nothing was done: the planner could not reach its model."),
    )
    path = tmp_path / "checkpoints.sqlite"

    async with open_checkpointer(str(path)) as saver:
        graph = sleep_graph(checkpointer=saver, llm_synthesizer=True)
        values = (await run(graph, llm_context(server, request_retries=2))).values

    assert values["status"] == "failed"
    assert "answered HTTP 401: Incorrect API key provided: [redacted]" in values["reason"]
    assert API_KEY not in values["reason"]
    assert API_KEY.encode() not in stored_bytes(path)
    assert server.calls == 2, "a 401 is not retried; then the synthesizer wrote its answer"
