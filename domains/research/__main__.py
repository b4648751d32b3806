"""`python -m domains.research` (`make research`): a research question, end to end.

Offline (no `OPENAI_API_KEY` and no `OPENAI_BASE_URL`) the agents, and the LLM planner with
`--planner llm`, run against the scripted loopback model (`offline.py`); with a model configured
they run on it. Progress goes to stderr, the report to stdout. Exit 0 when the verifier found
the report `completed`, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import ExitStack
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from domains.research import research_domain
from domains.research.demo import DEMO_PLAN, DEMO_QUESTION, DEMO_REQUEST
from domains.research.offline import research_model
from graph.builder import build_graph
from orchestrator.cli.progress import ProgressPrinter
from orchestrator.context import Context
from orchestrator.llm.usage import usage_totals
from orchestrator.report.cost import cost_breakdown, cost_lines
from orchestrator.runner import drive, run_config


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m domains.research", description=__doc__)
    parser.add_argument("--question", default=DEMO_QUESTION)
    parser.add_argument("--planner", choices=["rules", "llm"], default="rules")
    return parser.parse_args(argv)


async def research(question: str, planner: str) -> int:
    offline = not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))
    request: dict[str, Any] = DEMO_REQUEST if question == DEMO_QUESTION else {"question": question}
    if offline and planner == "llm" and question != DEMO_QUESTION:
        print(
            "offline, the LLM planner's answers are scripted for the demo question only; "
            "use --planner rules, or configure a model (OPENAI_API_KEY)",
            file=sys.stderr,
        )
        return 2
    with ExitStack() as stack:
        fields: dict[str, Any] = {"planner": planner, "approval": "auto"}
        if offline:
            server = stack.enter_context(research_model(*(DEMO_PLAN if planner == "llm" else [])))
            fields.update(base_url=server.base_url, planner_model="scripted", request_retries=0)
            print(f"offline: the scripted model at {server.base_url}", file=sys.stderr)
        context = Context(**fields)
        graph = build_graph(research_domain(), checkpointer=InMemorySaver())
        outcome = await drive(
            graph,
            {"goal": question, "request": request},
            config=run_config("research", context),
            context=context,
            on_event=ProgressPrinter(),
        )
    values = outcome.values
    print(values["answer"]["summary"])
    usage = values.get("usage") or []
    if usage:  # the planner's calls and every agent's, per worker, round and task
        print(usage_totals(usage).describe(), file=sys.stderr)
        for line in cost_lines(cost_breakdown(usage)):
            print(line, file=sys.stderr)
    return 0 if values["status"] == "completed" else 1


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    return asyncio.run(research(args.question, args.planner))


if __name__ == "__main__":
    sys.exit(main())
