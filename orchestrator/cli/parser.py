"""The `orchestrator` command line's grammar: commands, options, help, completion.

This module imports only the standard library, so `orchestrator --help`, `--version`, a
command's `--help`, a usage mistake and `completion` answer without loading LangGraph, the
domains or rich (a fraction of the time of `import langgraph`). Checks that need no database
(a traveller count, a budget, a date) happen here too, so bad flags fail just as fast.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import textwrap
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROG = "orchestrator"
EXIT_USAGE = 2
MAX_TRAVELERS = 9
CABINS = ("economy", "premium", "business")
CAR_CLASSES = ("economy", "compact", "midsize", "suv", "luxury")
PLANNERS = ("auto", "llm", "rules")
SHOW_FORMATS = ("text", "mermaid", "json")
RELATIVE_DAY = re.compile(r"\+(\d{1,3})d?")
"""`+30` or `+30d`: that many days from today."""

EXIT_CODES = """\
exit codes:
  0    done (a run: completed)
  1    the run ended partial or failed
  2    bad input or an unusable store: one `error:` line, nothing written
  3    paused for approval: `orchestrator resume THREAD` continues it
  130  interrupted (Ctrl-C); 141 the reader of stdout went away (`| head`)"""

EPILOG = f"""\
examples:
  orchestrator demo
  orchestrator trip --from SFO --to CDG --depart +30 --return +35 --travelers 2 \\
      --budget 9000 --yes
  orchestrator runs
  orchestrator show THREAD
  orchestrator fork THREAD --at latest --budget 12000 --yes

THREAD may be a unique prefix of a thread id (`orchestrator runs` lists them); dates are
YYYY-MM-DD or +N (N days from today). Without a command, this help is printed (exit 0).
`orchestrator completion bash` prints a shell completion script.

{EXIT_CODES}"""


def version() -> str:
    """The installed package's version (its metadata; no import of the package itself)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("orchestrator-worker")
    except PackageNotFoundError:
        return "unknown (not installed)"


def default_home() -> str:
    """Where data lives by default: what `orchestrator.context.default_data_dir` says, without
    importing it (it loads pydantic)."""
    if home := os.environ.get("ORCHESTRATOR_HOME"):
        return home
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(xdg) / "orchestrator")


class _Version(argparse.Action):
    """`--version`, reading the package metadata only when asked (it costs an import)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit(0)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's line breaks; wraps the options' help to the terminal."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


class Parser(argparse.ArgumentParser):
    """Usage mistakes in one `error:` line too, like every other mistake."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


# Types: each raises ArgumentTypeError with the fix, which `Parser.error` prints in one line.


def travelers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_TRAVELERS:
        raise argparse.ArgumentTypeError(
            f"must be at least 1 and at most {MAX_TRAVELERS}, got {count}"
        )
    return count


def budget(text: str) -> float:
    try:
        amount = float(text.replace(",", "").removeprefix("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in USD") from None
    if not math.isfinite(amount):
        raise argparse.ArgumentTypeError(f"must be a finite amount in USD, got {text}")
    if amount < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative, got {amount:g}")
    return amount


def limit(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (all) or more, got {count}")
    return count


def day(text: str) -> str:
    """`YYYY-MM-DD`, or `+N` / `+Nd` for N days from today, as `YYYY-MM-DD`."""
    if match := RELATIVE_DAY.fullmatch(text.strip()):
        return (date.today() + timedelta(days=int(match.group(1)))).isoformat()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, or +N for N days from today"
        ) from None


def leg(text: str) -> str:
    """`FROM-TO:DATE` with DATE as `day` takes it; the rest is checked with the trip."""
    route, sep, when = text.partition(":")
    if sep and RELATIVE_DAY.fullmatch(when.strip()):
        return f"{route}:{day(when)}"
    return text


def _common(parser: argparse.ArgumentParser, *, json_help: str | None = None) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="where the inventory and checkpoints live (default: $ORCHESTRATOR_HOME, "
        f"now {default_home()})",
    )
    parser.add_argument(
        "--checkpointer",
        metavar="PATH|URI",
        default=None,
        help="checkpoint store: an SQLite file or a postgresql:// URI (default: "
        "$ORCHESTRATOR_CHECKPOINTER, else DIR/checkpoints.sqlite)",
    )
    if json_help is not None:
        parser.add_argument("--json", action="store_true", help=json_help)


