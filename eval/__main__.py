"""`python -m eval [--scripted] [--smoke] [--model NAME] [--only NAME ...] [--output PATH]`.

Runs the travel scenario suite with the LLM planner on the configured model (`OPENAI_BASE_URL`,
`OPENAI_API_KEY`, `--model` or `ORCHESTRATOR_PLANNER_MODEL`) and with the rules planner, and
prints (or writes) a markdown table: the verifier's status and whether it is the expected one,
rounds, model calls, prompt and completion tokens, cost and wall time.

`--scripted` needs no model and no network: the LLM planner runs against the scripted loopback
model replaying the rules planner's choices (a smoke test of the LLM path, not a model score).
`--smoke` runs two scenarios only. Exit status: 0, or 2 when no model is configured and
`--scripted` is not given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from eval.suite import SCENARIOS, SMOKE, run_suite, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n")[0])
    parser.add_argument("--scripted", action="store_true", help="offline: the scripted model")
    parser.add_argument("--smoke", action="store_true", help=f"only {', '.join(SMOKE)}")
    parser.add_argument("--model", default="", help="model name (else ORCHESTRATOR_PLANNER_MODEL)")
    parser.add_argument("--only", nargs="*", default=[], help="scenario names to run")
    parser.add_argument("--inventory", type=Path, help="an inventory database to copy")
    parser.add_argument("--output", type=Path, help="write the markdown table here")
    args = parser.parse_args(argv)

    if not args.scripted and not os.environ.get("OPENAI_API_KEY"):
        print(
            "python -m eval: no model configured: set OPENAI_API_KEY (and OPENAI_BASE_URL, "
            "--model), or run offline with --scripted",
            file=sys.stderr,
        )
        return 2
    names = args.only or (SMOKE if args.smoke else [s.name for s in SCENARIOS])
    unknown = sorted(set(names) - {s.name for s in SCENARIOS})
    if unknown:
        print(f"python -m eval: unknown scenario(s) {unknown}", file=sys.stderr)
        return 2
    scenarios = [s for s in SCENARIOS if s.name in names]
    overrides = {"planner_model": args.model} if args.model else {}

    from domains.travel.inventory import Inventory
    from domains.travel.services import INVENTORY_FILE

    with tempfile.TemporaryDirectory(prefix="eval-") as tmp:
        workdir = Path(tmp)
        template = args.inventory
        if template is None:
            print("building an inventory (a few seconds)...", file=sys.stderr)
            template = workdir / "template" / INVENTORY_FILE
            template.parent.mkdir()
            Inventory.open(template)
        rows = asyncio.run(
            run_suite(
                template,
                workdir,
                scenarios=scenarios,
                model_overrides=overrides,
                scripted=args.scripted,
                progress=lambda m: print(m, file=sys.stderr),
            )
        )
    model = "scripted loopback model replaying the rules planner (not a model score)"
    if not args.scripted:
        model = args.model or os.environ.get("ORCHESTRATOR_PLANNER_MODEL") or "default model"
    text = table(rows, title=f"Scenario suite: {model}")
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
