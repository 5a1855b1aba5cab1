"""What the session uses to run commands: the `Executor` interface and its sh implementation.

Threading contract (the session calls all of this from worker threads):
- `run` blocks its calling thread until the command's whole process group is gone.
  `on_line` is called on that same thread, line by line, in order; it may be slow
  (the child just waits on a full pipe: nothing is lost) but should not block forever.
  Cancel from any other thread with the `Cancellation` passed in, or `close()`.
- `start_background` returns once the process is started (with `interactive=True`,
  once it no longer needs the terminal). Its events reach `on_event` on that command's
  own thread: in order for one id, possibly concurrently for different ids. A
  callback should hand the event over (post a message, enqueue) and return; an
  exception in it is logged and ignored.
- `stop`, `stop_all`, `processes`, `close` may be called from any thread; `stop` and
  `stop_all` return once the processes are gone.
- Callbacks must not call `run` on the thread that delivers them.

Environment: each executor has a base environment (overrides and a PATH prefix over
os.environ, plus the plain-output defaults); each call may add overrides on top.
Executables are looked up on the resulting PATH, so the sandbox's stand-ins on a PATH
prefix are found first. The run layer knows nothing more of the sandbox.

A `CommandPolicy`, when given, sees every command before it starts (foreground and
background; a background command's restarts run what it prepared): it may refuse it
(`CommandRefused`, nothing runs), change its argv, and set environment variables and a
PATH prefix that win over everything else. The session's policy is what keeps every command on the
session's one cluster; the run layer only applies it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tutor.run.cleanup import REGISTRY, GroupRegistry
from tutor.run.environment import child_environment
from tutor.run.errors import RunError, ToolCheck, locate, preflight, which
from tutor.run.process import (
    GRACE,
    Cancellation,
    LineCallback,
    ProcessRun,
    Result,
    StopReason,
    TerminalUse,
)
from tutor.run.supervisor import EventCallback, ProcessInfo, RestartPolicy, Supervisor
from tutor.run.terminal import Terminal

PathLike = str | os.PathLike[str]


class CommandRefused(RunError):
    """The command policy will not let this command run; the message says why."""


@dataclass(frozen=True)
class Prepared:
    """A command as it will run: its argv, and what its environment must hold."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    path_prefix: tuple[str, ...] = ()


class CommandPolicy(Protocol):
    def prepare(self, argv: tuple[str, ...]) -> Prepared:
        """The command to run instead of `argv`; raises CommandRefused to run nothing."""
        ...


class Executor(Protocol):
    """Runs commands as processes, for the session."""

    def run(
        self,
        argv: Sequence[str],
        on_line: LineCallback | None = None,
        *,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: PathLike | None = None,
        cancel: Cancellation | None = None,
        interactive: bool = False,
    ) -> Result:
        """Run one command to its end. Raises MissingExecutable (or RunError) before
        anything runs. `interactive=True` gives it the learner's terminal (front end
        suspended first): no output reaches `on_line` then."""
        ...

    def start_background(
        self,
        id: str,  # noqa: A002 (the lesson's word: a background command's id)
        argv: Sequence[str],
        ready: str | re.Pattern[str] | None = None,
        on_event: EventCallback | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: PathLike | None = None,
        interactive: bool = False,
        restart: RestartPolicy | None = None,
    ) -> None:
        """Start a supervised background command (see supervisor.py)."""
        ...

    def stop(self, id: str) -> None: ...  # noqa: A002

    def stop_all(self) -> None: ...

    def processes(self) -> dict[str, ProcessInfo]: ...

    def preflight(self, programs: Iterable[str]) -> list[ToolCheck]: ...

    def close(self) -> None:
        """Cancel running commands, stop background ones; no new command after this."""
        ...


