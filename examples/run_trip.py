"""Run an example through a LangGraph server with the SDK, as an application would.

    make serve                                        # in another terminal
    .venv/bin/python examples/run_trip.py             # examples/trip.json, asks first
    .venv/bin/python examples/run_trip.py --yes       # approve the bookings without asking
    .venv/bin/python examples/run_trip.py --graph group_trip --input examples/group_trip.json --yes
    .venv/bin/python examples/run_trip.py --url http://127.0.0.1:2030   # after make serve PORT=2030

It creates a thread, streams the run's node updates and progress events, answers the approval
pause, and prints the answer. The project's virtualenv has `langgraph_sdk` (langgraph depends on
it). The inventory sells the next 365 days, so the input's dates are moved, gaps kept, to start
`--days-ahead` days from today (default 30); `--keep-dates` sends them as written.

Exit code: 0 completed, 1 partial or failed, 2 a mistake (no server at --url, a missing or wrong
--token, an unreadable --input: one `error:` line), 3 left paused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NoReturn

try:
    import httpx
    from langgraph_sdk import get_client
    from langgraph_sdk.client import LangGraphClient
except ImportError:
    print(
        "error: langgraph_sdk is not installed for this Python: run the script with the "
        "project's virtualenv, .venv/bin/python examples/run_trip.py (after make demo)",
        file=sys.stderr,
    )
    sys.exit(2)

HERE = Path(__file__).resolve().parent
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
EXIT_USAGE = 2


def _days(data: Any) -> list[str]:
    """Every `date` field's value in the input, wherever it is nested."""
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k == "date" and isinstance(v, str)]
        return found + [d for v in data.values() for d in _days(v)]
    if isinstance(data, list):
        return [d for v in data for d in _days(v)]
    return []


def shift_dates(data: Any, days_ahead: int, today: date | None = None) -> Any:
    """`data` with every `date` moved by the same number of days, so that the earliest is
    `days_ahead` days after `today`: the example stays bookable whenever it is run."""
    found = [date.fromisoformat(d) for d in _days(data) if DAY.fullmatch(d)]
    if not found:
        return data
    delta = (today or date.today()) + timedelta(days=days_ahead) - min(found)

    def move(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (date.fromisoformat(v) + delta).isoformat()
                if k == "date" and isinstance(v, str) and DAY.fullmatch(v)
                else move(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [move(v) for v in node]
        return node

    return move(data)


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
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:2024",
        help="the LangGraph server (make serve PORT=N serves http://127.0.0.1:N)",
    )
    parser.add_argument("--graph", default="orchestrator", help="graph id in langgraph.json")
    parser.add_argument("--input", default=str(HERE / "trip.json"), help="the run's input JSON")
    parser.add_argument("--token", help="bearer token, when the server has auth on")
    parser.add_argument("--yes", action="store_true", help="approve without asking")
    parser.add_argument(
        "--days-ahead", type=int, default=30, help="the trip starts this many days from today"
    )
    parser.add_argument(
        "--keep-dates", action="store_true", help="send the input's dates as written"
    )
    return parser.parse_args(argv)


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def load_input(args: argparse.Namespace) -> dict[str, Any]:
    try:
        data = json.loads(Path(args.input).read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read --input {args.input}: {exc}")
    if not isinstance(data, dict):
        fail(f"--input {args.input} must hold a JSON object")
    return data if args.keep_dates else dict(shift_dates(data, args.days_ahead))


def explain(exc: Exception, args: argparse.Namespace) -> str:
    """One line saying what went wrong with the server, and what to do."""
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        if code in (401, 403):
            fix = "pass --token TOKEN (one of the server's ORCHESTRATOR_AUTH_TOKENS)"
            if args.token:
                fix = "check --token: the server does not accept it"
            return f"the server at {args.url} refused the request ({code}): {fix}"
        if code == 404:
            return f"the server at {args.url} has no graph {args.graph!r} (or no such thread)"
        return f"the server at {args.url} answered {code}: {exc.response.text[:200]}"
    return (
        f"no LangGraph server at {args.url} ({type(exc).__name__}): start one with `make "
        "serve`, or point --url at it (make serve PORT=2030 -> --url http://127.0.0.1:2030)"
    )


def run(argv: list[str] | None = None) -> int:
    arguments = parse(argv)
    start = load_input(arguments)
    try:
        return asyncio.run(main(arguments, start))
    except (httpx.HTTPError, OSError) as exc:
        print(f"error: {explain(exc, arguments)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run())
