"""Which model a run uses, if any: cheap checks that import no model client.

A model is configured when `OPENAI_API_KEY` is set or the run's `Context.base_url` is (it
defaults to `OPENAI_BASE_URL`): a local server such as vLLM, Ollama or LM Studio needs no key.
The key itself is read by the client from the environment and never enters the `Context`, the
state or a log line; it is only sent to `OPENAI_BASE_URL` (OpenAI's API when unset), so a
`Context.base_url` naming another endpoint gets a placeholder key (`llm.models.key_goes_to`).
"""

from __future__ import annotations

import os
from typing import Literal

from orchestrator.context import Context

Role = Literal["planner", "synthesizer", "worker"]

API_KEY_ENV = "OPENAI_API_KEY"
MODEL_ENV = "OPENAI_MODEL"
DEFAULT_MODEL = "gpt-4o-mini"

NO_MODEL = (
    "no model is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for an OpenAI-compatible "
    "server such as vLLM, Ollama or LM Studio), or pass Context(base_url=...)"
)


def model_configured(context: Context) -> bool:
    """True when there is an endpoint to call: an API key, or an explicit base URL."""
    return bool(os.environ.get(API_KEY_ENV) or context.base_url)


def use_llm_planner(context: Context) -> bool:
    """`llm` always, `rules` never, `auto` when a model is configured."""
    if context.planner == "llm":
        return True
    if context.planner == "rules":
        return False
    return model_configured(context)


def use_llm_synthesizer(context: Context) -> bool:
    """The LLM synthesizer is opt-in: a synthesizer model is named and a model is configured."""
    return bool(context.synthesizer_model) and model_configured(context)


def model_name(context: Context, role: Role) -> str:
    """The role's model: the `Context` field (a worker's: `worker_model`, else the planner's),
    else `OPENAI_MODEL`, else `DEFAULT_MODEL`."""
    if role == "worker":
        chosen = context.worker_model or context.planner_model
    else:
        chosen = context.planner_model if role == "planner" else context.synthesizer_model
    return chosen or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
