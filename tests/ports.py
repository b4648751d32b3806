"""Free loopback ports for the servers the tests start, safe when pytest-xdist runs the suite in
several processes at once.

A port found free here is only bound later, by the server's own process. Asking the kernel for
any free port (`bind(("127.0.0.1", 0))`) lets two test processes be handed the same one in that
window. Under xdist each worker (`PYTEST_XDIST_WORKER=gwN`) therefore takes ports from a range of
its own, below the kernel's ephemeral range (so never one the kernel hands to a client socket or
a `bind(0)`), and never hands out the same port twice (a server restarted on its port keeps it).
Without xdist the kernel picks, as before.
"""

from __future__ import annotations

import os
import random
import socket

FIRST_PORT = 20000
PORTS_PER_WORKER = 1500
_handed_out: set[int] = set()


def _worker_range() -> range | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return None
    first = FIRST_PORT + int(worker[2:]) * PORTS_PER_WORKER
    if first + PORTS_PER_WORKER > 32768:  # past the start of the usual ephemeral range
        return None
    return range(first, first + PORTS_PER_WORKER)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A loopback port nothing listens on, for a server this test process is about to start."""
    ports = _worker_range()
    if ports is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
            return port
    candidates = [p for p in ports if p not in _handed_out]
    random.SystemRandom().shuffle(candidates)
    for port in candidates:
        if _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free loopback port left in {ports} for this test worker")
