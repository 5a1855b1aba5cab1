"""No orphans: every process group the tutor starts is registered until it is gone, and
the tutor ends them all when it exits, however it exits.

- `REGISTRY` (one per program) holds the live groups. Spawning goes through
  `REGISTRY.spawning()`, so a child started while the tutor shuts down is ended at
  once instead of slipping past the cleanup.
- `cleanup_processes()` terminates every registered group (SIGTERM, then SIGKILL after
  a grace period) and refuses new ones from then on. Idempotent, any thread.
- `install_exit_handlers()` is what the CLI calls at start-up: the cleanup runs at
  normal exit (before non-daemon threads are joined, so a worker blocked on a child
  cannot keep the program alive), on an unhandled exception, and on SIGINT, SIGTERM
  and SIGHUP, after which the program dies of that same signal, the conventional
  status a shell expects (130, 143, 129).
- SIGKILL cannot be caught: only a process outside the tutor can clean up after it.
  `install_exit_handlers(watchdog=True)` starts one (tutor/run/watchdog.py).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

from tutor.run.errors import ShuttingDown
from tutor.run.groups import terminate_groups

log = logging.getLogger(__name__)

EXIT_GRACE = 2.0
"""Seconds the children get to exit on SIGTERM when the tutor exits."""

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class GroupListener(Protocol):
    """Told about every group registered and released (the watchdog is one)."""

    def added(self, pgid: int) -> None: ...

    def removed(self, pgid: int) -> None: ...


@dataclass(frozen=True)
class GroupInfo:
    pgid: int
    label: str
    since: float


class GroupRegistry:
    """The process groups this program has started and not yet seen end. Thread-safe."""

    def __init__(self) -> None:
        # Re-entrant: a signal handler may run cleanup on a thread that holds the lock.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._groups: dict[int, GroupInfo] = {}
        self._closed = False
        self._spawning = 0
        self._local = threading.local()
        self._listeners: list[GroupListener] = []

    @property
    def closed(self) -> bool:
        return self._closed

    def groups(self) -> list[GroupInfo]:
        with self._lock:
            return list(self._groups.values())

    def add_listener(self, listener: GroupListener) -> None:
        with self._lock:
            self._listeners.append(listener)
            for pgid in self._groups:
                listener.added(pgid)

    @contextlib.contextmanager
    def spawning(self) -> Iterator[None]:
        """Bracket fork-to-register; raises ShuttingDown once cleanup has begun."""
        with self._lock:
            if self._closed:
                raise ShuttingDown()
            self._spawning += 1
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1
            with self._lock:
                self._spawning -= 1
                self._changed.notify_all()
            if self._local.depth == 0:
                _run_deferred_signal()

    def in_spawn(self) -> bool:
        """Whether the calling thread is between fork and register."""
        return getattr(self._local, "depth", 0) > 0

    def register(self, pgid: int, label: str) -> bool:
        """Track a new group; False (and the caller must end it) when shutting down."""
        with self._lock:
            if self._closed:
                return False
            self._groups[pgid] = GroupInfo(pgid, label, time.monotonic())
            for listener in self._listeners:
                listener.added(pgid)
            return True

    def release(self, pgid: int) -> None:
        """The group has ended: stop tracking it."""
        with self._lock:
            if self._groups.pop(pgid, None) is not None:
                for listener in self._listeners:
                    listener.removed(pgid)

    def terminate_all(self, grace: float = EXIT_GRACE) -> set[int]:
        """Refuse new groups, then end every registered one. Idempotent; any thread."""
        with self._lock:
            self._closed = True
            # Let other threads' spawns in flight register, so they are ended too;
            # the calling thread's own (a signal handler's) cannot finish meanwhile.
            mine = getattr(self._local, "depth", 0)
            deadline = time.monotonic() + 1.0
            while self._spawning > mine and time.monotonic() < deadline:
                self._changed.wait(0.05)
            pgids = list(self._groups)
        if not pgids:
            return set()
        log.debug("terminating %d process group(s): %s", len(pgids), pgids)
        survivors = terminate_groups(pgids, grace)
        with self._lock:
            for pgid in pgids:
                if pgid not in survivors:
                    self.release(pgid)
        if survivors:
            log.warning("process groups that could not be ended: %s", sorted(survivors))
        return survivors


REGISTRY = GroupRegistry()
"""The program's one registry: every executor registers its children here."""


def cleanup_processes(grace: float = EXIT_GRACE) -> None:
    """End every process the tutor started; no new ones start after this. Idempotent."""
    REGISTRY.terminate_all(grace)


_install_lock = threading.Lock()
_installed: set[str] = set()
_deferred: list[int] = []
_after_signal: Callable[[int], object] | None = None
_previous_handlers: dict[int, object] = {}


def install_exit_handlers(
    *,
    signals: tuple[int, ...] = EXIT_SIGNALS,
    grace: float = EXIT_GRACE,
    then: Callable[[int], object] | None = None,
    watchdog: bool = False,
) -> frozenset[int]:
    """Make sure no child outlives the tutor. Call once at start-up; idempotent.

    - atexit and the threading shutdown hook run `cleanup_processes`;
    - on each of `signals`: cleanup, then `then(signum)` if given (the CLI may want to
      quit its UI gracefully; the registry is closed by then, so nothing new runs),
      else die of that signal (conventional exit status);
    - `watchdog=True` also starts the out-of-process guard for SIGKILL.

    Signal handlers can only be installed from the main thread (a Python rule); from
    another thread only the exit hooks are installed. Returns the signals handled.
    """
    global _after_signal
    with _install_lock:
        if "exit" not in _installed:
            _installed.add("exit")
            atexit.register(cleanup_processes, grace)
            # Runs before non-daemon threads are joined; atexit runs after, too late
            # if a worker thread is blocked waiting on a child.
            register_before_join = getattr(threading, "_register_atexit", None)
            if register_before_join is not None:
                register_before_join(cleanup_processes, grace)
        if watchdog and "watchdog" not in _installed:
            _installed.add("watchdog")
            _start_watchdog(grace)
        if then is not None:
            _after_signal = then
        if threading.current_thread() is not threading.main_thread():
            log.warning("exit signal handlers not installed: not on the main thread")
            return frozenset(sig for sig in _previous_handlers)
        for sig in signals:
            if sig not in _previous_handlers:
                _previous_handlers[sig] = signal.getsignal(sig)
            signal.signal(sig, _make_handler(grace))
        return frozenset(_previous_handlers)


def _start_watchdog(grace: float) -> None:
    from tutor.run.watchdog import Watchdog

    try:
        REGISTRY.add_listener(Watchdog.start(grace=grace))
    except OSError as exc:
        # Only SIGKILL goes uncovered without it; not a reason to refuse to start.
        log.warning("the watchdog process could not start: %s", exc)


def _make_handler(grace: float) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        if REGISTRY.in_spawn():
            # This thread was interrupted between fork and register: the new child is
            # not yet known. Finish the spawn first; `spawning()` comes back here.
            _deferred.append(signum)
            return
        _exit_on_signal(signum, grace)

    return handle


def _run_deferred_signal() -> None:
    if _deferred:
        signum = _deferred.pop()
        _deferred.clear()
        _exit_on_signal(signum, EXIT_GRACE)


def _exit_on_signal(signum: int, grace: float) -> None:
    cleanup_processes(grace)
    if _after_signal is not None:
        _after_signal(signum)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
