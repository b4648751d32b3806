"""References between tasks through the real graph: a chain planned in one round gets the real
outputs, a path that does not resolve fails its task for the planner to see, a reference outside
`depends_on` is refused with the update's other errors, and an approval shows resolved values.

The LLM part runs the real `ChatOpenAI` client against the scripted loopback server and counts
the model calls a three-link chain costs with references and without.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel

from domains.synthetic import COMMIT, ScriptedPlanner, SyntheticDomain, synthetic_domain
from graph.builder import Graph, build_graph
from orchestrator import ref
from orchestrator.context import Context
from orchestrator.planning import Finish, NewTask, PlanUpdate, PlanView
from orchestrator.refs import MAX_RESOLVED_CHARS
from orchestrator.testing.scripted_openai import ScriptedOpenAI
from orchestrator.workers import WorkerCall, WorkerSpec
from tests.integration.llm import support as llm

# A small synthetic pipeline: search -> fetch -> summarize. Each worker records what it got.


class SearchIn(BaseModel):
    query: str


class Hit(BaseModel):
    url: str
    title: str


class SearchOut(BaseModel):
    results: list[Hit]


class FetchIn(BaseModel):
    url: str


class FetchOut(BaseModel):
    url: str
    text: str


class SummarizeIn(BaseModel):
    text: str
    words: int = 3


class SummarizeOut(BaseModel):
    summary: str


@dataclass
class Received:
    """The inputs each worker call received, by task id."""

    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)


def pipeline(received: Received) -> list[WorkerSpec[Any, Any]]:
    async def search(inputs: SearchIn, call: WorkerCall) -> SearchOut:
        received.inputs[call.task_id] = inputs.model_dump()
        hits = [Hit(url=f"https://{inputs.query}.example/{n}", title=f"hit {n}") for n in range(3)]
        return SearchOut(results=hits)

    async def fetch(inputs: FetchIn, call: WorkerCall) -> FetchOut:
        received.inputs[call.task_id] = inputs.model_dump()
        return FetchOut(url=inputs.url, text=f"the page at {inputs.url} says hello world")

    async def summarize(inputs: SummarizeIn, call: WorkerCall) -> SummarizeOut:
        received.inputs[call.task_id] = inputs.model_dump()
        return SummarizeOut(summary=" ".join(inputs.text.split()[: inputs.words]))

    return [
        WorkerSpec(
            name="search",
            description="Searches the web; returns `results`, a list of {url, title}.",
            input_model=SearchIn,
            output_model=SearchOut,
            run=search,
        ),
        WorkerSpec(
            name="fetch",
            description="Fetches a page; returns {url, text}.",
            input_model=FetchIn,
            output_model=FetchOut,
            run=fetch,
        ),
        WorkerSpec(
            name="summarize",
            description="The first `words` words of `text`; returns {summary}.",
            input_model=SummarizeIn,
            output_model=SummarizeOut,
            run=summarize,
        ),
    ]


def chain(*, path: str = "results.1.url") -> list[NewTask]:
    """The three-link chain, planned whole: each link refers to the output before it."""
    return [
        NewTask(id="s", worker="search", inputs={"query": "otters"}),
        NewTask(id="f", worker="fetch", inputs={"url": ref("s", path)}, depends_on=["s"]),
        NewTask(id="m", worker="summarize", inputs={"text": ref("f", "text")}, depends_on=["f"]),
    ]


DONE = PlanUpdate(finish=Finish(status="completed", reason="done"))


@dataclass
class Run:
    domain: SyntheticDomain
    planner: ScriptedPlanner
    graph: Graph
    received: Received
    config: RunnableConfig

    async def go(self, context: Context | None = None) -> dict[str, Any]:
        out: dict[str, Any] = await self.graph.ainvoke(
            {"goal": "summarize the second hit"}, self.config, context=context or Context()
        )
        return out

    async def values(self) -> dict[str, Any]:
        return dict((await self.graph.aget_state(self.config)).values)


def make_run(script: Any, *, side_effects: bool = False) -> Run:
    received = Received()
    planner = ScriptedPlanner(script)
    domain = synthetic_domain(planner, extra_workers=pipeline(received), side_effects=side_effects)
    graph = build_graph(domain, checkpointer=InMemorySaver())
    config = RunnableConfig(configurable={"thread_id": "refs"})
    return Run(domain, planner, graph, received, config)


def output_of(values: dict[str, Any], task_id: str) -> dict[str, Any]:
    task = values["tasks"][task_id]
    result = values["results"][task["result_ref"]]
    assert result["ok"], result["error"]
    output: dict[str, Any] = result["output"]
    return output


async def test_a_chain_planned_in_one_round_gets_the_real_outputs() -> None:
    r = make_run(lambda view: PlanUpdate(add=chain()) if not view.tasks else DONE)

    await r.go()

    values = await r.values()
    assert values["status"] == "completed", values["reason"]
    assert r.received.inputs["f"] == {"url": "https://otters.example/1"}
    assert r.received.inputs["m"] == {
        "text": "the page at https://otters.example/1 says hello world",
        "words": 3,
    }
    assert output_of(values, "m") == {"summary": "the page at"}
    assert r.planner.calls == 2  # the whole chain in one round, then the finish
    # f and m ran in a lane, after s, in the same superstep: their references were filled in
    # as they started, and the board shows the values they ran with.
    assert values["tasks"]["f"]["inputs"] == {"url": "https://otters.example/1"}
    assert values["tasks"]["m"]["inputs"]["text"].startswith("the page at https:")


async def test_a_reference_planned_after_its_task_is_done_is_resolved_at_dispatch() -> None:
    def script(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return PlanUpdate(add=chain()[:1])
        if "f" not in view.tasks:
            return PlanUpdate(add=chain()[1:])
        return DONE

    r = make_run(script)

    await r.go()

    values = await r.values()
    assert values["status"] == "completed", values["reason"]
    assert r.received.inputs["f"] == {"url": "https://otters.example/1"}
    # f was sent by the orchestrator once s was done: the board shows the value it was sent.
    assert values["tasks"]["f"]["inputs"] == {"url": "https://otters.example/1"}
    assert output_of(values, "m") == {"summary": "the page at"}
    assert r.planner.calls == 3


async def test_a_path_that_does_not_resolve_fails_the_task_and_the_planner_sees_why() -> None:
    expected = "input 'url': task 's''s output has no 'results.7' (results has 3 items)"
    for planned_whole in (True, False):  # resolved in a lane, and at dispatch

        def script(view: PlanView, planned_whole: bool = planned_whole) -> PlanUpdate:
            if not view.tasks:
                return PlanUpdate(add=chain(path="results.7.url")[: 3 if planned_whole else 1])
            if "f" not in view.tasks:
                return PlanUpdate(add=chain(path="results.7.url")[1:])
            return PlanUpdate(finish=Finish(status="failed", reason="bad path"))

        r = make_run(script)

        await r.go()

        values = await r.values()
        f = values["tasks"]["f"]
        assert f["status"] == "failed"
        assert f["error"] is not None and expected in f["error"], f["error"]
        assert "f" not in r.received.inputs  # the worker was never called
        assert "m" not in r.received.inputs
        assert values["tasks"]["m"]["status"] == "pending"
        seen = r.planner.views[-1].tasks["f"]
        assert seen["status"] == "failed" and expected in (seen["error"] or "")


async def test_a_reference_outside_depends_on_is_refused_with_the_other_errors() -> None:
    bad = PlanUpdate(
        add=[
            NewTask(id="s", worker="search", inputs={"query": "otters"}),
            NewTask(id="f", worker="fetch", inputs={"url": ref("s", "results.0.url")}),
            NewTask(id="x", worker="teleport", inputs={}),
        ]
    )
    r = make_run([bad, PlanUpdate(add=chain()), DONE])

    await r.go()

    values = await r.values()
    assert values["status"] == "completed", values["reason"]
    feedback = r.planner.views[1].feedback
    assert any("'f'" in e and "refers to the output of 's'" in e for e in feedback), feedback
    assert any("unknown worker 'teleport'" in e for e in feedback), feedback
    assert not any("valid string" in e for e in feedback), feedback  # the ref fits the schema
    (rejected,) = [e for e in values["log"] if e["kind"] == "rejected"]
    assert "depends_on" in rejected["message"]


async def test_an_approval_shows_and_sends_the_resolved_values() -> None:
    def script(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return PlanUpdate(add=chain()[:2])
        if "c" not in view.tasks:
            commit = NewTask(
                id="c",
                worker=COMMIT,
                inputs={"ms": 0, "payload": ref("f", "url")},
                depends_on=["f"],
            )
            return PlanUpdate(add=[commit])
        return DONE

    r = make_run(script, side_effects=True)
    ask = Context(approval="ask")

    paused = await r.go(ask)

    (question,) = paused["__interrupt__"]
    (item,) = question.value["items"]
    assert item["inputs"]["payload"] == "https://otters.example/1"
    # Checked against the worker's schema once resolved: the defaults are filled in, as for
    # inputs planned without references, on the board as in the approval.
    assert item["inputs"] == {
        "ms": 0,
        "payload": "https://otters.example/1",
        "fail": False,
        "crash_times": 0,
    }
    assert (await r.values())["tasks"]["c"]["inputs"] == item["inputs"]
    await r.graph.ainvoke(Command(resume="approve"), r.config, context=ask)
    values = await r.values()
    assert values["status"] == "completed", values["reason"]
    assert output_of(values, "c")["payload"] == "https://otters.example/1"


async def test_a_side_effect_whose_resolved_input_does_not_fit_fails_without_approval() -> None:
    commit = NewTask(
        id="c",
        worker=COMMIT,
        inputs={"ms": 0, "payload": ref("s", "results")},  # a list, where a string is wanted
        depends_on=["s"],
    )

    def script(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return PlanUpdate(add=chain()[:1])
        if "c" not in view.tasks:
            return PlanUpdate(add=[commit])
        return PlanUpdate(finish=Finish(status="failed", reason="bad payload"))

    r = make_run(script, side_effects=True)

    out = await r.go(Context(approval="ask"))

    assert "__interrupt__" not in out  # never put to the user
    values = await r.values()
    assert values["status"] == "failed", values["reason"]
    c = values["tasks"]["c"]
    expected = (
        "the resolved inputs do not fit worker 'commit': input 'payload' (from task 's', path "
        "'results'): Input should be a valid string"
    )
    assert c["status"] == "failed" and c["error"] == expected, c["error"]
    assert c["inputs"] == commit.inputs  # the board keeps the inputs as planned
    assert r.domain.call_log.calls("c") == 0  # the worker was never called
    assert not any(e["kind"] == "approval" for e in values["log"])
    seen = r.planner.views[-1].tasks["c"]
    assert seen["status"] == "failed" and seen["error"] == expected


async def test_references_past_the_limits_fail_clearly_and_copy_nothing() -> None:
    big = "x" * (MAX_RESOLVED_CHARS + 1)
    copies = NewTask(
        id="copy",
        worker="sleep",
        inputs={"ms": 0, "payload": ref("big", "payload")},
        depends_on=["big"],
    )
    many = NewTask(
        id="many",
        worker="sleep",
        inputs={"ms": 0, "payload": [ref("big", "payload")] * 2000},
        depends_on=["big"],
    )

    def script(view: PlanView) -> PlanUpdate:
        if not view.tasks:
            return PlanUpdate(
                add=[NewTask(id="big", worker="sleep", inputs={"ms": 0, "payload": big})]
            )
        if "copy" not in view.tasks and not view.feedback:
            return PlanUpdate(add=[many])  # refused whole: too many references
        if "copy" not in view.tasks:
            return PlanUpdate(add=[copies])
        return PlanUpdate(finish=Finish(status="failed", reason="too big"))

    r = make_run(script)

    await r.go()

    values = await r.values()
    (refused,) = [v.feedback for v in r.planner.views if v.feedback]
    assert any("2000 references, over the limit of 64 (MAX_REFS)" in e for e in refused), refused
    assert "many" not in values["tasks"]
    task = values["tasks"]["copy"]
    assert task["status"] == "failed"
    assert f"more than {MAX_RESOLVED_CHARS} characters of JSON (MAX_RESOLVED_CHARS)" in (
        task["error"] or ""
    ), task["error"]
    assert task["inputs"] == copies.inputs  # nothing copied onto the board
    result = values["results"][task["result_ref"]]
    assert len(json.dumps(result)) < 2000  # nor into the result
    assert r.domain.call_log.calls("copy") == 0
    seen = r.planner.views[-1].tasks["copy"]
    assert "MAX_RESOLVED_CHARS" in (seen["error"] or "")


# The LLM planner: how many model calls a three-link chain costs.


def llm_chain(*, refs: bool) -> list[dict[str, Any]]:
    """The scripted model's answers for the chain: planned whole with references, or one link
    per round with each value copied from the result the round before showed."""
    search = llm.task("r1-s", "search", query="otters")
    if refs:
        fetch = llm.task("r1-f", "fetch", ["r1-s"], url=ref("r1-s", "results.1.url"))
        summarize = llm.task("r1-m", "summarize", ["r1-f"], text=ref("r1-f", "text"))
        return [llm.add(search, fetch, summarize), llm.finish()]
    url = "https://otters.example/1"
    return [
        llm.add(search),
        llm.add(llm.task("r2-f", "fetch", ["r1-s"], url=url)),
        llm.add(llm.task("r3-m", "summarize", ["r2-f"], text=f"the page at {url} says hello")),
        llm.finish(),
    ]


async def test_the_llm_planner_plans_a_chain_with_references_in_fewer_model_calls(
    server: ScriptedOpenAI,
) -> None:
    calls: dict[str, int] = {}
    tokens: dict[str, int] = {}
    summaries: dict[str, str] = {}
    for refs in (True, False):
        server.reset()
        server.script(*llm_chain(refs=refs))
        received = Received()
        graph = llm.sleep_graph(extra_workers=pipeline(received))

        outcome = await llm.run(graph, llm.llm_context(server), goal="summarize the second hit")

        values = outcome.values
        assert values["status"] == "completed", values["reason"]
        assert server.left == 0 and not server.errors
        label = "with references" if refs else "without references"
        calls[label] = server.calls
        tokens[label] = server.prompt_tokens + server.completion_tokens
        last = "r1-m" if refs else "r3-m"
        summaries[label] = output_of(values, last)["summary"]
        if refs:
            # The model was told how: in the rules, and in the tool's schema for inputs.
            first = server.requests[0]
            assert "$ref" in llm.prompt_of(first)
            (tool,) = first["tools"]
            assert '{"$ref": "<id in depends_on>", "path": "results.0.url"}' in json.dumps(
                tool["function"]["parameters"], ensure_ascii=False
            ).replace('\\"', '"')
            assert received.inputs["r1-f"] == {"url": "https://otters.example/1"}

    print(f"model calls for a 3-link chain: {calls}; tokens (estimated): {tokens}")
    assert calls == {"with references": 2, "without references": 4}
    assert summaries["with references"] == summaries["without references"] == "the page at"
