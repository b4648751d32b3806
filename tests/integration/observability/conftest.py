"""Observability tests: hermetic model and tracing settings, and a LangSmith stand-in on loopback.

In-process tests run with no model and no tracing configured, whatever the developer's shell
holds. Tests that start the CLI build the child's environment from `clean_env()` and add exactly
what they mean to test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from domains.travel.services import INVENTORY_FILE
from tests.integration.observability.langsmith_sink import LangSmithSink, langsmith_sink

SETTINGS_PREFIXES = ("OPENAI_", "LANGSMITH_", "LANGCHAIN_", "ORCHESTRATOR_")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def clean_env() -> dict[str, str]:
    """This process's environment without model, tracing, orchestrator or proxy settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(SETTINGS_PREFIXES) and k not in PROXIES
    }


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES) or name in PROXIES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "home"))


@pytest.fixture
def sink() -> Iterator[LangSmithSink]:
    with langsmith_sink() as running:
        yield running


def data_dir_from(template: Path, target: Path) -> Path:
    """A data directory holding a private copy of the session's inventory."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, target / INVENTORY_FILE)
    return target
