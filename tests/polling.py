"""The one way tests wait: for a condition, with a bound, never for a length of time.

A bound is not a timing assertion: on a loaded machine a wait may take most of it,
and a test still passes. Speed is measured by the bench scripts, not here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

EVERY = 0.02
"""Seconds between two looks at the condition."""


def poll(probe: Callable[[], T], done: Callable[[T], object], within: float, every: float = EVERY) -> T:
    """`probe()`'s value once `done` holds for it, or its last value after `within` seconds.

    For a test that asserts on the value either way (which processes are still alive).
    """
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 15.0,
    what: str = "the condition",
    *,
    every: float = EVERY,
    explain: Callable[[], str] | None = None,
) -> T:
    """Wait for `predicate()` to be truthy and return its value; fail after `timeout` seconds.

    `explain` adds what the test can see at that moment to the failure (a screen, a check's reason).
    """
    value = poll(predicate, bool, timeout, every)
    if not value:
        seen = f"; {explain()}" if explain else ""
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{seen}")
    return value


async def wait_until_async(
    pause: Callable[[float], Awaitable[object]],
    predicate: Callable[[], object],
    timeout: float = 20.0,
    what: str = "the condition",
    every: float = 0.05,
) -> None:
    """`wait_until` for code on an event loop: `pause` lets the loop run (a Textual pilot's)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pause(every)