def _graph_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--graph",
        metavar="NAME|MODULE:ATTR",
        default=None,
        help="the graph the run belongs to: a graph of langgraph.json, or module:attr naming a "
        "compiled graph, a Domain or a function returning one (default: the first graph of "
        "langgraph.json, the travel orchestrator)",
    )


def _run_options(parser: argparse.ArgumentParser, *, thread_help: str) -> None:
    parser.add_argument(
        "--yes", action="store_true", help="approve the bookings without asking (default: ask)"
    )
    parser.add_argument("--thread", metavar="ID", default=None, help=thread_help)
    parser.add_argument(
        "--planner",
        choices=PLANNERS,
        default=None,
        help="auto: the LLM when a model is configured, else rules; llm needs OPENAI_API_KEY "
        "(default: $ORCHESTRATOR_PLANNER, else auto)",
    )


RUN_JSON = "print the status, itinerary and usage as JSON on stdout (progress stays on stderr)"
THREAD_HELP = "a thread id, or a unique prefix of one (`orchestrator runs` lists them)"


def _sub(
    sub: argparse._SubParsersAction[Parser],
    name: str,
    summary: str,
    description: str,
    examples: str,
) -> argparse.ArgumentParser:
    epilog = f"examples:\n{examples}\n\n{EXIT_CODES}"
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=textwrap.fill(description, 78), epilog=epilog
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description=textwrap.fill(
            "An orchestrator that plans a goal, delegates each task to a worker and re-plans "
            "from what comes back; travel booking is the flagship domain.",
            78,
        ),
        epilog=EPILOG,
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    demo = _sub(
        sub,
        "demo",
        "run the showcase trip offline (approval is automatic)",
        "Plans, searches, re-plans and books a three-leg trip for two, 45 days from now, on the "
        "offline inventory. No API key, no network.",
        "  orchestrator demo\n  orchestrator demo --data-dir /tmp/orch --json",
    )
    _common(demo, json_help=RUN_JSON)

    trip = _sub(
        sub,
        "trip",
        "plan and book a trip given as flags",
        "Plans and books a trip: a round trip with --from/--to/--depart[/--return], or legs in "
        "travel order with --leg. Asks before booking unless --yes.",
        "  orchestrator trip --from SFO --to CDG --depart +30 --return +35 --travelers 2 \\\n"
        "      --budget 9000\n"
        "  orchestrator trip --leg SFO-JFK:+30 --leg JFK-CDG:+33 --leg CDG-SFO:+37 --car --yes\n"
        "  orchestrator trip --from SFO --to LHR --depart +60 --cabin business --json",
    )
    trip.add_argument("--from", dest="origin", metavar="IATA", help="origin airport, e.g. SFO")
    trip.add_argument(
        "--to", dest="destination", metavar="IATA", help="destination airport, e.g. CDG"
    )
    trip.add_argument(
        "--depart", metavar="DATE", type=day, help="departure date: YYYY-MM-DD or +N days"
    )
    trip.add_argument(
        "--return",
        dest="back",
        metavar="DATE",
        type=day,
        help="return date: YYYY-MM-DD or +N days (default: one way)",
    )
    trip.add_argument(
        "--leg",
        action="append",
        default=[],
        type=leg,
        metavar="FROM-TO:DATE",
        help="one leg (e.g. SFO-JFK:+30); repeat in travel order, instead of --from/--to",
    )
    trip.add_argument(
        "--travelers",
        type=travelers,
        default=1,
        metavar="N",
        help=f"travellers, 1 to {MAX_TRAVELERS} (default: %(default)s)",
    )
    trip.add_argument(
        "--budget",
        type=budget,
        default=None,
        metavar="USD",
        help="total budget in USD, a finite amount >= 0 (default: none)",
    )
    trip.add_argument(
        "--cabin", choices=CABINS, default="economy", help="flight cabin (default: %(default)s)"
    )
    trip.add_argument(
        "--hotel-tier",
        type=int,
        default=3,
        choices=range(1, 6),
        metavar="1-5",
        help="hotel stars, 1 (budget) to 5 (luxury) (default: %(default)s)",
    )
    trip.add_argument("--car", action="store_true", help="rent a car at each destination")
    trip.add_argument(
        "--car-class",
        choices=CAR_CLASSES,
        default="compact",
        help="with --car (default: %(default)s)",
    )
    trip.add_argument(
        "--open-jaw",
        action="store_true",
        help="the legs need not connect (into Paris, home from Rome); without it every leg "
        "starts where the previous one ended",
    )
    _common(trip, json_help=RUN_JSON)
    _run_options(trip, thread_help="thread id for the run (default: a new trip-XXXXXXXX)")

    run = _sub(
        sub,
        "run",
        "plan and book a trip described in words (needs a model)",
        "A model reads the request into a trip (checked as `trip` checks its flags), then plans "
        "it. Needs OPENAI_API_KEY (and OPENAI_BASE_URL for vLLM, Ollama or LM Studio); without "
        "a model it exits 2 and writes nothing.",
        "  orchestrator run 'San Francisco to Paris in 30 days for 5 nights, two people, "
        "under $9000'",
    )
    run.add_argument(
        "text",
        metavar="TEXT",
        help="the trip in your words; single-quote it when it holds a $",
    )
    _common(run, json_help=RUN_JSON)
    _run_options(run, thread_help="thread id for the run (default: a new run-XXXXXXXX)")

    resume = _sub(
        sub,
        "resume",
        "continue a paused or interrupted run",
        "Continues a run that paused for approval, crashed or was interrupted; work that "
        "finished is not redone.",
        "  orchestrator resume THREAD\n  orchestrator resume THREAD --yes\n"
        "  orchestrator resume THREAD --answer 'drop 2' --answer 'alt 1 3' --answer y",
    )
    resume.add_argument("thread_id", metavar="THREAD", help=THREAD_HELP)
    resume.add_argument(
        "--yes", action="store_true", help="approve the bookings without asking (default: ask)"
    )
    resume.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="ANSWER",
        help="answer the paused approval as at the prompt: y, n, 'drop N', 'alt N M'; repeat "
        "for several edits (without a final y or n the edits are applied)",
    )
    _common(resume, json_help=RUN_JSON)
    _graph_option(resume)

    runs = _sub(
        sub,
        "runs",
        "list the runs (threads), newest first",
        "Lists the threads of the checkpoint store, most recently active first: id, status, "
        "start time, tokens and cost where a model was called, and goal.",
        "  orchestrator runs\n  orchestrator runs --limit 0\n  orchestrator runs --json",
    )
    runs.add_argument(
        "--limit",
        type=limit,
        default=20,
        metavar="N",
        help="the N newest, 0 for all (default: %(default)s)",
    )
    _common(runs, json_help="the runs as a JSON list")
    _graph_option(runs)

    bookings = _sub(
        sub,
        "bookings",
        "list what was booked",
        "Lists the bookings in the inventory: all of them, or one run's.",
        "  orchestrator bookings\n  orchestrator bookings THREAD --json",
    )
    bookings.add_argument(
        "thread_id", metavar="THREAD", nargs="?", default=None, help="only this run's bookings"
    )
    bookings.add_argument(
        "--thread", default=None, metavar="ID", help="deprecated: give THREAD instead"
    )
    _common(bookings, json_help="the bookings as a JSON list")

    history = _sub(
        sub,
        "history",
        "list a run's checkpoints: round, node, decisions",
        "Every checkpoint of a run, oldest first: what ran, the round, the status, the "
        "planner's decisions and the tasks it dispatched. Fork from any of them.",
        "  orchestrator history THREAD\n  orchestrator history THREAD --json",
    )
    history.add_argument("thread_id", metavar="THREAD", help=THREAD_HELP)
    _common(history, json_help="the checkpoints as a JSON list")
    _graph_option(history)

    fork = _sub(
        sub,
        "fork",
        "re-run from an earlier checkpoint on a new thread",
        "Copies the run's state at CHECKPOINT to a new thread and continues from there, e.g. "
        "under another budget. The original thread is not changed.",
        "  orchestrator fork THREAD --at latest --budget 12000 --yes\n"
        "  orchestrator fork THREAD --at 1f0c2a --thread paris-cheaper",
    )
    fork.add_argument("thread_id", metavar="THREAD", help=THREAD_HELP)
    fork.add_argument(
        "--at",
        required=True,
        metavar="CHECKPOINT",
        help="a checkpoint id or a unique prefix of one (`orchestrator history THREAD`), or "
        "'latest' for the newest one before any booking was sent",
    )
    fork.add_argument(
        "--budget",
        type=budget,
        default=None,
        metavar="USD",
        help="re-plan under this budget, a finite amount >= 0 (default: keep the run's)",
    )
    _common(fork, json_help=RUN_JSON)
    _graph_option(fork)
    _run_options(fork, thread_help="thread id for the fork (default: THREAD-fork-XXXXXX)")

    show = _sub(
        sub,
        "show",
        "a run's report: goal, status, plan, timeline, totals",
        "The run's goal and status, the plan as a tree, the timeline with its critical path, "
        "and the totals; or the same as Mermaid text, JSON, or a picture.",
        "  orchestrator show THREAD\n  orchestrator show THREAD --format mermaid > run.mmd\n"
        "  orchestrator show THREAD --format json\n  orchestrator show THREAD --out run.png",
    )
    show.add_argument("thread_id", metavar="THREAD", help=THREAD_HELP)
    show.add_argument(
        "--format",
        choices=SHOW_FORMATS,
        default=None,
        help="text (default), mermaid (a flowchart of the plan and a gantt of the timeline, "
        "raw) or json (the report as data)",
    )
    show.add_argument("--json", action="store_true", help="the same as --format json")
    show.add_argument(
        "--diagram",
        choices=("both", "plan", "timeline"),
        default="both",
        help="with --format mermaid: which diagram (default: %(default)s)",
    )
    show.add_argument(
        "--markdown",
        action="store_true",
        help="with --format mermaid: wrap each diagram in a ```mermaid fence",
    )
    show.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="draw the plan and the timeline to FILE.png or FILE.svg (needs matplotlib)",
    )
    _common(show)
    _graph_option(show)

    draw = _sub(
        sub,
        "graph",
        "the orchestrator graph's structure: nodes and edges",
        "The LangGraph graph itself: its nodes and edges as text, Mermaid (as Studio draws "
        "it), JSON or a picture.",
        "  orchestrator graph\n  orchestrator graph --format mermaid\n"
        "  orchestrator graph --out graph.png",
    )
    draw.add_argument(
        "--format",
        choices=("text", "mermaid"),
        default=None,
        help="text (default) or mermaid (LangGraph's own drawing)",
    )
    draw.add_argument("--out", metavar="FILE", default=None, help="draw it to FILE.png or FILE.svg")
    draw.add_argument("--json", action="store_true", help="nodes and edges as JSON")

    airports = _sub(
        sub,
        "airports",
        "list the airports of the inventory",
        "The airports the offline inventory knows, with their city and time zone.",
        "  orchestrator airports\n  orchestrator airports --json",
    )
    airports.add_argument("--json", action="store_true", help="the airports as a JSON list")

    completion = _sub(
        sub,
        "completion",
        "print a shell completion script (bash or zsh)",
        "Prints a completion script for commands and options. Load it from your shell's rc file.",
        "  orchestrator completion bash > ~/.local/share/bash-completion/completions/orchestrator\n"
        "  echo 'eval \"$(orchestrator completion zsh)\"' >> ~/.zshrc",
    )
    completion.add_argument("shell", choices=("bash", "zsh"), help="the shell")
    return parser


