"""The command line's grammar: help that teaches (defaults, ranges, examples, exit codes),
`--version`, completion, aliases, relative dates, and usage mistakes in one line."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from datetime import date, timedelta

import pytest

from orchestrator.cli import _main
from orchestrator.cli.parser import build_parser, completion_script, normalize

COMMANDS = [
    "demo",
    "trip",
    "run",
    "resume",
    "runs",
    "bookings",
    "history",
    "fork",
    "show",
    "graph",
    "airports",
    "new-domain",
    "completion",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = _main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_command_is_listed_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")

    assert code == 0
    for name in COMMANDS:
        assert f"\n    {name}" in out
    assert "examples:" in out and "exit codes:" in out
    assert sorted(subcommands()) == sorted(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_has_help_examples_and_exit_codes(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, out, _ = run(capsys, name, "--help")

    assert code == 0
    assert f"usage: orchestrator {name}" in out
    assert "examples:\n  orchestrator" in out
    assert "exit codes:" in out and "3    paused for approval" in out
    for action in subcommands()[name]._actions:
        assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_trip_help_states_defaults_and_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "trip", "--help")
    flat = " ".join(out.split())

    assert "travellers, 1 to 9 (default: 1)" in flat
    assert "a finite amount >= 0 (default: none)" in flat
    assert "hotel stars, 1 (budget) to 5 (luxury) (default: 3)" in flat
    assert "{economy,premium,business}" in flat and "(default: economy)" in flat
    assert "{economy,compact,midsize,suv,luxury}" in flat and "(default: compact)" in flat
    assert "YYYY-MM-DD or +N days" in flat


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")

    assert code == 0
    assert out.startswith("orchestrator ") and out.split()[1][0].isdigit()


def test_no_command_prints_the_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)

    assert code == 0 and err == ""
    assert out.startswith("usage: orchestrator") and "exit codes:" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trip", "--travelers", "10"], "at least 1 and at most 9, got 10"),
        (["trip", "--travelers", "two"], "'two' is not a whole number"),
        (["trip", "--budget", "inf"], "finite"),
        (["trip", "--budget", "-1"], "cannot be negative"),
        (["trip", "--hotel-tier", "6"], "invalid choice: 6"),
        (["trip", "--cabin", "first"], "invalid choice: 'first'"),
        (["trip", "--depart", "tomorrow"], "use YYYY-MM-DD, or +N"),
        (["fork", "T"], "the following arguments are required: --at"),
        (["show", "T", "--format", "png"], "invalid choice: 'png'"),
        (["completion", "fish"], "invalid choice: 'fish'"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_a_usage_mistake_is_one_error_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)

    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: orchestrator")
    assert message in lines[0] and lines[0].endswith("--help)")


def test_relative_dates_count_from_today() -> None:
    args = build_parser().parse_args(
        ["trip", "--from", "SFO", "--to", "CDG", "--depart", "+30", "--return", "+35d"]
    )
    legs = build_parser().parse_args(["trip", "--leg", "SFO-JFK:+3", "--leg", "JFK-SFO:2027-01-02"])
    today = date.today()

    assert args.depart == (today + timedelta(days=30)).isoformat()
    assert args.back == (today + timedelta(days=35)).isoformat()
    assert legs.leg == [f"SFO-JFK:{today + timedelta(days=3)}", "JFK-SFO:2027-01-02"]


def test_aliases_fold_into_one_name() -> None:
    parser = build_parser()

    old = normalize(parser.parse_args(["bookings", "--thread", "t1"]))
    new = normalize(parser.parse_args(["bookings", "t1"]))
    shown = normalize(parser.parse_args(["show", "t1", "--json"]))
    formatted = normalize(parser.parse_args(["show", "t1", "--format", "json"]))

    assert old.thread_id == old.thread == new.thread_id == new.thread == "t1"
    assert shown.format == formatted.format == "json" and shown.json and formatted.json


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_prints_a_script_that_knows_commands_and_options(
    capsys: pytest.CaptureFixture[str], shell: str
) -> None:
    code, out, _ = run(capsys, "completion", shell)

    assert code == 0
    assert out == completion_script(build_parser(), shell)
    assert "complete -o default -F _orchestrator orchestrator" in out
    assert "trip) opts=" in out and "--hotel-tier" in out and "--travelers" in out
    assert ("bashcompinit" in out) == (shell == "zsh")


def test_the_bash_completion_completes() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    script = completion_script(build_parser(), "bash")
    probe = (
        f"{script}\nCOMP_WORDS=(orchestrator tr); COMP_CWORD=1; _orchestrator; "
        'echo "${COMPREPLY[@]}"; COMP_WORDS=(orchestrator trip --hotel-t); COMP_CWORD=2; '
        '_orchestrator; echo "${COMPREPLY[@]}"'
    )
    done = subprocess.run([bash, "-c", probe], capture_output=True, text=True, check=True)

    assert done.stdout.split("\n")[:2] == ["trip", "--hotel-tier"]
