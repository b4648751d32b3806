"""Idempotency keys without their run ids, so tests can compare them across runs."""

from __future__ import annotations

import re

_RUN = re.compile(r":[0-9a-f]{16}:")


def without_run(key: str) -> str:
    """`thread:run:scope+task` -> `thread:scope+task`; keys must carry exactly one run id."""
    stripped, n = _RUN.subn(":", key, count=1)
    assert n == 1, f"no run id in idempotency key {key!r}"
    return stripped
