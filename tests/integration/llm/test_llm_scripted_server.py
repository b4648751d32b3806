"""The scripted server speaks enough OpenAI for `ChatOpenAI`'s three structured-output methods,
streamed and not, as the other tests rely on."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from orchestrator.testing.scripted_openai import Call, Calls, ScriptedOpenAI, Text


class Thing(BaseModel):
    name: str
    extra: dict[str, Any] = {}


REPLY = {"name": "lamp", "extra": {"watts": 40}}


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
@pytest.mark.filterwarnings(
    # langchain-openai's own streamed json_schema path serializes the parsed model loosely.
    "ignore:Pydantic serializer warnings:UserWarning"
)
async def test_structured_output_methods_work_against_the_server(
    server: ScriptedOpenAI, method: str, streaming: bool
) -> None:
    server.script(REPLY)
    async with openai.DefaultAsyncHttpxClient() as http:
        model = ChatOpenAI(
            model="m",
            base_url=server.base_url,
            streaming=streaming,
            stream_usage=True,
            max_retries=0,
            http_async_client=http,
        )
        options: dict[str, Any] = {"strict": False} if method == "json_schema" else {}
        runnable = model.with_structured_output(
            Thing,
            method=method,  # type: ignore[arg-type]
            include_raw=True,
            **options,
        )
        out = await runnable.ainvoke("a thing, as JSON")

    assert out["parsed"] == Thing(**REPLY) and out["parsing_error"] is None
    assert out["raw"].usage_metadata["total_tokens"] > 0
    request = server.requests[0]
    assert bool(request.get("stream")) is streaming
    if method == "function_calling":
        assert request["tool_choice"]["function"]["name"] == "Thing"
    else:
        assert request["response_format"]["type"] in ("json_schema", "json_object")


async def test_streams_come_in_pieces_and_usage_only_when_asked(server: ScriptedOpenAI) -> None:
    server.script(Text("one two three four five six"))
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "count"}], stream=True
        )
        chunks = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four five six"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 1
    assert all(c.usage is None for c in chunks), "no usage chunk unless include_usage"


def lookup(city: str) -> str:
    """Looks a city up."""
    return city


def convert(amount: float) -> float:
    """Converts an amount."""
    return amount


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streamed"])
async def test_calls_answers_with_several_tool_calls_chosen_by_name(
    server: ScriptedOpenAI, streaming: bool
) -> None:
    server.script(Calls((Call("lookup", {"city": "Paris"}), Call("convert", {"amount": 3.5}))))
    async with openai.DefaultAsyncHttpxClient() as http:
        model = ChatOpenAI(
            model="m", base_url=server.base_url, streaming=streaming, max_retries=0,
            http_async_client=http,
        ).bind_tools([lookup, convert])  # fmt: skip
        message = await model.ainvoke("two things at once")

    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("lookup", {"city": "Paris"}),
        ("convert", {"amount": 3.5}),
    ]
    assert server.prompt_tokens > 0 and server.left == 0 and server.errors == []


async def test_calls_the_request_could_not_get_are_refused(server: ScriptedOpenAI) -> None:
    server.script(Calls((Call("book_everything"),)))
    async with openai.DefaultAsyncHttpxClient() as http:
        model = ChatOpenAI(
            model="m", base_url=server.base_url, max_retries=0, http_async_client=http
        ).bind_tools([lookup])
        with pytest.raises(openai.InternalServerError):
            await model.ainvoke("anything")

    assert server.errors == [
        "the script calls ['book_everything'], which the request does not offer (['lookup'])"
    ]
