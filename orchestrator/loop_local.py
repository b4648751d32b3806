"""Per-event-loop singletons, kept on the loop object itself.

A module-level cache keyed by the loop, even a `WeakKeyDictionary`, keeps every loop alive once
a cached value refers back to it (an armed timer handle, a semaphore that has had a waiter): the
cache holds the value, the value holds the loop. Kept on the loop, the value lives and dies with
it, and a closed loop is collected with everything it cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar, cast

T = TypeVar("T")


def loop_local(name: str, factory: Callable[[asyncio.AbstractEventLoop], T]) -> T:
    """The running loop's value under `name`, made by `factory(loop)` on first use."""
    loop = asyncio.get_running_loop()
    try:
        return cast(T, getattr(loop, name))
    except AttributeError:
        value = factory(loop)
        setattr(loop, name, value)
        return value
