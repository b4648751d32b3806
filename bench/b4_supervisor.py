"""B4 LLM calls, tokens and wall time: our LLM orchestrator against a langgraph-supervisor.

Both systems plan the same travel scenarios against one scripted OpenAI-compatible loopback
server (`orchestrator.testing.scripted_openai`) with a fixed latency per call, and both run the
same travel workers on private copies of the same inventory. Each is scripted with the fewest
calls its architecture needs to search every leg, the stays and the cars, book everything and
answer:

- ours (`Context(planner="llm")`): one planning call per round (all flight searches; then every
  hotel and car search; then every booking; then `finish`), plus one call for the prose answer
  when the LLM synthesizer is on;
- the supervisor (`langgraph_supervisor.create_supervisor`, one ReAct agent per worker, the
  library's default one handoff at a time): per worker kind, one supervisor call to hand off,
  one agent call making all that kind's tool calls in parallel, one agent call to return; and
  the supervisor's final answer;
- for context, the same supervisor with the workers as its own tools instead of agents, parallel
  tool calls on: one call per wave of tool calls, and the final answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    Check,
    Report,
    Settings,
    Stopwatch,
    Table,
    fresh_data_dir,
    inventory_template,
    prose,
    ratio,
)
from domains.travel.inventory import Inventory
from domains.travel.models import Leg, TripRequest
from domains.travel.services import INVENTORY_FILE
from orchestrator.context import Context
from orchestrator.testing.scripted_openai import (
    Call,
    Calls,
    Reply,
    ScriptedOpenAI,
    Text,
    scripted_openai,
)
from orchestrator.workers import WorkerCall, WorkerSpec

KEY = "B4"
TITLE = "LLM calls, tokens and wall time against a supervisor"
MODEL = "bench-model"
CALLS_TARGET = WALL_TARGET = 2.0
OURS = "ours: LLM planner, itinerary from the board"
OURS_PROSE = "ours: LLM planner + LLM prose answer"
SUPERVISOR_AGENTS = "supervisor, one agent per worker"
SUPERVISOR_TOOLS = "supervisor, workers as its own tools"
AGENTS = {
    "search_flights": "flight_agent",
    "search_hotels": "hotel_agent",
    "search_cars": "car_agent",
    "book": "booking_agent",
    "cancel": "cancel_agent",
}
SUPERVISOR_PROMPT = (
    "You manage a team that books trips: flight_agent searches flights, hotel_agent hotels, "
    "car_agent rental cars, booking_agent books what was chosen, cancel_agent cancels. Hand "
    "the work to them one at a time; when everything is booked, answer the traveller."
)
AGENT_PROMPT = "You are the {name}. Do what the supervisor asks with your tool, then report back."


# The scenarios, and what a sensible model answers, from the real inventory -------------------


@dataclass(frozen=True)
class Stay:
    city: str
    airport: str
    check_in: date
    check_out: date
    hotel_id: str
    car_id: str | None


@dataclass
class Scenario:
    name: str
    trip: TripRequest
    multi_leg: bool
    flight_ids: list[str] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)

    @property
    def goal(self) -> str:
        return self.trip.goal()

    def flight_searches(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (
                f"flight-{n}",
                "search_flights",
                {
                    "origin": leg.origin,
                    "destination": leg.destination,
                    "date": leg.date.isoformat(),
                    "travelers": self.trip.travelers,
                },
            )
            for n, leg in enumerate(self.trip.legs, 1)
        ]

    def stay_searches(self) -> list[tuple[str, str, dict[str, Any]]]:
        out = []
        for n, stay in enumerate(self.stays, 1):
            out.append(
                (
                    f"hotel-{n}",
                    "search_hotels",
                    {
                        "city": stay.city,
                        "check_in": stay.check_in.isoformat(),
                        "check_out": stay.check_out.isoformat(),
                        "rooms": self.trip.rooms,
                    },
                )
            )
            if stay.car_id is not None:
                out.append(
                    (
                        f"car-{n}",
                        "search_cars",
                        {
                            "airport": stay.airport,
                            "pick_up": stay.check_in.isoformat(),
                            "drop_off": stay.check_out.isoformat(),
                        },
                    )
                )
        return out

    def bookings(self) -> list[tuple[str, str, dict[str, Any]]]:
        out = [
            (
                f"book-flight-{n}",
                "book",
                {"kind": "flight", "item_id": item, "quantity": self.trip.travelers},
            )
            for n, item in enumerate(self.flight_ids, 1)
        ]
        for n, stay in enumerate(self.stays, 1):
            out.append(
                (
                    f"book-hotel-{n}",
                    "book",
                    {"kind": "hotel", "item_id": stay.hotel_id, "quantity": self.trip.rooms},
                )
            )
            if stay.car_id is not None:
                out.append(
                    (
                        f"book-car-{n}",
                        "book",
                        {"kind": "car", "item_id": stay.car_id, "quantity": 1},
                    )
                )
        return out

    def waves(self) -> list[list[tuple[str, str, dict[str, Any]]]]:
        """The work in dependency order: what can run together, wave after wave."""
        return [w for w in (self.flight_searches(), self.stay_searches(), self.bookings()) if w]


def scenario(
    inventory: Inventory, name: str, route: list[str], gaps: list[int], car: bool
) -> Scenario:
    start = inventory.window()[0] + timedelta(days=40)
    days = [start + timedelta(days=sum(gaps[:n])) for n in range(len(route) - 1)]
    legs = [
        Leg(origin=a, destination=b, date=d)
        for a, b, d in zip(route, route[1:], days, strict=False)
    ]
    trip = TripRequest(legs=legs, travelers=2, car=car)
    found = Scenario(name=name, trip=trip, multi_leg=len(legs) > 1)
    arrivals = []
    for leg in legs:
        option = inventory.search_flights(leg.origin, leg.destination, leg.date, travelers=2)[0]
        found.flight_ids.append(option.id)
        arrivals.append(date.fromisoformat(option.arrive_local[:10]))
    for n, (leg, after) in enumerate(itertools.pairwise(legs)):
        airport = inventory.airport(leg.destination)
        assert airport is not None
        check_in, check_out = arrivals[n], after.date
        hotel = inventory.search_hotels(airport.city, check_in, check_out, rooms=trip.rooms)[0]
        car_id = None
        if car:
            car_id = inventory.search_cars(leg.destination, check_in, check_out)[0].id
        found.stays.append(
            Stay(airport.city, leg.destination, check_in, check_out, hotel.id, car_id)
        )
    return found


def scenarios(inventory: Inventory, smoke: bool) -> list[Scenario]:
    out = [
        scenario(inventory, "one way SFO→CDG", ["SFO", "CDG"], [], car=False),
        scenario(inventory, "round trip SFO→CDG→SFO", ["SFO", "CDG", "SFO"], [5], car=False),
        scenario(
            inventory,
            "three legs SFO→JFK→CDG→SFO, with cars",
            ["SFO", "JFK", "CDG", "SFO"],
            [3, 4],
            car=True,
        ),
    ]
    return out[-1:] if smoke else out


# Scripts ---------------------------------------------------------------------------------------


def our_script(s: Scenario, prose_answer: bool) -> list[Reply]:
    def task(task_id: str, worker: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"id": task_id, "worker": worker, "inputs": inputs, "depends_on": []}

    replies: list[Reply] = [{"add": [task(*t) for t in wave]} for wave in s.waves()]
    replies.append({"finish": {"status": "completed", "reason": "everything is booked"}})
    if prose_answer:
        replies.append(Text(f"Your trip is booked: {s.goal}."))
    return replies


def supervisor_script(s: Scenario) -> list[Reply]:
    replies: list[Reply] = []
    for wave in s.waves():
        for worker in dict.fromkeys(w for _, w, _ in wave):  # one agent per worker kind
            agent = AGENTS[worker]
            replies.append(Calls((Call(f"transfer_to_{agent}"),)))
            replies.append(Calls(tuple(Call(w, args) for _, w, args in wave if w == worker)))
            replies.append(Text(f"{agent}: done."))
    replies.append(Text(f"Your trip is booked: {s.goal}."))
    return replies


def tools_script(s: Scenario) -> list[Reply]:
    replies: list[Reply] = [
        Calls(tuple(Call(worker, args) for _, worker, args in wave)) for wave in s.waves()
    ]
    replies.append(Text(f"Your trip is booked: {s.goal}."))
    return replies


# The runs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    system: str
    scenario: str
    multi_leg: bool
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    booked: int


@contextmanager
def _hermetic_env() -> Iterator[None]:
    """No tracing, no proxy between the client and the loopback server, during the runs."""
    names = ["LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
    names += [n.lower() for n in names[2:]]
    saved = {n: os.environ.get(n) for n in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ["LANGSMITH_TRACING"] = "false"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _booked(data_dir: Path, thread: str) -> int:
    bookings = Inventory(data_dir / INVENTORY_FILE).bookings(thread)
    return sum(b.status == "confirmed" for b in bookings)


async def run_ours(
    server: ScriptedOpenAI, s: Scenario, data_dir: Path, *, prose_answer: bool
) -> Outcome:
    from graph.builder import build_graph
    from orchestrator.runner import run_config

    server.reset()
    server.script(*our_script(s, prose_answer))
    context = Context(
        planner="llm",
        base_url=server.base_url,
        planner_model=MODEL,
        synthesizer_model=MODEL if prose_answer else "",
        request_timeout_s=60.0,
        request_retries=0,
        approval="auto",
        data_dir=str(data_dir),
    )
    graph = build_graph()
    thread = f"ours-{'prose' if prose_answer else 'template'}"
    request = s.trip.model_dump(mode="json")
    with Stopwatch() as sw:
        out = await graph.ainvoke(
            {"goal": s.goal, "request": request}, run_config(thread, context), context=context
        )
    _expect(server, out.get("status") == "completed", f"ours ended {out.get('status')}: {out}")
    system = OURS_PROSE if prose_answer else OURS
    return _outcome(server, system, s, sw.timing.wall, _booked(data_dir, thread))


def _expect(server: ScriptedOpenAI, ok: bool, why: str) -> None:
    if server.errors or server.left or not ok:
        raise RuntimeError(
            f"the scripted run went off script: {why}; server errors {server.errors}, "
            f"{server.left} replies left"
        )


def _outcome(
    server: ScriptedOpenAI, system: str, s: Scenario, seconds: float, booked: int
) -> Outcome:
    expected = len(s.bookings())
    if booked != expected:
        raise RuntimeError(f"{system} booked {booked} items on {s.name}, not {expected}")
    return Outcome(
        system=system,
        scenario=s.name,
        multi_leg=s.multi_leg,
        calls=server.calls,
        prompt_tokens=server.prompt_tokens,
        completion_tokens=server.completion_tokens,
        seconds=seconds,
        booked=booked,
    )


def _tool_view(spec: WorkerSpec[Any, Any], output: Any) -> str:
    """What a tool returns to the model: the worker's digest and, for searches, the top options
    with ids and prices (the same facts our planner is shown)."""
    dumped = output.model_dump(mode="json")
    keep = ("id", "price", "total_price", "depart_local", "arrive_local", "name", "car_class")
    if "options" in dumped:
        dumped = {
            "summary": spec.summary_of(output),
            "options": [{k: o[k] for k in keep if k in o} for o in dumped["options"][:3]],
        }
    return json.dumps(dumped, separators=(",", ":"))


def worker_tools(context: Context, thread: str) -> dict[str, Any]:
    """Every travel worker as a LangChain tool, with the worker's own input schema."""
    from langchain_core.tools import StructuredTool

    from domains.travel.workers import travel_workers

    counter = itertools.count(1)
    tools = {}
    for spec in travel_workers().values():

        def bind(spec: WorkerSpec[Any, Any]) -> Callable[..., Any]:
            async def call(**kwargs: Any) -> str:
                inputs = spec.input_model.model_validate(kwargs)
                task_id = f"{spec.name}-{next(counter)}"
                work = WorkerCall(task_id=task_id, thread_id=thread, attempt=1, context=context)
                return _tool_view(spec, await spec.run(inputs, work))

            return call

        tools[spec.name] = StructuredTool.from_function(
            coroutine=bind(spec),
            name=spec.name,
            description=spec.description,
            args_schema=spec.input_model,
        )
    return tools


