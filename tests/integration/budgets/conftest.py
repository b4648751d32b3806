"""The scripted loopback model server for the budget tests (see `support`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrator.testing.scripted_openai import ScriptedOpenAI, scripted_openai
from tests.integration.budgets.support import scripted


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    with scripted_openai() as state:
        yield scripted(state)
