"""Session events to the app thread: one ordered queue and coalesced wake-ups.

The session emits events on whichever thread produced them (a command's output
reader, the check engine, a worker). The screen must see them in order, on its own
thread, and cheaply: a `kubectl` that prints 20,000 lines must not cost 20,000
round trips. So the listener only appends to a list and, when the list was empty,
asks for one wake-up; the screen takes everything queued at once. Under load the
batches grow by themselves; when idle an event is handled at once.

No Textual import here: the wake-up is any callable (the screen's `post_message`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.session.events import Event


class EventBridge:
    def __init__(self, wake: Callable[[], object]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._wake_pending = False
        self._closed = False

    def __call__(self, event: Event) -> None:
        """The session's listener: any thread, never blocks."""
        with self._lock:
            if self._closed:
                return
            self._events.append(event)
            if self._wake_pending:
                return
            self._wake_pending = True
        # RuntimeError: the app's event loop is already closed; nobody is left to show it.
        with contextlib.suppress(RuntimeError):
            self._wake()

    def take(self) -> list[Event]:
        """Everything queued since the last call, oldest first; the next event wakes again."""
        with self._lock:
            events, self._events = self._events, []
            self._wake_pending = False
        return events

    def close(self) -> None:
        """Drop events from now on (the view is going away)."""
        with self._lock:
            self._closed = True
            self._events = []