def normalize(args: argparse.Namespace) -> argparse.Namespace:
    """Aliases folded into one name: `bookings --thread` into THREAD, `show --json` into
    `--format json` (and back, for the commands that read `args.json`)."""
    if args.command == "bookings":
        if args.thread is not None and args.thread_id is None:
            args.thread_id = args.thread
        args.thread = args.thread_id
    if args.command == "show":
        if args.json:
            args.format = "json"
        args.json = args.format == "json"
    return args


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """A bash completion function for every command and option (zsh loads it through
    `bashcompinit`)."""
    commands: dict[str, list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                words: list[str] = []
                for sub_action in subparser._actions:
                    words.extend(o for o in sub_action.option_strings if o.startswith("--"))
                    if sub_action.choices and not sub_action.option_strings:
                        words.extend(str(c) for c in sub_action.choices)
                commands[name] = words
    cases = "\n".join(
        f'        {name}) opts="{" ".join(words)}" ;;' for name, words in commands.items()
    )
    script = f"""\
# orchestrator completion ({shell}); generated by `orchestrator completion {shell}`
_orchestrator() {{
    local cur cmd opts
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    cmd="${{COMP_WORDS[1]}}"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "{" ".join(commands)} --help --version" -- "$cur"))
        return
    fi
    case "$cmd" in
{cases}
        *) opts="" ;;
    esac
    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
}}
"""
    if shell == "zsh":
        script += "autoload -U +X bashcompinit && bashcompinit\n"
    return script + "complete -o default -F _orchestrator orchestrator\n"
