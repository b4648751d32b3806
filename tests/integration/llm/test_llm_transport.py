"""Transport failures: the client's own retries and backoff, and a clean `failed` when they run out.

The retries are the OpenAI client's (`Context.request_retries`); its backoff starts at 0.5 s and
doubles, or follows the server's `retry-after-ms`. Timings here stay well under a few seconds.
"""

from __future__ import annotations

import time

from domains.synthetic import SLEEP
from orchestrator.testing.scripted_openai import Fail, ScriptedOpenAI, Slow
from tests.integration.llm.support import add, finish, llm_context, run, sleep_graph, task

PLAN = add(task("r1-a", SLEEP, ms=1))


async def test_a_429_is_retried_by_the_client_then_the_run_goes_on(
    server: ScriptedOpenAI,
) -> None:
    server.script(Fail(429, "rate limited", retry_after_s=0.05), PLAN, finish())
    began = time.monotonic()
    values = (await run(sleep_graph(), llm_context(server, request_retries=2))).values

    assert values["status"] == "completed", values["reason"]
    assert server.calls == 3
    retry_counts = [h.get("x-stainless-retry-count") for h in server.headers]
    assert retry_counts == ["0", "1", "0"], "the second request was the client's own retry"
    assert time.monotonic() - began < 3
    assert [u["round"] for u in values["usage"]] == [1, 2], "a refused request costs nothing"
    assert not [e for e in values["log"] if e["kind"] == "rejected"]


async def test_repeated_500s_end_the_run_failed_with_the_reason(server: ScriptedOpenAI) -> None:
    # No retry-after header: the client's exponential backoff (about 0.4 s, then 0.8 s).
    server.script(Fail(500, "upstream exploded"), Fail(502), Fail(503), PLAN)
    began = time.monotonic()
    values = (await run(sleep_graph(), llm_context(server, request_retries=2))).values
    elapsed = time.monotonic() - began

    assert values["status"] == "failed"
    assert "the planner model failed" in values["reason"]
    assert "answered HTTP 503 after 2 retries" in values["reason"]
    assert values["answer"]["status"] == "failed"
    assert server.calls == 3, "one request and two retries, then no re-ask: the client has retried"
    assert 0.5 < elapsed < 5, f"backoff took {elapsed:.2f}s"
    assert not values["tasks"]


async def test_a_reply_slower_than_the_timeout_fails_the_run_cleanly(
    server: ScriptedOpenAI,
) -> None:
    server.script(Slow(3.0, PLAN), PLAN)
    began = time.monotonic()
    values = (
        await run(sleep_graph(), llm_context(server, request_timeout_s=0.3, request_retries=0))
    ).values

    assert values["status"] == "failed"
    assert "timed out (0.3s)" in values["reason"]
    assert time.monotonic() - began < 2.5, "the run did not wait for the slow reply"
    assert server.calls == 1


async def test_a_timed_out_request_is_retried_and_the_retry_answers(
    server: ScriptedOpenAI,
) -> None:
    server.script(Slow(3.0, {"decisions": ["too late"]}), PLAN, finish())
    values = (
        await run(sleep_graph(), llm_context(server, request_timeout_s=0.3, request_retries=1))
    ).values

    assert values["status"] == "completed", values["reason"]
    assert server.calls == 3
    assert values["tasks"]["r1-a"]["status"] == "done"
