"""Run an example through a LangGraph server with the SDK, as an application would.

    make serve                                   # in another terminal
    python examples/run_trip.py                  # examples/trip.json on `orchestrator`, asks first
    python examples/run_trip.py --yes            # approve the bookings without asking
    python examples/run_trip.py --graph group_trip --input examples/group_trip.json --yes

It creates a thread, streams the run's node updates and progress events, answers the approval
pause, and prints the answer. Exit code: 0 completed, 1 partial or failed, 3 left paused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

HERE = Path(__file__).resolve().parent


def show(event: dict[str, Any]) -> None:
    """One progress event (`stream_mode="custom"`) as one line on stderr."""
    name = event.get("event", "?")
    detail = event.get("summary") or event.get("task_id") or event.get("reason") or ""
    print(f"  {name} {detail}".rstrip(), file=sys.stderr)


async def stream(client: LangGraphClient, thread_id: str, graph: str, **run: Any) -> None:
    async for part in client.runs.stream(
        thread_id, graph, stream_mode=["updates", "custom"], **run
    ):
        if part.event == "custom" and isinstance(part.data, dict):
            show(part.data)
        elif part.event == "error":
            raise SystemExit(f"the run failed on the server: {part.data}")


def decide(question: dict[str, Any], assume_yes: bool) -> str | None:
    """`approve`, `reject`, or None to leave the run paused."""
    print("\nApproval needed:", file=sys.stderr)
    for item in question.get("items", []):
        price = f"  ${item['price']:,.2f}" if "price" in item else ""
        print(f"  - {item.get('task_id')}: {item.get('label', '')}{price}", file=sys.stderr)
    if assume_yes:
        return "approve"
    if not sys.stdin.isatty():
        return None
    answer = input("Approve? [y/n] ").strip().lower()
    return "approve" if answer in ("y", "yes") else "reject"


async def main(args: argparse.Namespace, start: dict[str, Any]) -> int:
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
    client = get_client(url=args.url, api_key=None, headers=headers)
    try:
        thread = await client.threads.create()
        thread_id = thread["thread_id"]
        print(f"thread {thread_id} on {args.url}", file=sys.stderr)
        await stream(client, thread_id, args.graph, input=start)
        while True:
            state = await client.threads.get_state(thread_id)
            if not state["interrupts"]:
                break
            answer = decide(state["interrupts"][0]["value"], args.yes)
            if answer is None:
                print(f"left paused; resume thread {thread_id} later", file=sys.stderr)
                return 3
            await stream(client, thread_id, args.graph, command={"resume": answer})
        values = state["values"]
        assert isinstance(values, dict)
        print((values.get("answer") or {}).get("summary") or values.get("reason"))
        return 0 if values.get("status") == "completed" else 1
    finally:
        await client.aclose()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:2024", help="the LangGraph server")
    parser.add_argument("--graph", default="orchestrator", help="graph id in langgraph.json")
    parser.add_argument("--input", default=str(HERE / "trip.json"), help="the run's input JSON")
    parser.add_argument("--token", help="bearer token, when the server has auth on")
    parser.add_argument("--yes", action="store_true", help="approve without asking")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    sys.exit(asyncio.run(main(arguments, json.loads(Path(arguments.input).read_text()))))
