"""The `orchestrator` command line's grammar: commands, options, help, completion.

This module imports only the standard library, so `orchestrator --help`, `--version`, a
command's `--help`, a usage mistake and `completion` answer without loading LangGraph, the
engine or rich (a fraction of the time of `import langgraph`). Checks that need no database
(a budget, a date) happen here too, so bad flags fail just as fast.

The engine's commands (`resume`, `runs`, `history`, `fork`, `show`, `graph`, `new-domain`,
`completion`) are defined here; a domain adds its own (travel: `demo`, `trip`, `run`,
`bookings`, `airports`) from the CLI module `$ORCHESTRATOR_DOMAINS` names
(`orchestrator.cli.plugins`), with the helpers below: `add_command`, `common_options`,
`run_options`, and the argument types `day`, `budget` and `limit`.
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

from orchestrator.cli.plugins import add_all, load

PROG = "orchestrator"
EXIT_USAGE = 2
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

CORE_EXAMPLES = (
    "orchestrator runs",
    "orchestrator show THREAD",
    "orchestrator fork THREAD --at latest --budget 12000 --yes",
    "orchestrator new-domain notes",
)
"""The engine's examples for `orchestrator --help`, after the domains' own."""


def epilog(examples: list[str]) -> str:
    shown = "\n".join(f"  {line}" for line in examples)
    return f"""\
examples:
{shown}

THREAD may be a unique prefix of a thread id (`orchestrator runs` lists them); dates are
YYYY-MM-DD or +N (N days from today). Without a command, this help is printed (exit 0).
`orchestrator completion bash` prints a shell completion script. The domains in
$ORCHESTRATOR_DOMAINS add their commands (default: domains.travel.cli, travel booking).

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


def common_options(parser: argparse.ArgumentParser, *, json_help: str | None = None) -> None:
    """`--data-dir`, `--checkpointer` and (with `json_help`) `--json`."""
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


def graph_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--graph",
        metavar="NAME|MODULE:ATTR",
        default=None,
        help="the graph the run belongs to: a graph of langgraph.json, or module:attr naming a "
        "compiled graph, a Domain or a function returning one (default: the first domain of "
        "$ORCHESTRATOR_DOMAINS, the travel orchestrator)",
    )


def run_options(parser: argparse.ArgumentParser, *, thread_help: str) -> None:
    """`--yes`, `--thread` and `--planner`: the options of a command that drives a run."""
    parser.add_argument(
        "--yes",
        action="store_true",
        help="approve the side effects (e.g. bookings) without asking (default: ask)",
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


def add_command(
    sub: argparse._SubParsersAction[Any],
    name: str,
    summary: str,
    description: str,
    examples: str,
) -> argparse.ArgumentParser:
    """A command with the house style: a one-line summary for the command list, a description,
    `examples` (indented lines) and the exit codes under its `--help`."""
    text = f"examples:\n{examples}\n\n{EXIT_CODES}"
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=textwrap.fill(description, 78), epilog=text
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole grammar: the domains' commands (`$ORCHESTRATOR_DOMAINS`), then the engine's.
    A listed module that cannot be used raises `PluginError`."""
    plugins = load()
    parser = Parser(
        prog=PROG,
        description=textwrap.fill(
            "An orchestrator that plans a goal, delegates each task to a worker and re-plans "
            "from what comes back. The engine's commands read and continue the runs of any "
            "domain; each domain adds its own (travel booking is the flagship).",
            78,
        ),
        epilog=epilog([*(line for p in plugins for line in p.examples), *CORE_EXAMPLES]),
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    add_all(sub, plugins)

    resume = add_command(
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
        "--yes",
        action="store_true",
        help="approve the side effects (e.g. bookings) without asking (default: ask)",
    )
    resume.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="ANSWER",
        help="answer the paused approval as at the prompt: y, n, 'drop N', 'alt N M'; repeat "
        "for several edits (without a final y or n the edits are applied)",
    )
    common_options(resume, json_help=RUN_JSON)
    graph_option(resume)

    runs = add_command(
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
    common_options(runs, json_help="the runs as a JSON list")
    graph_option(runs)

    history = add_command(
        sub,
        "history",
        "list a run's checkpoints: round, node, decisions",
        "Every checkpoint of a run, oldest first: what ran, the round, the status, the "
        "planner's decisions and the tasks it dispatched. Fork from any of them.",
        "  orchestrator history THREAD\n  orchestrator history THREAD --json",
    )
    history.add_argument("thread_id", metavar="THREAD", help=THREAD_HELP)
    common_options(history, json_help="the checkpoints as a JSON list")
    graph_option(history)

    fork = add_command(
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
        "'latest' for the newest one before any side effect (e.g. a booking) was sent",
    )
    fork.add_argument(
        "--budget",
        type=budget,
        default=None,
        metavar="USD",
        help="re-plan under this budget, a finite amount >= 0 (default: keep the run's)",
    )
    common_options(fork, json_help=RUN_JSON)
    graph_option(fork)
    run_options(fork, thread_help="thread id for the fork (default: THREAD-fork-XXXXXX)")

    show = add_command(
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
    common_options(show)
    graph_option(show)

    draw = add_command(
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
    graph_option(draw)

    new_domain = add_command(
        sub,
        "new-domain",
        "write a new domain package that runs at once",
        "Writes the package NAME/ under DIR: workers, a deterministic planner, a verifier, the "
        "Domain, tests and a notebook (the deterministic planner, then the LLM one). Its tests "
        "pass as written: python -m pytest NAME/tests. Nothing is written if NAME is not a "
        "free package name or DIR/NAME holds files.",
        "  orchestrator new-domain notes\n  orchestrator new-domain word_games --dir ~/src",
    )
    new_domain.add_argument(
        "name", metavar="NAME", help="the package's name: lower-case letters, digits and _"
    )
    new_domain.add_argument(
        "--dir",
        default=".",
        metavar="DIR",
        help="the folder to write NAME/ in (default: the current directory)",
    )

    completion = add_command(
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
    """Aliases folded into one name: a domain command's own (its `normalize_args` default, e.g.
    travel's `bookings --thread` into THREAD), `show --json` into `--format json` (and back, for
    the commands that read `args.json`)."""
    fold = getattr(args, "normalize_args", None)
    if callable(fold):
        fold(args)
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
