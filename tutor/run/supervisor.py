"""Background commands (a port-forward, a tunnel): started, watched, restarted, stopped.

Each background command has an id and its own daemon thread, which starts the
process, follows its output and decides what happens when it ends. Everything that
happens is an event passed to the `on_event` callback, always from that thread: the
events of one id arrive in order and never concurrently; different ids may call at the
same time.

Life of one background command:

    STARTING ─► RUNNING ─(a line matches `ready`)─► READY
        ▲          │                                  │
        │          └────────────(exits)───────────────┤
        │                                             ▼
    RESTARTING ◄──(under the cap)────────────── Exited event
                   (over the cap) ─► FAILED, with the reason and the last lines
    stop()   ─► STOPPED         (from any state; the whole group is ended)
    a prompt or "a terminal is required" ─► NEEDS_TERMINAL (stopped, not restarted:
                                 it would ask again; run it with interactive=True)

Any exit that `stop()` did not ask for is unexpected, whatever its status: a
port-forward whose pod was deleted ends with `error: lost connection to pod`, and is
restarted to pick another pod. Restarts back off (0.5 s, 1 s, 2 s, ... up to 8 s) and
are capped: more than `max_restarts` exits within `window` seconds and the command is
FAILED, so one that dies at once every time ("address already in use") ends within
seconds with that message as the reason, instead of looping forever. A run that lasted
`stable_after` seconds was healthy: it resets both the backoff and the count.

`interactive=True` (the tunnel's sudo password): the first run gets the learner's
terminal, its output is shown there as well, until its ready line appears; then the
terminal is taken back and the command carries on in the background. `start` blocks
until then, so a front end calls it with its screen suspended. Restarts never take
the terminal: if the restarted command asks again, it ends in NEEDS_TERMINAL.
"""

from __future__ import annotations

import enum
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tutor.run.cleanup import REGISTRY, GroupRegistry
from tutor.run.errors import RunError, ShuttingDown
from tutor.run.output import Line
from tutor.run.process import GRACE, ProcessRun, Result, StopReason, TerminalUse
from tutor.run.prompts import TerminalNeed
from tutor.run.terminal import Terminal

log = logging.getLogger(__name__)


