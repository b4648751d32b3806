"""The optional LLM synthesizer: prose on top of the template answer, which stands if it fails."""

from __future__ import annotations

from orchestrator.testing.scripted_openai import Fail, ScriptedOpenAI, Text
from tests.integration.llm.support import finish, llm_context, run, sleep_graph


async def test_the_synthesizer_writes_prose_above_the_exact_account(server: ScriptedOpenAI) -> None:
    server.script(finish("partial", "half of it"), Text("Half done: see below."))
    graph = sleep_graph(llm_synthesizer=True)
    values = (await run(graph, llm_context(server, synthesizer_model="writer"))).values

    answer = values["answer"]
    assert (answer["status"], answer["reason"]) == ("partial", "half of it"), "status unchanged"
    assert answer["summary"].startswith("Half done: see below.\n\nGoal: test goal")
    assert answer["data"]["synthesis"] == "model"
    request = server.requests[1]
    assert request["model"] == "writer" and not request.get("tools")
    assert "Untrusted" in request["messages"][1]["content"]


async def test_a_failing_synthesizer_leaves_the_template_answer(server: ScriptedOpenAI) -> None:
    server.script(finish("completed", "nothing to do"), Fail(500))
    graph = sleep_graph(llm_synthesizer=True)
    values = (await run(graph, llm_context(server, synthesizer_model="writer"))).values

    answer = values["answer"]
    assert answer["status"] == "completed"
    assert answer["summary"].startswith("Goal: test goal")
    assert "template only: the model endpoint" in answer["data"]["synthesis"]
    assert [u["role"] for u in values["usage"]] == ["planner"]
