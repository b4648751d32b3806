"""B7 (issue #18), standalone until it joins `bench/`: throughput with 1 and 2 workers, and the
time to recover a run whose worker is killed.

    .venv/cluster/bin/python cluster/bench_b7.py [--runs 20] [--lease 5]

For each worker count it starts a cluster (`cluster.py start`, own database, data directory and
Redis keys, deployment approval `auto` so each trip runs to its end in one run), submits `--runs`
example trips at once, and times them from the first submission to the last completion. Then, on
the 2-worker cluster, it kills (SIGKILL) the worker executing a trip and times the run from the
kill to its completion on the other worker. Prints a markdown table. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from langgraph_sdk import get_client

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
POSTGRES = os.environ.get("CLUSTER_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TRIP: dict[str, Any] = json.loads((REPO / "examples" / "trip.json").read_text())


def start(home: Path, database: str, port: int, workers: int, lease: int) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    env.update(ORCHESTRATOR_HOME=str(home), ORCHESTRATOR_PLANNER="rules")
    env.update(ORCHESTRATOR_APPROVAL="auto", LANGSMITH_TRACING="false")
    heartbeat = max(1, lease // 3)
    options = {
        "--data-dir": str(home),
        "--port": str(port),
        "--workers": str(workers),
        "--database": database,
        "--postgres": POSTGRES,
        "--lease": str(lease),
        "--heartbeat": str(heartbeat),
        "--reaper": "1",
    }
    subprocess.run(
        [
            sys.executable,
            str(HERE / "cluster.py"),
            "start",
            *(x for o in options.items() for x in o),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pids = {}
    for line in (home / "cluster" / "pids").read_text().splitlines():
        role, pid = line.split()
        pids[role] = int(pid)
    return pids


def stop(home: Path, database: str) -> None:
    subprocess.run(
        [sys.executable, str(HERE / "cluster.py"), "stop", "--data-dir", str(home)],
        check=False,
        stdout=subprocess.DEVNULL,
    )
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    import redis  # an Aegra dependency: this script runs with the cluster virtualenv

    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    for key in client.scan_iter(f"aegra:{database}:*"):
        client.delete(key)
    client.close()


async def throughput(url: str, runs: int) -> tuple[float, dict[str, int]]:
    """Runs per second for `runs` trips submitted at once, and how the trips ended."""
    client = get_client(url=url, api_key=None)
    ended: dict[str, int] = {}
    try:
        threads = [(await client.threads.create())["thread_id"] for _ in range(runs)]
        began = time.monotonic()
        created = await asyncio.gather(
            *(client.runs.create(t, "orchestrator", input=TRIP) for t in threads)
        )
        await asyncio.gather(
            *(client.runs.join(t, r["run_id"]) for t, r in zip(threads, created, strict=True))
        )
        elapsed = time.monotonic() - began
        for thread_id in threads:
            state = await client.threads.get_state(thread_id)
            status = str(state["values"].get("status"))
            ended[status] = ended.get(status, 0) + 1
    finally:
        await client.aclose()
    return runs / elapsed, ended


async def recovery(url: str, database_uri: str, pids: dict[str, int]) -> float:
    """Seconds from the SIGKILL of the worker executing a trip to the trip's end elsewhere."""
    client = get_client(url=url, api_key=None)
    try:
        for _attempt in range(5):  # a run that ends before the kill lands is tried again
            thread_id = (await client.threads.create())["thread_id"]
            run = await client.runs.create(thread_id, "orchestrator", input=TRIP)
            victim = None
            while victim is None:
                with psycopg.connect(database_uri, autocommit=True) as conn:
                    row = conn.execute(
                        "SELECT claimed_by, status FROM runs WHERE run_id = %s", (run["run_id"],)
                    ).fetchone()
                claim = row[0] if row else None
                if row and row[1] not in ("pending", "running"):
                    break  # finished before we saw it claimed
                victim = next(
                    (p for p in pids.values() if claim and f"-{p}-worker-" in claim), None
                )
                await asyncio.sleep(0.005)
            if victim is None:
                continue
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            await client.runs.join(thread_id, run["run_id"])
            recovered = time.monotonic() - killed
            finished = await client.runs.get(thread_id, run["run_id"])
            assert finished["status"] == "success", finished["status"]
            return recovered
        raise RuntimeError("five trips in a row ended before their worker could be killed")
    finally:
        await client.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lease", type=int, default=5)
    parser.add_argument("--port", type=int, default=2041)
    args = parser.parse_args()
    rates: dict[int, float] = {}
    outcomes: dict[int, dict[str, int]] = {}
    recovered = None
    tmp = Path(tempfile.mkdtemp(prefix="b7-"))
    try:
        for workers in (1, 2):
            home = tmp / f"w{workers}"
            home.mkdir()
            database = f"orch_b7_{uuid.uuid4().hex[:8]}"
            pids = start(home, database, args.port, workers, args.lease)
            url = f"http://127.0.0.1:{args.port}"
            try:
                asyncio.run(throughput(url, 2))  # warm-up: graphs loaded in each worker
                rates[workers], outcomes[workers] = asyncio.run(throughput(url, args.runs))
                if workers == 2:
                    uri = POSTGRES.rsplit("/", 1)[0] + "/" + database
                    workers_only = {r: p for r, p in pids.items() if r != "api"}
                    recovered = asyncio.run(recovery(url, uri, workers_only))
            finally:
                stop(home, database)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"## B7 cluster ({args.runs} trips at once, lease {args.lease}s)\n")
    print("| workers | runs/s | ratio to 1 worker | trips ended |\n| --- | --- | --- | --- |")
    for workers, rate in rates.items():
        ended = ", ".join(f"{n} {status}" for status, n in sorted(outcomes[workers].items()))
        print(f"| {workers} | {rate:.2f} | {rate / rates[1]:.2f} | {ended} |")
    if recovered is not None:
        print(f"\nRecovery after SIGKILL of the executing worker: {recovered:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
