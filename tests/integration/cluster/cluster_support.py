"""A real Aegra cluster for the tests: one API process and two queue workers on the local
PostgreSQL and Redis, started with `cluster/cluster.py` from the cluster virtualenv that
`make cluster-venv` builds (Python 3.12; minutes the first time, then a no-op).

Each cluster gets its own database (dropped at the end), its own Redis keys (named after the
database), its own data directory and free loopback ports, and short leases (5 s, heartbeat 2 s,
reaper every 1 s) so that a killed worker's run is recovered within seconds.

Locally an unreachable PostgreSQL or Redis skips the tests; under CI (`CI=true`) it fails them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.ports import free_port
from tests.postgres import POSTGRES_URI, require_postgres

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
CLUSTER_SCRIPT = REPO / "cluster" / "cluster.py"
CLUSTER_PYTHON = REPO / ".venv" / "cluster" / "bin" / "python"
REDIS_URL = os.environ.get("ORCHESTRATOR_TEST_REDIS", "redis://127.0.0.1:6379/0")
VENV_BUILD_TIMEOUT_S = 1200.0
START_TIMEOUT_S = 240.0
LEASE_S, HEARTBEAT_S, REAPER_S = 5, 2, 1
ALICE, BOB = "tok-alice-c1u5", "tok-bob-c1u5"
TOKENS = f"{ALICE}:alice,{BOB}:bob"
_SCRUBBED_PREFIXES = ("ORCHESTRATOR_", "LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_", "OPENAI_")
_AEGRA_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_BROKER_ENABLED",
    "WORKER_COUNT",
    "AEGRA_CONFIG",
    "AUTH_TYPE",
    "PORT",
    "HOST",
    "SERVER_URL",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(message: str) -> None:
    if in_ci():
        pytest.fail(message + " (CI requires it; .ci/run starts it)", pytrace=False)
    pytest.skip(message)


def require_redis(url: str = REDIS_URL) -> str:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=3) as conn:
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
    except OSError as exc:
        unavailable(f"Redis at {host}:{port} is unreachable: {exc}")
    if not reply.startswith(b"+PONG"):
        unavailable(f"Redis at {host}:{port} answered PING with {reply[:40]!r}")
    return url


_DELETE_KEYS = (
    "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
    "redis.call('DEL', k) n = n + 1 end return n"
)


def delete_redis_keys(pattern: str, url: str = REDIS_URL) -> None:
    """Deletes the keys a test cluster left (they would expire within the hour anyway)."""
    parts = urlsplit(url)
    words = [b"EVAL", _DELETE_KEYS.encode(), b"0", pattern.encode()]
    command = b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
    with (
        contextlib.suppress(OSError),
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 3) as conn,
    ):
        conn.sendall(command)
        conn.recv(64)


def build_cluster_venv() -> None:
    """The project's own rule builds the cluster virtualenv (a no-op once it is up to date).

    One test process at a time (pytest-xdist runs several): two `make cluster-venv` at once would
    build the same virtualenv over each other."""
    lock_path = REPO / ".venv" / ".cluster-venv.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        _make_cluster_venv()


def _make_cluster_venv() -> None:
    try:
        done = subprocess.run(
            ["make", "-s", "-C", str(REPO), "cluster-venv"],
            capture_output=True,
            text=True,
            timeout=VENV_BUILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"'make cluster-venv' took over {VENV_BUILD_TIMEOUT_S:g}s", pytrace=False)
    if done.returncode != 0:
        output = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        pytest.fail(f"'make cluster-venv' failed:\n{output}", pytrace=False)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def cluster_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_SCRUBBED_PREFIXES) and k not in _AEGRA_ENV
    }
    env.update(LANGSMITH_TRACING="false", ORCHESTRATOR_PLANNER="rules", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _with_database(uri: str, database: str) -> str:
    return urlunsplit(urlsplit(uri)._replace(path="/" + database))


@dataclass
class Cluster:
    url: str
    home: Path
    database_uri: str
    database: str
    pids: dict[str, int]
    env: dict[str, str]

    @property
    def run_dir(self) -> Path:
        return self.home / "cluster"

    @property
    def workers(self) -> list[str]:
        return sorted(role for role in self.pids if role.startswith("worker-"))

    def log(self, role: str) -> list[dict[str, Any]]:
        """The process's JSON log events (the cluster runs Aegra with ENV_MODE=PRODUCTION)."""
        events = []
        path = self.run_dir / f"{role}.log"
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    events.append(json.loads(line))
        return events

    def picked_up(self, role: str) -> list[str]:
        """The run ids a worker started executing, in order (a resumed run appears again)."""
        return [
            str(e.get("run_id")) for e in self.log(role) if e.get("event") == "Worker picked up run"
        ]

    def who_ran(self, run_id: str) -> list[str]:
        return [role for role in self.workers if run_id in self.picked_up(role)]

    def lease(self, run_id: str) -> tuple[str | None, str | None]:
        """Who holds the run's lease (`<host>-<pid>-worker-<n>`, or None) and the run's status."""
        with psycopg.connect(self.database_uri, autocommit=True) as conn:
            row = conn.execute("SELECT claimed_by, status FROM runs WHERE run_id = %s", (run_id,))
            found = row.fetchone()
        return (None, None) if found is None else (found[0], found[1])

    def claimed_by(self, run_id: str) -> str | None:
        return self.lease(run_id)[0]

    def role_of_claim(self, claim: str) -> str | None:
        for role, pid in self.pids.items():
            if f"-{pid}-worker-" in claim:
                return role
        return None

    def kill(self, role: str) -> None:
        os.kill(self.pids[role], signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pids[role], 0)


