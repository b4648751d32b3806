"""The LLM tests: the real `ChatOpenAI` over real HTTP, against a scripted loopback server.

The environment is hermetic: the developer's model settings are removed, `OPENAI_API_KEY` holds
a marker that tests look for in checkpoints, logs and traces, and any endpoint that is not on
loopback is refused (`ALLOW_REMOTE_MODELS`), so no test can reach a real model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.llm import models
from orchestrator.testing.scripted_openai import ScriptedOpenAI, scripted_openai
from tests.integration.llm.support import API_KEY

HOSTILE_ENV = (
    "ORCHESTRATOR_PLANNER",
    "ORCHESTRATOR_PLANNER_MODEL",
    "ORCHESTRATOR_SYNTHESIZER_MODEL",
    "ORCHESTRATOR_CHECKPOINTER",
    "ORCHESTRATOR_REQUEST_TIMEOUT",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "OPENAI_MODEL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_PROXY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGCHAIN_TRACING_V2",
    # A proxy would see loopback requests too; the scripted server is always direct.
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def hermetic_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in HOSTILE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(models, "ALLOW_REMOTE_MODELS", False)


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    """A scripted OpenAI-compatible server on loopback; script its replies in the test."""
    with scripted_openai() as state:
        yield state
