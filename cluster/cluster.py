"""Start and stop the graphs on Aegra: one API process plus queue workers, on PostgreSQL and Redis.

    python cluster/cluster.py start [--port 2026] [--workers 2] [--data-dir DIR] ...
    python cluster/cluster.py stop  [--data-dir DIR]

Run it with the cluster's own Python 3.12 virtualenv (`make cluster` builds it and calls this);
it needs nothing but the standard library and `psycopg` (an Aegra dependency).

- **API** (`api`): Aegra with `WORKER_COUNT=0` on `--port` (loopback). It takes every request,
  writes runs to PostgreSQL and puts their ids on a Redis list; it executes nothing.
- **Workers** (`worker-1` ... `worker-N`): Aegra with one queue consumer each (`N_JOBS_PER_WORKER`
  runs at once), on ports of their own that nobody needs to call. A worker holds a lease on each
  run it executes and renews it by heartbeat; a killed worker's lease runs out and any live
  process's reaper puts the run back on the queue, where another worker resumes it from its last
  checkpoint.

All of them serve this repository's `langgraph.json` as written (graphs and auth handler; Aegra
keeps checkpoints in its own PostgreSQL tables and ignores `checkpointer.path`) and share one
database, one Redis queue (keys prefixed by the database name, so two clusters on one Redis do
not mix) and one data directory (`ORCHESTRATOR_HOME`: the inventory and its bookings, unless
`--inventory`/`ORCHESTRATOR_INVENTORY` names a PostgreSQL database for them: needed across hosts).

`start` writes `<data dir>/cluster/pids` (`role pid` per line) and a log per process beside it,
waits until the API answers, and prints the URL and the pids. `stop` ends exactly those pids.
Problems are one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "langgraph.json"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE = "orchestrator_cluster"
PIDS = "pids"
STARTUP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0


class ClusterError(Exception):
    """A problem the user can fix; printed as one line."""


def data_dir(given: str | None) -> Path:
    """The same default as the project's (`orchestrator.context.default_data_dir`)."""
    if given:
        return Path(given).expanduser()
    if home := os.environ.get("ORCHESTRATOR_HOME"):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "orchestrator"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _shown(uri: str) -> str:
    """`uri` without its password, for printing."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def inventory_uri(args: argparse.Namespace) -> str | None:
    """The PostgreSQL URI the processes keep the inventory and bookings in (None: SQLite).

    By default the cluster's own database, so checkpoints and bookings both live in PostgreSQL
    and a worker on any host books in the same ledger."""
    if args.inventory == "sqlite":
        return None
    if args.inventory == "cluster":
        return with_database(args.postgres, args.database)
    return str(args.inventory)


def with_database(uri: str, database: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + database))


def check_redis(url: str) -> None:
    """PING the Redis server at `url` (stdlib only: the check must not need the venv's redis)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=3) as conn:
            if parts.password:
                conn.sendall(f"AUTH {parts.password}\r\n".encode())
                conn.recv(64)
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
    except OSError as exc:
        raise ClusterError(
            f"Redis at {host}:{port} is unreachable ({exc.strerror or exc}); start it, e.g. "
            "'redis-server --daemonize yes --bind 127.0.0.1 --port 6379', or set REDIS_URL"
        ) from None
    if not reply.startswith(b"+PONG"):
        raise ClusterError(f"Redis at {host}:{port} answered PING with {reply[:40]!r}")


def ensure_database(admin_uri: str, database: str) -> None:
    """Checks PostgreSQL and creates the cluster's database when it is missing."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        raise ClusterError(
            "psycopg is missing: run this with the cluster virtualenv ('make cluster')"
        ) from None
    parts = urlsplit(admin_uri)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    try:
        with psycopg.connect(admin_uri, connect_timeout=3, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if found.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except psycopg.errors.DuplicateDatabase:
        pass  # created by someone else meanwhile
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ClusterError(
            f"PostgreSQL at {where} is unreachable or refused ({first}); start it (e.g. "
            "'pg_ctlcluster <version> main start') or set CLUSTER_POSTGRES to a server URI"
        ) from None


def read_pids(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        role, _, pid = line.partition(" ")
        if pid.strip().isdigit():
            found.append((role, int(pid)))
    return found


def is_ours(pid: int) -> bool:
    """The pid is alive and still an Aegra process (not a stranger that reused the pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"aegra_api" in cmdline


def process_env(
    *,
    base: Mapping[str, str],
    home: Path,
    database_url: str,
    redis_url: str,
    prefix: str,
    port: int,
    api_url: str,
    workers: int,
    jobs: int,
    lease_s: int,
    heartbeat_s: int,
    reaper_s: int,
    inventory: str | None = None,
) -> dict[str, str]:
    env = dict(base)
    if inventory:
        # The inventory and its bookings in PostgreSQL, shared by every host's processes.
        env["ORCHESTRATOR_INVENTORY"] = inventory
    env.update(
        AEGRA_CONFIG=str(CONFIG),
        DATABASE_URL=database_url,
        REDIS_BROKER_ENABLED="true",
        REDIS_URL=redis_url,
        WORKER_QUEUE_KEY=f"{prefix}:jobs",
        REDIS_CHANNEL_PREFIX=f"{prefix}:run:",
        WORKER_COUNT=str(workers),
        N_JOBS_PER_WORKER=str(jobs),
        LEASE_DURATION_SECONDS=str(lease_s),
        HEARTBEAT_INTERVAL_SECONDS=str(heartbeat_s),
        REAPER_INTERVAL_SECONDS=str(reaper_s),
        HOST="127.0.0.1",
        PORT=str(port),
        SERVER_URL=api_url,
        # The graphs' own idea of "this server" (group_trip's default remote) is the API.
        LANGGRAPH_API_URL=api_url,
        ORCHESTRATOR_HOME=str(home),
        LANGSMITH_TRACING=base.get("LANGSMITH_TRACING", "false"),
        PYTHONUNBUFFERED="1",
        # JSON log lines (one per event, no colour codes) in the log files.
        ENV_MODE=base.get("ENV_MODE", "PRODUCTION"),
    )
    return env


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            raise ClusterError(
                f"{url}: process {process.pid} exited ({process.returncode}) during start-up; "
                f"see {log}: {tail[-400:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise ClusterError(f"{url} did not answer /ready within {timeout_s:g}s; see {log}")


def start(args: argparse.Namespace) -> int:
    home = data_dir(args.data_dir)
    run_dir = home / "cluster"
    pids_file = run_dir / PIDS
    alive = [(role, pid) for role, pid in read_pids(pids_file) if is_ours(pid)]
    if alive:
        raise ClusterError(
            f"a cluster is already running from {pids_file} (pids "
            f"{' '.join(str(p) for _, p in alive)}); stop it first with 'make cluster-stop'"
        )
    if args.api and not port_is_free(args.port):
        raise ClusterError(
            f"port {args.port} is already in use; stop what holds it or pass another PORT"
        )
    if args.workers < 0 or (args.workers == 0 and not args.api):
        raise ClusterError("WORKERS must be at least 1 (or 0 with the API process)")
    check_redis(args.redis)
    ensure_database(args.postgres, args.database)

    run_dir.mkdir(parents=True, exist_ok=True)
    api_url = args.api_url or f"http://127.0.0.1:{args.port}"
    common = dict(
        base=os.environ,
        home=home,
        database_url=with_database(args.postgres, args.database),
        redis_url=args.redis,
        prefix=f"aegra:{args.database}",
        api_url=api_url,
        jobs=args.jobs,
        lease_s=args.lease,
        heartbeat_s=args.heartbeat,
        reaper_s=args.reaper,
        inventory=inventory_uri(args),
    )
    started: list[tuple[str, subprocess.Popen[bytes], str, Path]] = []
    try:
        # The first process runs the database migrations and is waited for; the rest skip them.
        plan = [("api", args.host, args.port, 0)] if args.api else []
        plan += [(f"worker-{i}", "127.0.0.1", free_port(), 1) for i in range(1, args.workers + 1)]
        for role, host, port, workers in plan:
            migrate = role == plan[0][0]
            env = process_env(port=port, workers=workers, **common)  # type: ignore[arg-type]
            env["HOST"] = host
            env["RUN_MIGRATIONS_ON_STARTUP"] = "true" if migrate else "false"
            log = run_dir / f"{role}.log"
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "aegra_api.main:app",
                        "--host",
                        host,
                        "--port",
                        str(port),
                        "--no-access-log",
                    ],
                    cwd=REPO,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # outlives `make`; stopped by pid
                )
            url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
            started.append((role, process, url, log))
            pids_file.write_text("".join(f"{r} {p.pid}\n" for r, p, _, _ in started))
            if migrate:
                wait_ready(url, process, log, STARTUP_TIMEOUT_S)
        for _role, process, url, log in started[1:]:
            wait_ready(url, process, log, STARTUP_TIMEOUT_S)
    except BaseException:
        for _, process, _, _ in started:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
        pids_file.unlink(missing_ok=True)
        raise
    print(
        (f"cluster API: {api_url}" if args.api else f"cluster workers for {api_url}")
        + f"  (data dir {home}, database {args.database})"
    )
    if inventory := inventory_uri(args):
        print(f"  bookings in {_shown(inventory)} (ORCHESTRATOR_INVENTORY)")
    else:
        print(f"  bookings in {home}/inventory.sqlite (one host only)")
    for role, process, _, log in started:
        print(f"  {role:<9} pid {process.pid}  log {log}")
    print(f"pids in {pids_file}; stop with 'make cluster-stop'")
    return 0


def stop(args: argparse.Namespace) -> int:
    pids_file = data_dir(args.data_dir) / "cluster" / PIDS
    entries = read_pids(pids_file)
    if not entries:
        print(f"no cluster to stop ({pids_file} is missing or empty)")
        return 0
    ours = [(role, pid) for role, pid in entries if is_ours(pid)]
    # Workers first, so the API does not hand them new runs while they drain.
    ours.sort(key=lambda entry: entry[0] == "api")
    for _role, pid in ours:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and any(is_ours(pid) for _, pid in ours):
        time.sleep(0.2)
    for role, pid in ours:
        if is_ours(pid):
            print(f"{role} (pid {pid}) did not stop within {STOP_TIMEOUT_S:g}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    pids_file.unlink(missing_ok=True)
    gone = len(entries) - len(ours)
    print(
        f"stopped {len(ours)} process(es): "
        + " ".join(f"{role}={pid}" for role, pid in ours)
        + (f" ({gone} already gone)" if gone else "")
    )
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("--data-dir", help="ORCHESTRATOR_HOME (default: the project's)")
    parser.add_argument("--port", type=int, default=2026, help="the API's port")
    parser.add_argument(
        "--host", default="127.0.0.1", help="the API's address (workers stay on loopback)"
    )
    parser.add_argument(
        "--no-api",
        dest="api",
        action="store_false",
        help="workers only (a worker host; the API runs elsewhere)",
    )
    parser.add_argument(
        "--api-url", help="the API's URL as the graphs reach it (default: this host's API)"
    )
    parser.add_argument("--workers", type=int, default=2, help="queue-worker processes")
    parser.add_argument("--jobs", type=int, default=10, help="runs each worker executes at once")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CLUSTER_POSTGRES", DEFAULT_POSTGRES),
        help="a PostgreSQL URI used to create the cluster's database (its path is ignored)",
    )
    parser.add_argument(
        "--database", default=DEFAULT_DATABASE, help="the cluster's database (created if missing)"
    )
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", DEFAULT_REDIS))
    parser.add_argument(
        "--inventory",
        default=os.environ.get("ORCHESTRATOR_INVENTORY") or "cluster",
        help="where the inventory and bookings live: 'cluster' (default, unless "
        "ORCHESTRATOR_INVENTORY is set) for the cluster's own PostgreSQL database, a "
        "postgresql:// URI, or 'sqlite' for the file in the data directory (one host only)",
    )
    parser.add_argument("--lease", type=int, default=10, help="run lease, seconds")
    parser.add_argument("--heartbeat", type=int, default=3, help="lease renewal, seconds")
    parser.add_argument("--reaper", type=int, default=2, help="expired-lease scan, seconds")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return start(args) if args.action == "start" else stop(args)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
