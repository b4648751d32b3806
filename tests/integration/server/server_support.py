"""Real `langgraph dev` servers for the end-to-end tests, and the SDK client the tests drive.

Each server is a subprocess on a free loopback port, started from its own temporary working
directory (where `langgraph dev` keeps `.langgraph_api/`) with its own `ORCHESTRATOR_HOME`, so no
test writes into the repository or shares state with another. It runs this repository's
`langgraph.json` as is, except that the relative paths are made absolute (the dev server resolves
them against its working directory, as `langgraph build` does against the project). Every server
is stopped in teardown, whatever the test did.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
JOBS = 10
"""Runs the server executes at once (`--n-jobs-per-worker`); the dev server's default is 1."""

# Variables that would make a test server behave differently from the one under test: a real
# model, tracing to LangSmith, another checkpoint store, auth, another remote server.
_SCRUBBED_PREFIXES = ("ORCHESTRATOR_", "LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_", "OPENAI_")


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def server_config(workdir: Path, *, auth: bool = True) -> Path:
    """The repository's langgraph.json with its `./` paths made absolute, written to `workdir`.

    `auth=False` leaves the auth handler out: only for tests of what the graphs do when a bad
    context gets past it (an assistant saved before the checks existed)."""
    config = json.loads((REPO / "langgraph.json").read_text())
    if not auth:
        del config["auth"]

    def absolute(path: str) -> str:
        return str(REPO / path[2:]) if path.startswith("./") else path

    deps = config["dependencies"]
    config["dependencies"] = [str(REPO) if d == "." else absolute(d) for d in deps]
    for graph in config["graphs"].values():
        graph["path"] = absolute(graph["path"])
    for key in ("checkpointer", "auth"):
        if key in config:
            config[key]["path"] = absolute(config[key]["path"])
    path = workdir / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@dataclass
class DevServer:
    """One `langgraph dev` process; `start` and `stop` may be called again (a restart)."""

    workdir: Path
    home: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    auth: bool = True
    """False: without the auth handler (see `server_config`)."""
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        assert self.process is None, "already running"
        config = server_config(self.workdir, auth=self.auth)
        self._log = self.log_path.open("ab")
        command = [
            str(Path(sys.executable).with_name("langgraph")),
            "dev",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-browser",
            "--no-reload",
            "--n-jobs-per-worker",
            str(JOBS),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the server and children
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._fail(f"exited with code {self.process.returncode} during start-up")
            if re.search(rf"Port {self.port} is already in use", self.log_text()):
                # langgraph dev moves to another port silently; a test must not follow it there.
                self._fail(f"port {self.port} was taken before the server could bind it")
            try:
                with urllib.request.urlopen(f"{self.url}/ok", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self._fail(f"did not answer /ok within {STARTUP_TIMEOUT_S:g}s")

    def _fail(self, why: str) -> None:
        tail = "\n".join(self.log_text().splitlines()[-40:])
        self.stop()
        pytest.fail(f"langgraph dev on port {self.port} {why}; log tail:\n{tail}", pytrace=False)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM is a clean shutdown; SIGKILL is a crash. Either way, the process is gone."""
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, sig)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=STOP_TIMEOUT_S)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def crash(self) -> None:
        self.stop(signal.SIGKILL)


class ServerFactory(Protocol):
    """Starts a server from a fresh working directory and data directory."""

    def __call__(
        self, name: str = "server", env: Mapping[str, str] | None = None, *, auth: bool = True
    ) -> DevServer: ...


def server_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        LANGSMITH_TRACING="false",
        ORCHESTRATOR_HOME=str(home),
        ORCHESTRATOR_PLANNER="rules",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def legs_of(request: dict[str, Any]) -> list[dict[str, Any]]:
    if "parties" in request:
        return [leg for party in request["parties"] for leg in party["trip"]["legs"]]
    legs: list[dict[str, Any]] = request["legs"]
    return legs


@asynccontextmanager
async def sdk(url: str, token: str | None = None, **headers: str) -> AsyncIterator[LangGraphClient]:
    """A `langgraph_sdk` client, with a bearer token if given; never an API key from the env."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    client = get_client(url=url, api_key=None, headers=headers or None)
    try:
        yield client
    finally:
        await client.aclose()


async def assistant_id(client: LangGraphClient, graph_id: str) -> str:
    """The id of the assistant the server made for `graph_id` (some endpoints want a UUID)."""
    found = await client.assistants.search(graph_id=graph_id, limit=1)
    assert found, f"no assistant for graph {graph_id!r}"
    return str(found[0]["assistant_id"])


async def refusal(call: Awaitable[Any]) -> tuple[int, str]:
    """The HTTP status and detail a client call ends with (200 and "" if it succeeded)."""
    try:
        await call
    except httpx.HTTPStatusError as exc:  # the SDK's typed errors derive from it
        try:
            detail = str(exc.response.json().get("detail", ""))
        except ValueError:
            detail = exc.response.text
        return exc.response.status_code, detail
    return 200, ""
