"""The sandbox's clock: wall time for a learner, a clock a test moves by hand.

Everything in the simulated cluster that depends on time reads one clock: timestamps,
the kubelet's back-offs, probe periods, a pod's grace period, Jobs' deadlines, CronJob
schedules, and the controllers' timers. A learner's sandbox runs on wall time
(``time.time``). A test passes a :class:`ManualClock` and moves it instead of sleeping::

    clock = ManualClock()
    with Sandbox(clock=clock) as sb:
        ...                      # a container crashes; its back-off is 10 s
        clock.advance(10)        # the timers that fall due run now
        sb.wait_idle()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
"""Seconds since the epoch, as ``time.time`` gives them."""


class ManualClock:
    """A clock that stands still until :meth:`advance` moves it.

    Callable like ``time.time``. Listeners (the controllers' timer wheel) hear every move,
    on the thread that moved it, so that what fell due runs before the test goes on.
    """

    def __init__(self, start: float | None = None) -> None:
        # Whole seconds: the API's timestamps have second precision, so a test reading
        # them back sees exactly the instants it moved the clock to.
        self._now = float(int(time.time() if start is None else start))
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never back) and tell the listeners."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._now += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after every :meth:`advance`; returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