class ProcessState(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    """Started; its ready line has not appeared yet."""
    READY = "ready"
    RESTARTING = "restarting"
    STOPPED = "stopped"
    FAILED = "failed"
    NEEDS_TERMINAL = "needs-terminal"

    @property
    def finished(self) -> bool:
        return self in (ProcessState.STOPPED, ProcessState.FAILED, ProcessState.NEEDS_TERMINAL)


@dataclass(frozen=True)
class RestartPolicy:
    max_restarts: int = 3
    """Restarts allowed within `window` seconds after short runs; one more and it has FAILED."""
    window: float = 60.0
    initial_delay: float = 0.5
    max_delay: float = 8.0
    factor: float = 2.0
    stable_after: float = 10.0
    """A run at least this long was healthy: it resets the backoff and the restart count."""

    def delay(self, consecutive: int) -> float:
        return min(self.max_delay, self.initial_delay * self.factor ** max(0, consecutive - 1))


# Events, one class per kind; all carry the background command's id.


@dataclass(frozen=True)
class Starting:
    id: str
    attempt: int
    """1 for the first start, 2 for the first restart, ..."""
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Output:
    id: str
    line: Line


@dataclass(frozen=True)
class Ready:
    id: str
    line: Line | None
    """The line that matched `ready`; None when there is no ready pattern."""
    after: float
    """Seconds from this start to readiness."""


@dataclass(frozen=True)
class Exited:
    """The process ended without being asked to; `result.tail` holds its last lines."""

    id: str
    result: Result


@dataclass(frozen=True)
class Restarting:
    id: str
    attempt: int
    """The attempt about to start."""
    delay: float
    """Seconds before it starts."""


@dataclass(frozen=True)
class Stopped:
    id: str
    result: Result | None
    """How the process ended, or None when none was running (between restarts)."""


@dataclass(frozen=True)
class Failed:
    id: str
    reason: str
    tail: tuple[str, ...] = ()


@dataclass(frozen=True)
class TerminalNeeded:
    """It asked for input (a password) that only the learner's terminal can give."""

    id: str
    need: TerminalNeed
    result: Result


BackgroundEvent = Starting | Output | Ready | Exited | Restarting | Stopped | Failed | TerminalNeeded
EventCallback = Callable[[BackgroundEvent], object]


@dataclass(frozen=True)
class ProcessInfo:
    """A snapshot of one background command, for `processes()`."""

    id: str
    argv: tuple[str, ...]
    state: ProcessState
    pid: int | None
    attempt: int
    reason: str | None = None
    """Why it FAILED or NEEDS_TERMINAL."""


@dataclass
class _Spec:
    id: str
    executable: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str | None
    ready: re.Pattern[str] | None
    on_event: EventCallback | None
    policy: RestartPolicy
    interactive: bool
    grace: float
    terminal: Terminal
    registry: GroupRegistry


@dataclass
class _Status:
    state: ProcessState = ProcessState.STARTING
    pid: int | None = None
    attempt: int = 0
    reason: str | None = None


class _Background:
    """One background command and the thread that looks after it."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._status = _Status()
        self._run: ProcessRun | None = None
        self._stop = threading.Event()
        self._ready_seen = False
        self.handed_back = threading.Event()
        """Set once the terminal is no longer lent (interactive starts wait on it)."""
        self.thread = threading.Thread(target=self._main, name=f"background {spec.id}", daemon=True)

    def info(self) -> ProcessInfo:
        with self._lock:
            status = self._status
            return ProcessInfo(
                self.spec.id,
                self.spec.argv,
                status.state,
                status.pid,
                status.attempt,
                status.reason,
            )

    @property
    def finished(self) -> bool:
        return self._status.state.finished

    def request_stop(self) -> None:
        self._stop.set()
        with self._lock:
            run = self._run
        if run is not None:
            run.request_stop(StopReason.STOPPED)

    def _set(self, state: ProcessState, reason: str | None = None) -> None:
        with self._lock:
            self._status.state = state
            self._status.reason = reason

    def _emit(self, event: BackgroundEvent) -> None:
        if self.spec.on_event is None:
            return
        try:
            self.spec.on_event(event)
        except Exception:
            # A faulty consumer must not leave a process unsupervised.
            log.exception("on_event callback failed for background command %s", self.spec.id)

    def _main(self) -> None:
        try:
            self._supervise()
        finally:
            self.handed_back.set()

    def _supervise(self) -> None:
        spec = self.spec
        consecutive = 0
        exits: deque[float] = deque()  # when the recent short runs ended: the cap counts them
        while True:
            if self._stop.is_set():
                self._stopped(None)
                return
            with self._lock:
                self._status.attempt += 1
                attempt = self._status.attempt
            self._set(ProcessState.STARTING)
            self._emit(Starting(spec.id, attempt, spec.argv))
            lend = spec.interactive and attempt == 1 and spec.terminal.controlling_fd() is not None
            run = self._start(lend)
            if run is None:
                return
            result = run.follow(self._line, grace=spec.grace)
            with self._lock:
                self._run = None
                self._status.pid = None
            self.handed_back.set()
            if self._stop.is_set():
                self._stopped(result)
                return
            if result.needs_terminal is not None:
                need = result.needs_terminal
                self._set(ProcessState.NEEDS_TERMINAL, need.explain())
                self._emit(TerminalNeeded(spec.id, need, result))
                return
            self._emit(Exited(spec.id, result))
            if lend and not self._ready_seen:
                self._fail(
                    f"exited before it was ready, while it had the terminal: {result.describe()}",
                    result,
                )
                return
            now = time.monotonic()
            if result.duration >= spec.policy.stable_after:
                # It ran well for a while (a port-forward whose pod was deleted): a
                # fresh start, not part of a crash loop.
                exits.clear()
                consecutive = 0
            exits.append(now)
            while exits and exits[0] < now - spec.policy.window:
                exits.popleft()
            consecutive += 1
            if len(exits) > spec.policy.max_restarts:
                self._fail(
                    f"exited {len(exits)} times within {spec.policy.window:.0f} s; last: {result.describe()}",
                    result,
                )
                return
            delay = spec.policy.delay(consecutive)
            self._set(ProcessState.RESTARTING)
            self._emit(Restarting(spec.id, attempt + 1, delay))
            if self._stop.wait(delay):
                self._stopped(None)
                return

    def _start(self, lend: bool) -> ProcessRun | None:
        spec = self.spec
        self._ready_seen = False
        try:
            run = ProcessRun(
                spec.executable,
                spec.argv,
                env=spec.env,
                cwd=spec.cwd,
                terminal_use=TerminalUse.UNTIL_READY if lend else TerminalUse.NONE,
                terminal=spec.terminal,
                registry=spec.registry,
                label=f"background {spec.id}",
            )
        except ShuttingDown:
            self._stopped(None)
            return None
        except RunError as exc:
            self._fail(str(exc), None)
            return None
        with self._lock:
            self._run = run
            self._status.pid = run.pid
        if self._stop.is_set():
            run.request_stop(StopReason.STOPPED)
        if not run.has_terminal:
            self.handed_back.set()
        if spec.ready is None:
            self._became_ready(run, None)
        else:
            self._set(ProcessState.RUNNING)
        return run

    def _line(self, line: Line) -> None:
        self._emit(Output(self.spec.id, line))
        ready = self.spec.ready
        if not self._ready_seen and ready is not None and ready.search(line.text):
            with self._lock:
                run = self._run
            if run is not None:
                self._became_ready(run, line)

    def _became_ready(self, run: ProcessRun, line: Line | None) -> None:
        self._ready_seen = True
        run.give_back_terminal()
        self.handed_back.set()
        self._set(ProcessState.READY)
        self._emit(Ready(self.spec.id, line, time.monotonic() - run.started))

    def _stopped(self, result: Result | None) -> None:
        self._set(ProcessState.STOPPED)
        self._emit(Stopped(self.spec.id, result))

    def _fail(self, reason: str, result: Result | None) -> None:
        tail = result.tail if result is not None else ()
        if tail:
            reason = f"{reason}: {tail[-1]}"
        self._set(ProcessState.FAILED, reason)
        self._emit(Failed(self.spec.id, reason, tail))


class Supervisor:
    """Runs any number of background commands, each under its own id. Thread-safe."""

    def __init__(
        self,
        *,
        registry: GroupRegistry = REGISTRY,
        terminal: Terminal | None = None,
        grace: float = GRACE,
        policy: RestartPolicy | None = None,
    ) -> None:
        self._registry = registry
        self._terminal = terminal or Terminal()
        self._grace = grace
        self._policy = policy or RestartPolicy()
        self._lock = threading.Lock()
        self._processes: dict[str, _Background] = {}

    def start(
        self,
        id: str,  # noqa: A002 (the lesson's word: a background command's id)
        executable: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | None = None,
        ready: str | re.Pattern[str] | None = None,
        on_event: EventCallback | None = None,
        policy: RestartPolicy | None = None,
        interactive: bool = False,
    ) -> None:
        """Start a background command; returns once it is started (interactive: once it
        no longer needs the terminal). ValueError if `id` is already in use."""
        pattern = re.compile(ready) if isinstance(ready, str) else ready
        spec = _Spec(
            id=id,
            executable=executable,
            argv=tuple(argv),
            env=env,
            cwd=cwd,
            ready=pattern,
            on_event=on_event,
            policy=policy or self._policy,
            interactive=interactive,
            grace=self._grace,
            terminal=self._terminal,
            registry=self._registry,
        )
        background = _Background(spec)
        with self._lock:
            current = self._processes.get(id)
            if current is not None and not current.finished:
                raise ValueError(f"a background command with id {id!r} is already running")
            self._processes[id] = background
        background.thread.start()
        if interactive:
            background.handed_back.wait()

    def stop(self, id: str, timeout: float | None = None) -> None:  # noqa: A002
        """Stop it (SIGTERM to its group, SIGKILL after the grace period) and wait until
        it is gone and its Stopped event delivered. No-op if it already ended. Called
        from its own on_event callback, it does not wait."""
        with self._lock:
            background = self._processes[id]
        background.request_stop()
        self._join(background, timeout)

    def stop_all(self, timeout: float | None = None) -> None:
        """Stop every background command, all at once, and wait for them."""
        with self._lock:
            everything = list(self._processes.values())
        for background in everything:
            background.request_stop()
        for background in everything:
            self._join(background, timeout)

    def processes(self) -> dict[str, ProcessInfo]:
        with self._lock:
            everything = list(self._processes.values())
        return {background.spec.id: background.info() for background in everything}

    def _join(self, background: _Background, timeout: float | None) -> None:
        if threading.current_thread() is background.thread:
            return
        background.thread.join(self._grace + 2.0 if timeout is None else timeout)