def start_cluster(
    tmp: Path, inventory_file: Path, extra_env: dict[str, str], *, inventory: str = "sqlite"
) -> Cluster:
    """A started cluster. `inventory`: 'sqlite' (a copy of `inventory_file` in its data
    directory, which tests read and doctor) or 'cluster' (`make cluster`'s default: the
    cluster's own PostgreSQL database, seeded on first use)."""
    import shutil

    from domains.travel.services import INVENTORY_FILE

    admin = require_postgres(POSTGRES_URI)
    require_redis()
    build_cluster_venv()
    home = tmp / "home"
    home.mkdir()
    if inventory == "sqlite":
        shutil.copy(inventory_file, home / INVENTORY_FILE)
    database = f"orch_cluster_test_{uuid.uuid4().hex[:10]}"
    env = cluster_env({"ORCHESTRATOR_HOME": str(home), **extra_env})
    port = free_port()
    command = [
        str(CLUSTER_PYTHON),
        str(CLUSTER_SCRIPT),
        "start",
        "--data-dir",
        str(home),
        "--port",
        str(port),
        "--workers",
        "2",
        "--postgres",
        admin,
        "--database",
        database,
        "--redis",
        REDIS_URL,
        "--lease",
        str(LEASE_S),
        "--heartbeat",
        str(HEARTBEAT_S),
        "--reaper",
        str(REAPER_S),
        "--inventory",
        inventory,
    ]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        stop_cluster_at(home, env)
        drop_database(admin, database)
        pytest.fail(f"the cluster did not start within {START_TIMEOUT_S:g}s", pytrace=False)
    if done.returncode != 0:
        drop_database(admin, database)
        pytest.fail(f"the cluster did not start: {done.stdout}{done.stderr}", pytrace=False)
    pids = {}
    for line in (home / "cluster" / "pids").read_text().splitlines():
        role, pid = line.split()
        pids[role] = int(pid)
    return Cluster(
        url=f"http://127.0.0.1:{port}",
        home=home,
        database_uri=_with_database(admin, database),
        database=database,
        pids=pids,
        env=env,
    )


def stop_cluster_at(home: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [str(CLUSTER_PYTHON), str(CLUSTER_SCRIPT), "stop", "--data-dir", str(home)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def stop_cluster(cluster: Cluster) -> None:
    stop_cluster_at(cluster.home, cluster.env)
    for pid in cluster.pids.values():  # whatever `stop` could not end (it kills only its own)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    admin = _with_database(cluster.database_uri, urlsplit(POSTGRES_URI).path.lstrip("/"))
    drop_database(admin, cluster.database)
    delete_redis_keys(f"aegra:{cluster.database}:*")


def drop_database(admin: str, database: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            return
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@asynccontextmanager
async def sdk(url: str, token: str | None = None) -> AsyncIterator[LangGraphClient]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    client = get_client(url=url, api_key=None, headers=headers)
    try:
        yield client
    finally:
        await client.aclose()
