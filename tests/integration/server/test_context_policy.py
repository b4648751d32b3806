"""Deployment settings are the operator's: the context filter, `ServerContext`, and the API key.

No server here (these run in the default suite): the caller-context rules `graph/auth.py`
enforces, the server graphs' second line of defence, and the rule that `OPENAI_API_KEY` is only
ever sent to the endpoint it was configured with, checked on the wire against the scripted
loopback model server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pydantic import TypeAdapter

from graph.server import describe_target
from orchestrator.context import (
    CALLER_FIELDS,
    OPERATOR_FIELDS,
    Context,
    ContextRefused,
    ServerContext,
    caller_context_problems,
    server_context,
)
from orchestrator.llm import models
from orchestrator.llm.models import (
    PLACEHOLDER_KEY,
    ModelCallFailed,
    describe_failure,
    open_chat_model,
    split_endpoint,
)
from orchestrator.testing.scripted_openai import ScriptedOpenAI, Text, scripted_openai

KEY = "sk-operator-SECRET-5d1e9a7c3b"


@pytest.fixture
def model_server() -> Iterator[ScriptedOpenAI]:
    with scripted_openai() as state:
        yield state


# --- what a caller may set -----------------------------------------------------------------


def test_the_split_covers_every_field() -> None:
    assert {
        "data_dir",
        "base_url",
        "planner_model",
        "synthesizer_model",
        "worker_model",
        "request_timeout_s",
        "request_retries",
    } == OPERATOR_FIELDS
    assert OPERATOR_FIELDS.isdisjoint(CALLER_FIELDS)
    assert {"max_rounds", "token_budget", "approval", "planner"} <= CALLER_FIELDS


@pytest.mark.parametrize(
    "field, value",
    [
        ("base_url", "http://127.0.0.1:9/v1"),
        ("data_dir", "/tmp/elsewhere"),
        ("planner_model", "gpt-4o"),
        ("synthesizer_model", "gpt-4o"),
        ("worker_model", "gpt-4o"),
        ("request_timeout_s", 9999.0),
        ("request_retries", 100),
    ],
)
def test_a_deployment_setting_from_a_caller_is_forbidden(field: str, value: Any) -> None:
    refused = caller_context_problems({field: value})
    assert isinstance(refused, ContextRefused)
    assert refused.forbidden
    assert f"{field} is a deployment setting" in str(refused)
    with pytest.raises(ContextRefused):
        server_context({field: value})


def test_approval_auto_is_the_deployments_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = caller_context_problems({"approval": "auto"})
    assert refused is not None and refused.forbidden
    assert "ORCHESTRATOR_APPROVAL" in str(refused)
    assert caller_context_problems({"approval": "ask"}) is None
    monkeypatch.setenv("ORCHESTRATOR_APPROVAL", "auto")
    assert caller_context_problems({"approval": "auto"}) is None  # no escalation: it is already
    assert Context().approval == "auto"


def test_limits_within_caps_pass_and_above_them_are_a_bad_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fine = {"max_rounds": 50, "max_parallel": 4, "deadline_s": 120, "token_budget": 10**9}
    assert caller_context_problems(fine) is None
    assert server_context(fine).max_rounds == 50
    refused = caller_context_problems({"max_rounds": 10**6, "deadline_s": float("inf")})
    assert refused is not None and not refused.forbidden
    assert "max_rounds=1000000 is above this server's cap of 100" in str(refused)
    assert "deadline_s must be a finite number" in str(refused)
    monkeypatch.setenv("ORCHESTRATOR_CAP_MAX_ROUNDS", "10")
    monkeypatch.setenv("ORCHESTRATOR_CAP_TOKEN_BUDGET", "5000")
    assert "cap of 10 (ORCHESTRATOR_CAP_MAX_ROUNDS)" in str(caller_context_problems(fine))
    assert ServerContext().max_rounds == 10  # the default is kept under the cap too
    assert ServerContext().token_budget == 5000  # no budget given: the operator's cap


def test_bad_values_unknown_fields_and_disabled_planners_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "max_rounds" in str(caller_context_problems({"max_rounds": "many"}))
    assert "must be at least 1" in str(caller_context_problems({"max_rounds": 0}))
    assert "unknown context field 'max_round'" in str(caller_context_problems({"max_round": 3}))
    # config.configurable carries LangGraph's own keys: unknown ones are not the caller's fault.
    assert caller_context_problems({"thread_id": "x"}, unknown_ok=True) is None
    monkeypatch.setenv("ORCHESTRATOR_PLANNERS", "rules")
    assert "planner='llm' is not enabled" in str(caller_context_problems({"planner": "llm"}))
    assert caller_context_problems({"planner": "rules"}) is None


# --- the server graphs' second line ----------------------------------------------------------


def test_a_server_context_takes_deployment_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "operator"))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    ctx = ServerContext(
        base_url="http://evil.example/v1",
        data_dir="/tmp/evil",
        planner_model="expensive",
        approval="auto",
        max_rounds=10**6,
        max_parallel=5,
    )
    assert ctx.base_url == "http://127.0.0.1:1/v1"
    assert ctx.data_dir == str(tmp_path / "operator")
    assert ctx.planner_model == ""
    assert ctx.approval == "ask"
    assert ctx.max_rounds == 100
    assert ctx.max_parallel == 5  # the caller's own limit, within the cap, is kept
    assert isinstance(ctx, Context)


def test_studio_sees_only_the_run_settings() -> None:
    schema = TypeAdapter(ServerContext).json_schema()
    properties = schema["properties"]
    assert OPERATOR_FIELDS.isdisjoint(properties)
    assert properties["approval"]["enum"] == ["ask"]
    assert properties["max_rounds"]["maximum"] == 100
    assert properties["max_rounds"]["description"].startswith("Orchestrator rounds")


# --- the API key goes only where the operator configured it ----------------------------------


async def _ask(context: Context) -> None:
    async with open_chat_model(context, "planner") as model:
        await model.text([HumanMessage("hello")], round_no=1)


async def test_the_key_goes_to_the_endpoint_it_was_configured_with(
    model_server: ScriptedOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.base_url + "/")  # a trailing / is the same
    model_server.script(Text("hi"))
    await _ask(Context(planner="llm", request_retries=0))
    assert model_server.headers[0]["authorization"] == f"Bearer {KEY}"


async def test_the_key_never_goes_to_another_endpoint(
    model_server: ScriptedOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with scripted_openai() as operators:
        for configured in ("", operators.base_url):  # OpenAI's API, or the operator's server
            if configured:
                monkeypatch.setenv("OPENAI_BASE_URL", configured)
            model_server.script(Text("hi"))
            await _ask(Context(planner="llm", base_url=model_server.base_url, request_retries=0))
        assert operators.calls == 0
    assert [h["authorization"] for h in model_server.headers] == [f"Bearer {PLACEHOLDER_KEY}"] * 2
    assert not any(KEY in value for h in model_server.headers for value in h.values())


async def test_a_password_in_the_base_url_is_sent_as_auth_and_shown_nowhere(
    model_server: ScriptedOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = model_server.base_url.replace("http://", "http://admin:s3cret-pw@")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    context = Context(planner="llm", request_retries=0)
    async with open_chat_model(context, "planner") as model:
        assert "s3cret" not in str(model.client.openai_api_base)  # what traces record
        assert "s3cret" not in str(model.client.to_json())
    model_server.script(Text("hi"))
    await _ask(context)
    assert model_server.headers[0]["authorization"].startswith("Basic ")  # the server got it
    monkeypatch.setattr(models, "ALLOW_REMOTE_MODELS", True)
    with pytest.raises(ModelCallFailed) as failed:  # nothing answers on port 9
        await _ask(Context(planner="llm", base_url="http://admin:s3cret-pw@127.0.0.1:9/v1"))
    assert "s3cret" not in str(failed.value)
    assert "admin:***@127.0.0.1:9" in str(failed.value)


def test_split_endpoint_and_redacted_descriptions() -> None:
    endpoint = split_endpoint("https://u:p%40ss@host:8443/v1?api-key=k1&region=eu")
    assert endpoint.url == "https://host:8443/v1?region=eu"
    assert endpoint.auth == ("u", "p@ss")
    assert endpoint.params == {"api-key": "k1"}
    assert split_endpoint("").url == ""
    for target in (
        "postgresql://app:hunter2@db:5432/x",
        "postgresql://db/x?password=hunter2&sslmode=disable",
    ):
        shown = describe_target(target)
        assert "hunter2" not in shown and "db" in shown


def test_describe_failure_names_the_endpoint_without_its_password() -> None:
    import httpx
    import openai

    request = httpx.Request("POST", "http://host/v1/chat/completions")
    error = openai.APIConnectionError(request=request)  # type: ignore[arg-type]
    context = Context(base_url="http://admin:pw-123456@host/v1", request_retries=0)
    text = describe_failure(error, context)
    assert "pw-123456" not in text and "admin:***@host" in text