class ShExecutor:
    """The Executor: real processes started with sh, each in its own process group."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        path_prefix: Sequence[PathLike] = (),
        cwd: PathLike | None = None,
        grace: float = GRACE,
        restart: RestartPolicy | None = None,
        terminal: Terminal | None = None,
        registry: GroupRegistry = REGISTRY,
        policy: CommandPolicy | None = None,
    ) -> None:
        self._env = dict(env or {})
        self.policy = policy
        self._path_prefix = tuple(path_prefix)
        self._cwd = None if cwd is None else os.fspath(cwd)
        self._grace = grace
        self._terminal = terminal or Terminal()
        self._registry = registry
        self._supervisor = Supervisor(registry=registry, terminal=self._terminal, grace=grace, policy=restart)
        self._lock = threading.Lock()
        self._running: set[ProcessRun] = set()
        self._closed = False

    def environment(self, overrides: Mapping[str, str] | None = None, *, plain: bool = True) -> dict[str, str]:
        """The full environment a command run with these overrides gets."""
        merged = {**self._env, **(overrides or {})}
        return child_environment(merged, path_prefix=self._path_prefix, plain=plain)

    def which(self, program: str) -> str | None:
        """Where `program` resolves with this executor's PATH (sandbox stand-ins included)."""
        return which(program, self.environment())

    def preflight(self, programs: Iterable[str]) -> list[ToolCheck]:
        return preflight(programs, self.environment())

    def run(
        self,
        argv: Sequence[str],
        on_line: LineCallback | None = None,
        *,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: PathLike | None = None,
        cancel: Cancellation | None = None,
        interactive: bool = False,
    ) -> Result:
        argv, full_env, workdir, executable = self._prepare(tuple(argv), env, cwd, plain=not interactive)
        if self._closed:
            raise RunError("the executor is closed")
        if cancel is not None and cancel.cancelled:
            return Result(argv=argv, exit_code=None, cancelled=True)
        process = ProcessRun(
            executable,
            argv,
            env=full_env,
            cwd=workdir,
            terminal_use=TerminalUse.FOREGROUND if interactive else TerminalUse.NONE,
            terminal=self._terminal,
            registry=self._registry,
        )
        if not self._track(process):
            process.request_stop(StopReason.CANCELLED)
        unsubscribe = None
        if cancel is not None:
            unsubscribe = cancel.subscribe(lambda: process.request_stop(StopReason.CANCELLED))
        try:
            return process.follow(on_line, timeout=timeout, grace=self._grace)
        finally:
            if unsubscribe is not None:
                unsubscribe()
            with self._lock:
                self._running.discard(process)

    def start_background(
        self,
        id: str,  # noqa: A002 (the lesson's word: a background command's id)
        argv: Sequence[str],
        ready: str | re.Pattern[str] | None = None,
        on_event: EventCallback | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: PathLike | None = None,
        interactive: bool = False,
        restart: RestartPolicy | None = None,
    ) -> None:
        argv, full_env, workdir, executable = self._prepare(tuple(argv), env, cwd, plain=True)
        if self._closed:
            raise RunError("the executor is closed")
        self._supervisor.start(
            id,
            executable,
            argv,
            env=full_env,
            cwd=workdir,
            ready=ready,
            on_event=on_event,
            policy=restart,
            interactive=interactive,
        )

    def stop(self, id: str) -> None:  # noqa: A002
        self._supervisor.stop(id)

    def stop_all(self) -> None:
        self._supervisor.stop_all()

    def processes(self) -> dict[str, ProcessInfo]:
        return self._supervisor.processes()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            running = list(self._running)
        for process in running:
            process.request_stop(StopReason.CANCELLED)
        self._supervisor.stop_all()

    def _track(self, process: ProcessRun) -> bool:
        """Remember a running command so `close` can cancel it; False if closed meanwhile."""
        with self._lock:
            self._running.add(process)
            return not self._closed

    def _prepare(
        self,
        argv: tuple[str, ...],
        env: Mapping[str, str] | None,
        cwd: PathLike | None,
        *,
        plain: bool,
    ) -> tuple[tuple[str, ...], dict[str, str], str | None, str]:
        if not argv:
            raise ValueError("empty command")
        workdir = self._cwd if cwd is None else os.fspath(cwd)
        if workdir is not None and not os.path.isdir(workdir):
            raise RunError(f"{argv[0]}: working directory {workdir} does not exist")
        full_env = self.environment(env, plain=plain)
        if self.policy is not None:
            prepared = self.policy.prepare(argv)
            argv = prepared.argv
            full_env.update(prepared.env)
            if prepared.path_prefix:
                prefix = os.pathsep.join(prepared.path_prefix)
                full_env["PATH"] = f"{prefix}{os.pathsep}{full_env['PATH']}" if full_env.get("PATH") else prefix
        return argv, full_env, workdir, locate(argv[0], full_env, workdir)