async def run_supervisor(
    server: ScriptedOpenAI, s: Scenario, data_dir: Path, *, agents: bool
) -> Outcome:
    import openai
    from langchain_openai import ChatOpenAI
    from langgraph.warnings import LangGraphDeprecatedSinceV10
    from langgraph_supervisor import create_supervisor
    from pydantic import SecretStr

    server.reset()
    server.script(*(supervisor_script(s) if agents else tools_script(s)))
    thread = "supervisor-agents" if agents else "supervisor-tools"
    context = Context(planner="rules", approval="auto", data_dir=str(data_dir))
    tools = worker_tools(context, thread)
    http = openai.DefaultAsyncHttpxClient()  # closed below, as `open_chat_model` does for ours
    model = ChatOpenAI(
        model=MODEL,
        base_url=server.base_url,
        api_key=SecretStr("unused"),
        timeout=60.0,
        max_retries=0,
        http_async_client=http,
    )
    with warnings.catch_warnings():
        # langgraph-supervisor builds on `create_react_agent`, deprecated since langgraph 1.0.
        warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
        from langgraph.prebuilt import create_react_agent

        if agents:
            members: list[Any] = [
                create_react_agent(
                    model,
                    tools=[tools[worker]],
                    name=agent,
                    prompt=AGENT_PROMPT.format(name=agent),
                )
                for worker, agent in AGENTS.items()
            ]
            workflow = create_supervisor(members, model=model, prompt=SUPERVISOR_PROMPT)
        else:
            workflow = create_supervisor(
                [],
                model=model,
                tools=list(tools.values()),
                prompt=SUPERVISOR_PROMPT,
                parallel_tool_calls=True,
            )
        app = workflow.compile()
        request = json.dumps(s.trip.model_dump(mode="json"))
        try:
            with Stopwatch() as sw:
                out = await app.ainvoke(
                    {"messages": [{"role": "user", "content": f"{s.goal}. Request: {request}"}]},
                    {"recursion_limit": 200},
                )
        finally:
            await http.aclose()
    last = out["messages"][-1].content
    _expect(server, "booked" in str(last), f"the last message was {last!r}")
    system = SUPERVISOR_AGENTS if agents else SUPERVISOR_TOOLS
    return _outcome(server, system, s, sw.timing.wall, _booked(data_dir, thread))


