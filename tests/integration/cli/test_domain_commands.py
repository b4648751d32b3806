"""A domain's own CLI commands, found through `$ORCHESTRATOR_DOMAINS`: a domain written here (a
grammar module and a handler module, nothing else) gets its command in `--help` and a run of
its own, and the engine's commands (`runs`, `show`, `history`) read its threads without
`--graph`. A module that cannot be used, or two that claim one command, is one `error:` line.
Each case runs the `orchestrator` executable in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "orchestrator"
BASE_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("ORCHESTRATOR_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_", "COLUMNS"))
}
BASE_ENV["LANGSMITH_TRACING"] = "false"

GRAMMAR = textwrap.dedent(
    '''
    """The napping domain's commands: the standard library and the parser's helpers only."""

    from orchestrator.cli.parser import RUN_JSON, add_command, common_options, run_options

    DOMAIN = "naps:nap_domain"
    EXAMPLES = ("orchestrator nap --ms 2",)


    def add_commands(sub):
        nap = add_command(sub, "nap", "take a nap", "Sleeps, then says so.", "  orchestrator nap")
        nap.add_argument("--ms", type=int, default=1, help="how long, in ms (default: 1)")
        common_options(nap, json_help=RUN_JSON)
        run_options(nap, thread_help="thread id for the nap")
        nap.set_defaults(handler="naps:nap")
    '''
)
HANDLERS = textwrap.dedent(
    '''
    """The napping domain and its command's handler, on the engine's `start_run`."""

    from domains.synthetic import ScriptedPlanner, synthetic_domain
    from orchestrator.cli.commands import start_run
    from orchestrator.planning import Finish, NewTask, PlanUpdate


    def nap_domain():
        def plan(view):
            if not view.tasks:
                ms = int((view.request or {}).get("ms", 1))
                return PlanUpdate(add=[NewTask(id="nap", worker="sleep", inputs={"ms": ms})])
            return PlanUpdate(finish=Finish(status="completed", reason="napped"))

        return synthetic_domain(ScriptedPlanner(plan))


    async def nap(args):
        inputs = {"goal": f"nap {args.ms} ms", "request": {"ms": args.ms}}
        return await start_run(args, nap_domain(), inputs, args.thread or "nap-1", auto=True)
    '''
)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def naps(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "napcli.py").write_text(GRAMMAR)
    (tmp_path / "naps.py").write_text(HANDLERS)
    return {
        "PYTHONPATH": str(tmp_path),
        "ORCHESTRATOR_DOMAINS": "napcli",
        "ORCHESTRATOR_HOME": str(tmp_path / "home"),
    }


def test_a_domains_command_runs_and_the_engines_commands_read_its_threads(
    naps: dict[str, str],
) -> None:
    helped = cli("--help", env=naps)
    assert helped.returncode == 0
    assert "\n    nap " in helped.stdout and "orchestrator nap --ms 2" in helped.stdout
    assert "\n    trip " not in helped.stdout, "only the listed domains add commands"

    ran = cli("nap", "--ms", "2", "--json", env=naps)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "completed"

    runs = cli("runs", "--json", env=naps)
    assert runs.returncode == 0, runs.stderr
    [row] = json.loads(runs.stdout)
    assert row["thread_id"] == "nap-1" and row["goal"] == "nap 2 ms"
    shown = cli("show", "nap", "--json", env=naps)
    assert shown.returncode == 0, shown.stderr
    assert [t["id"] for t in json.loads(shown.stdout)["tasks"]] == ["nap"]
    assert cli("history", "nap-1", env=naps).returncode == 0


def test_travel_and_another_domain_side_by_side(naps: dict[str, str]) -> None:
    both = {**naps, "ORCHESTRATOR_DOMAINS": "domains.travel.cli,napcli"}

    helped = cli("--help", env=both)

    assert helped.returncode == 0
    assert "\n    trip " in helped.stdout and "\n    nap " in helped.stdout


@pytest.mark.parametrize(
    ("domains", "message"),
    [
        ("no_such_cli", "ORCHESTRATOR_DOMAINS names no_such_cli, which cannot be imported"),
        ("naps", "ORCHESTRATOR_DOMAINS names naps, which has no add_commands(sub)"),
        ("napcli,napcli2", "napcli2 cannot add its commands"),
    ],
)
def test_a_listed_module_that_cannot_be_used_is_one_error_line(
    naps: dict[str, str], tmp_path: Path, domains: str, message: str
) -> None:
    (tmp_path / "napcli2.py").write_text(GRAMMAR)  # claims `nap` a second time

    done = cli("runs", env={**naps, "ORCHESTRATOR_DOMAINS": domains})

    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


BROKEN = {
    "syntax_cli": ("def add_commands(sub)\n", "syntax_cli fails on import: SyntaxError: "),
    "raising_cli": (
        "raise RuntimeError('no config\\nfound')\n",
        "raising_cli fails on import: RuntimeError: no config found",
    ),
    "typo_cli": (
        "def add_commands(sub):\n    sub.add_parser('x', nope=1)\n",
        "typo_cli cannot add its commands: TypeError: ",
    ),
}


@pytest.mark.parametrize("module", sorted(BROKEN))
@pytest.mark.parametrize("args", [("--help",), ("runs",)])
def test_a_broken_module_is_one_error_line_not_a_traceback(
    naps: dict[str, str], tmp_path: Path, module: str, args: tuple[str, ...]
) -> None:
    source, message = BROKEN[module]
    (tmp_path / f"{module}.py").write_text(source)

    done = cli(*args, env={**naps, "ORCHESTRATOR_DOMAINS": module})

    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ORCHESTRATOR_DOMAINS: ") and message in lines[0]
    assert "Traceback" not in done.stderr
