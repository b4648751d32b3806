"""Fixtures for the reference tests: a hermetic model environment and the scripted model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.testing.scripted_openai import ScriptedOpenAI, scripted_openai
from tests.integration.llm.conftest import HOSTILE_ENV
from tests.integration.llm.support import API_KEY


@pytest.fixture(autouse=True)
def hermetic_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in HOSTILE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "home"))


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    """A scripted OpenAI-compatible server on loopback; script its replies in the test."""
    with scripted_openai() as state:
        yield state