def _systems(server: ScriptedOpenAI, s: Scenario) -> list[Callable[[Path], Awaitable[Outcome]]]:
    return [
        lambda d: run_ours(server, s, d, prose_answer=False),
        lambda d: run_ours(server, s, d, prose_answer=True),
        lambda d: run_supervisor(server, s, d, agents=True),
        lambda d: run_supervisor(server, s, d, agents=False),
    ]


async def measure(settings: Settings, latency_s: float) -> list[Outcome]:
    template = inventory_template(settings)
    found: list[Outcome] = []
    dirs = (f"b4-{n}" for n in itertools.count())
    with _hermetic_env(), scripted_openai() as server:
        plans = scenarios(Inventory(template), settings.smoke)
        if not settings.smoke:  # warm-up at no latency: imports, clients, schema caches
            for system in _systems(server, plans[0]):
                await system(fresh_data_dir(settings, next(dirs)))
        server.latency_s = latency_s
        for s in plans:
            for system in _systems(server, s):
                found.append(await system(fresh_data_dir(settings, next(dirs))))
            settings.progress(f"  {KEY} {s.name}: done")
    return found


def run(settings: Settings) -> Report:
    latency_s = settings.pick(0.3, 0.005)
    found = asyncio.run(measure(settings, latency_s))
    rows = []
    ratios: dict[str, list[tuple[float, float, str]]] = {OURS: [], OURS_PROSE: []}
    for name in dict.fromkeys(o.scenario for o in found):
        group = [o for o in found if o.scenario == name]
        baseline = next(o for o in group if o.system == SUPERVISOR_AGENTS)
        for o in group:
            rows.append(
                [
                    name if o is group[0] else "",
                    o.system,
                    str(o.calls),
                    f"{o.prompt_tokens:,}",
                    f"{o.completion_tokens:,}",
                    f"{o.seconds:.2f} s",
                    ratio(baseline.calls / o.calls),
                    ratio(baseline.seconds / o.seconds),
                ]
            )
            if o.system in ratios and o.multi_leg:
                ratios[o.system].append(
                    (baseline.calls / o.calls, baseline.seconds / o.seconds, name)
                )

    def worst(system: str) -> tuple[tuple[float, str], tuple[float, str]]:
        calls = min((c, n) for c, _, n in ratios[system])
        wall = min((w, n) for _, w, n in ratios[system])
        return calls, wall

    (calls, calls_at), (wall, wall_at) = worst(OURS)
    (prose_calls, prose_calls_at), (prose_wall, prose_wall_at) = worst(OURS_PROSE)
    return Report(
        key=KEY,
        title=TITLE,
        method=prose(
            f"""
            Each system runs each travel scenario once against one scripted OpenAI-compatible
            loopback server (`orchestrator.testing.scripted_openai`, real HTTP and the real
            `ChatOpenAI` client) that
            waits {latency_s * 1000:.0f} ms before every answer and estimates tokens the same
            way for everyone: characters of the messages and tool schemas ÷ 4 for the prompt,
            characters of the answer ÷ 4 for the completion. Both run the same travel workers
            (real searches and bookings on private copies of one fresh inventory, 2 travellers;
            every run books the same items) with no checkpointer. Each is scripted with the
            fewest calls its architecture needs. Ours (`Context(planner="llm")`): one planning
            call per round (all flight searches; every hotel and car search; every booking;
            `finish`), with and without the LLM synthesizer's prose answer. The baseline,
            `langgraph_supervisor.create_supervisor` with one ReAct agent per worker (the same
            five workers, each wrapped as a LangChain tool with its own input schema) and the
            library's default of one handoff at a time: per worker kind, one supervisor call to
            hand off, one agent call making that kind's tool calls in parallel, one agent call
            to return; then the final answer. For context only: the same supervisor holding the
            workers as its own tools (no agents, parallel tool calls), one call per wave of
            tool calls plus the answer. Ratios are the agent supervisor's figure ÷ the row's.
            The targets are checked on ours as configured by default with an LLM planner, whose
            answer (the itinerary) is written from the board without a model call; the row with
            the optional LLM prose answer, the closer match to the supervisor's final message,
            is reported beside it.
            """
        ),
        tables=[
            Table(
                headers=[
                    "scenario",
                    "system",
                    "LLM calls",
                    "prompt tokens",
                    "completion tokens",
                    "wall time",
                    "supervisor calls ÷ these",
                    "supervisor wall ÷ this",
                ],
                rows=rows,
            )
        ],
        checks=[
            Check(
                target=f"multi-leg scenarios: ≥ {CALLS_TARGET:g}× fewer LLM calls than the "
                "supervisor",
                measured=f"worst {ratio(calls)} ({calls_at})",
                passed=calls >= CALLS_TARGET,
            ),
            Check(
                target=f"multi-leg scenarios: ≥ {WALL_TARGET:g}× less wall time than the "
                "supervisor",
                measured=f"worst {ratio(wall)} ({wall_at})",
                passed=wall >= WALL_TARGET,
            ),
            Check(
                target="the same, with our optional LLM prose answer on (one more call)",
                measured=f"calls: worst {ratio(prose_calls)} ({prose_calls_at}); wall: worst "
                f"{ratio(prose_wall)} ({prose_wall_at})",
                passed=None,
            ),
        ],
    )
