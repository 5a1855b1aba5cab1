"""One command as a child process: started with sh, followed to its end, never left behind.

Starting (sh 2.4): `sh.Command(path)(*args, _bg=True, ...)` forks and execs the argv
directly (no shell), with `_new_session=True`: the child leads a new session and a
new process group, with no controlling terminal. So the whole tree can be signalled
with one `killpg`, and a sudo inside it fails at once ("a terminal is required")
instead of stealing the learner's screen. stdin is /dev/null: a command that waits for
input that can never come would hang. A command run with the terminal (`TerminalUse`)
instead gets a new group in the tutor's session (see terminal.py).

Reading: stdout and stderr share one pipe that this module owns and reads itself,
rather than through sh's `_out` callbacks. Measured with sh 2.4: its line mode holds
back an unfinished line (a prompt) until a newline that never comes, its unbuffered
mode reads one byte per system call, it stops reading 2 s after the process exits
(a slow consumer loses the tail), and it hands a callback `bytes` instead of `str`
when a chunk is not valid UTF-8. A single shared pipe also keeps stdout and stderr in
the order the child wrote them, as the learner's terminal would show them.

Following happens on the calling thread (`ProcessRun.follow`): one `select` loop over
the output pipe and a wake-up pipe, so a stop request, the process's exit (seen by a
small waiter thread) or a deadline is acted on at once, with no polling while idle.
Output callbacks therefore run on the thread that called `follow`, and may take their
time: the pipe just fills and the child waits, nothing is dropped.

Ending: SIGTERM to the group, then SIGKILL after a grace period, for a cancel, a
timeout, a prompt that cannot be answered, or an exception in the caller. When the
leader exits by itself, what it left in its group (a background job still holding
the pipe, say) is ended too: a command's group does not outlive the command.
"""

from __future__ import annotations

import contextlib
import enum
import os
import selectors
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sh

from tutor.run.cleanup import REGISTRY, GroupRegistry
from tutor.run.errors import RunError, ShuttingDown
from tutor.run.groups import group_alive, signal_group, terminate_groups
from tutor.run.output import Line, LineDecoder
from tutor.run.prompts import TerminalNeed, terminal_refusal, waiting_prompt
from tutor.run.terminal import Terminal, TerminalLoan

GRACE = 3.0
"""Seconds between SIGTERM and SIGKILL when a command is stopped."""
PROMPT_QUIET = 0.25
"""Seconds an unfinished line must stay unchanged before it is read as a prompt."""
LINGER = 0.5
"""Seconds to keep reading after the command exits while something else holds its output."""
TAIL_LINES = 20
"""Last lines kept for the result (what a learner reads when a command fails)."""
READ_SIZE = 65_536

LineCallback = Callable[[Line], object]
"""Receives each output line; its return value is ignored."""


class StopReason(enum.Enum):
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"
    NEEDS_TERMINAL = "needs a terminal"
    STOPPED = "stopped"
    ABANDONED = "abandoned by its caller"


class TerminalUse(enum.Enum):
    NONE = "none"
    """Own session, no terminal; output read through a pipe. The default."""
    FOREGROUND = "foreground"
    """Own group in the tutor's session, stdin/stdout/stderr are the terminal, and the
    terminal's foreground is lent for the whole run. No output reaches the tutor."""
    UNTIL_READY = "until-ready"
    """Own group in the tutor's session; output read through a pipe *and* shown on the
    terminal, whose foreground is lent until `give_back_terminal()` (a background
    command that asks for a password once, then runs)."""


class Cancellation:
    """A cancel button for a `run`: `cancel()` from any thread stops it at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._subscribers: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` on cancel (now, if already cancelled); returns an unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)
            already = self._cancelled
        if already:
            callback()

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe


@dataclass(frozen=True)
class Result:
    """How a command ended."""

    argv: tuple[str, ...]
    exit_code: int | None
    """The exit status, or None when a signal ended the command (or it never started)."""
    signal: int | None = None
    """The signal that ended it, if one did."""
    duration: float = 0.0
    """Seconds from start to exit."""
    timed_out: bool = False
    cancelled: bool = False
    needs_terminal: TerminalNeed | None = None
    """The command asked for input it could not get here (see prompts.py)."""
    tail: tuple[str, ...] = ()
    """Its last lines of output."""
    pid: int | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (self.timed_out or self.cancelled)

    def describe(self) -> str:
        """One line for the learner: "exit status 1", "timed out after 30 s (SIGTERM)"."""
        if self.pid is None:
            return "cancelled before it started" if self.cancelled else "did not start"
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = f"signal {self.signal}"
            ended = f"killed by {name}"
        else:
            ended = f"exit status {self.exit_code}"
        if self.needs_terminal is not None:
            return f"{self.needs_terminal.explain()} ({ended})"
        if self.timed_out:
            return f"timed out after {self.duration:.1f} s ({ended})"
        if self.cancelled:
            return f"cancelled ({ended})"
        return ended


class ProcessRun:
    """A started child process and the means to follow it to its end.

    Constructing it starts the process (or raises RunError, with nothing running).
    `follow()` must then be called exactly once, on one thread; `request_stop()` may be
    called from any thread.
    """

    def __init__(
        self,
        executable: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | None = None,
        terminal_use: TerminalUse = TerminalUse.NONE,
        terminal: Terminal | None = None,
        registry: GroupRegistry = REGISTRY,
        label: str | None = None,
    ) -> None:
        self.argv = tuple(argv)
        self.terminal_use = terminal_use
        self._terminal = terminal or Terminal()
        self._registry = registry
        self._lock = threading.Lock()
        self._reason: StopReason | None = None
        self._need: TerminalNeed | None = None
        self._exit_code: int | None = None
        self._ended_at: float | None = None
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._loan: TerminalLoan | None = None
        if terminal_use is not TerminalUse.NONE:
            self._loan = self._terminal.loan()
        self._wake_r, self._wake_w = os.pipe()
        self._out_r: int | None = None
        try:
            self._rc = self._spawn(executable, env, cwd, label or " ".join(self.argv))
        except BaseException:
            self._close(self._wake_r, self._wake_w, self._out_r)
            raise
        self.pid: int = self._rc.pid
        self.pgid: int = self._rc.pgid
        self.started = time.monotonic()
        if self._loan is not None:
            self._loan.lend(self.pgid)
        self._waiter = threading.Thread(target=self._await_exit, name=f"wait for pid {self.pid}", daemon=True)
        self._waiter.start()

    def _spawn(self, executable: str, env: Mapping[str, str], cwd: str | None, label: str) -> Any:
        options: dict[str, Any] = {
            "_bg": True,
            "_bg_exc": False,
            "_return_cmd": True,
            "_env": dict(env),
            "_cwd": cwd,
            "_no_out": True,
            "_no_err": True,
            "_encoding": "utf-8",
        }
        if self._loan is not None and self._loan.active:
            options["_preexec_fn"] = self._loan.take_in_child
        devnull: int | None = None
        out_w: int | None = None
        with self._registry.spawning():
            try:
                if self.terminal_use is TerminalUse.FOREGROUND:
                    term = self._terminal
                    options.update(_new_group=True, _in=term.stdin, _out=term.stdout, _err=term.stderr)
                else:
                    devnull = os.open(os.devnull, os.O_RDONLY)
                    self._out_r, out_w = os.pipe()
                    options.update(_in=devnull, _out=out_w, _err_to_out=True)
                    if self.terminal_use is TerminalUse.UNTIL_READY:
                        options["_new_group"] = True
                    else:
                        options["_new_session"] = True
                rc = sh.Command(executable)(*self.argv[1:], **options)
            except sh.ForkException as exc:
                raise RunError(f"{self.argv[0]}: could not start: {_last_line(exc)}") from None
            except sh.CommandNotFound:
                raise RunError(f"{self.argv[0]}: {executable} is not executable") from None
            finally:
                self._close(devnull, out_w)
            if not self._registry.register(rc.pgid, label):
                signal_group(rc.pgid, signal.SIGKILL)
                with contextlib.suppress(sh.ErrorReturnCode):
                    rc.wait()
                raise ShuttingDown()
        return rc

    def _await_exit(self) -> None:
        try:
            self._rc.wait()
            code = self._rc.process.exit_code or 0
        except sh.ErrorReturnCode as exc:
            code = exc.exit_code
        with self._lock:
            self._ended_at = time.monotonic()
            self._exit_code = code
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b".")

    @property
    def running(self) -> bool:
        return self._exit_code is None

    def request_stop(self, reason: StopReason) -> None:
        """Ask `follow` to end the process group (TERM, then KILL). Any thread."""
        with self._lock:
            if self._reason is None and self._exit_code is None:
                self._reason = reason
        self._wake()

    def give_back_terminal(self) -> None:
        """End the terminal loan of an UNTIL_READY process; it keeps running."""
        if self._loan is not None:
            self._loan.give_back()

    @property
    def has_terminal(self) -> bool:
        return self._loan is not None and self._loan.active

    def follow(
        self,
        on_line: LineCallback | None = None,
        *,
        timeout: float | None = None,
        grace: float = GRACE,
    ) -> Result:
        """Read output and wait for the end; returns once the whole group is gone.

        `on_line` runs on this thread for each line. A terminal need (a prompt, or
        "a terminal is required") ends the process, which cannot get its answer where
        it runs; the result says so. An exception from `on_line` ends the process group
        before it propagates.
        """
        deliver = _Delivery(self, on_line)
        try:
            self._pump(deliver, timeout, grace)
        except BaseException:
            self.request_stop(StopReason.ABANDONED)
            raise
        finally:
            self._finish(grace)
        return self._result()

    def _pump(self, deliver: _Delivery, timeout: float | None, grace: float) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ)
        reading = self._out_r is not None
        if self._out_r is not None:
            selector.register(self._out_r, selectors.EVENT_READ)
        decoder = LineDecoder()
        deadline = None if timeout is None else self.started + timeout
        ending = _Ending(self.pgid, grace)
        linger_until: float | None = None
        last_output = time.monotonic()
        prompt_checked = True
        try:
            while self._exit_code is None or reading:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    self.request_stop(StopReason.TIMED_OUT)
                    deadline = None
                if self._exit_code is not None and linger_until is None:
                    linger_until = now + LINGER
                # End the group when a stop was requested, or when the command exited
                # while others of its group still hold the output pipe (a background
                # job): the pipe closes once they are gone.
                lingering = linger_until is not None and now >= linger_until
                done_waiting = ending.advance(now, self._reason is not None or lingering)
                if done_waiting and self._exit_code is not None:
                    # SIGKILL sent, and the pipe still open: only a process that left
                    # the group (made its own session) holds it. Stop waiting for it.
                    break
                waits = [t - now for t in (deadline, ending.next_at) if t is not None]
                if ending.terminating and self._exit_code is not None:
                    # The leader is gone; once the rest of the group is too, there is
                    # no point waiting out the grace period before the final read.
                    if group_alive(self.pgid):
                        waits.append(0.05)
                    else:
                        ending.group_gone(now)
                if linger_until is not None and not ending.started:
                    waits.append(linger_until - now)
                if not prompt_checked and decoder.pending:
                    waits.append(last_output + PROMPT_QUIET - now)
                for key, _ in selector.select(max(0.0, min(waits)) if waits else None):
                    if key.fd == self._wake_r:
                        os.read(self._wake_r, 512)
                        continue
                    chunk = os.read(key.fd, READ_SIZE)
                    if chunk:
                        if self.has_terminal:
                            self._terminal.write(chunk)
                        last_output = time.monotonic()
                        prompt_checked = False
                        deliver.lines(decoder.feed(chunk))
                        continue
                    selector.unregister(key.fd)
                    reading = False
                    if not prompt_checked:
                        prompt_checked = True
                        deliver.unfinished(decoder.pending)
                    deliver.lines(decoder.flush())
                quiet = time.monotonic() - last_output >= PROMPT_QUIET
                if reading and not prompt_checked and decoder.pending and quiet:
                    prompt_checked = True
                    deliver.unfinished(decoder.pending)
        finally:
            selector.close()

    def _finish(self, grace: float) -> None:
        if self.running or group_alive(self.pgid):
            # An exception, or members left that do not hold the output pipe.
            terminate_groups([self.pgid], grace)
        self._waiter.join(grace + 1.0)
        self.give_back_terminal()
        self._registry.release(self.pgid)
        self._close(self._wake_r, self._wake_w, self._out_r)
        self._out_r = None

    def _result(self) -> Result:
        code = self._exit_code
        ended = self._ended_at or time.monotonic()
        return Result(
            argv=self.argv,
            exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else None,
            duration=ended - self.started,
            timed_out=self._reason is StopReason.TIMED_OUT,
            cancelled=self._reason in (StopReason.CANCELLED, StopReason.STOPPED),
            needs_terminal=self._need,
            tail=tuple(self._tail),
            pid=self.pid,
        )

    def _noted(self, lines: list[Line]) -> None:
        self._tail.extend([line.text for line in lines[-TAIL_LINES:] if not line.progress])

    def _needs(self, need: TerminalNeed) -> bool:
        """Record the first need; True if it is new."""
        with self._lock:
            if self._need is not None:
                return False
            self._need = need
            return True

    @staticmethod
    def _close(*fds: int | None) -> None:
        for fd in fds:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)


class _Delivery:
    """Hands lines to the caller and watches them for terminal needs."""

    def __init__(self, run: ProcessRun, on_line: LineCallback | None) -> None:
        self._run = run
        self._on_line = on_line

    def lines(self, lines: list[Line]) -> None:
        self._run._noted(lines)
        on_line = self._on_line
        for line in lines:
            if not line.progress:
                need = terminal_refusal(line.text)
                if need is not None:
                    self._report(need)
            if on_line is not None:
                on_line(line)

    def unfinished(self, text: str) -> None:
        need = waiting_prompt(text)
        if need is not None:
            self._report(need)

    def _report(self, need: TerminalNeed) -> None:
        # While the learner has the terminal, the prompt is theirs to answer.
        if not self._run.has_terminal and self._run._needs(need):
            self._run.request_stop(StopReason.NEEDS_TERMINAL)


class _Ending:
    """SIGTERM to the group, SIGKILL after the grace period, then a last moment to read."""

    def __init__(self, pgid: int, grace: float) -> None:
        self._pgid = pgid
        self._grace = grace
        self._stage = 0
        self.next_at: float | None = None

    @property
    def started(self) -> bool:
        return self._stage > 0

    @property
    def terminating(self) -> bool:
        """SIGTERM sent, SIGKILL not yet."""
        return self._stage == 1

    def group_gone(self, now: float) -> None:
        """Nothing left to kill: go straight to the last moment to read."""
        self._stage = 2
        self.next_at = now + LINGER

    def advance(self, now: float, wanted: bool) -> bool:
        """Move on when due; True once SIGKILL was sent and the last moment has passed."""
        if self._stage == 0 and wanted:
            self._stage = 1
            signal_group(self._pgid, signal.SIGTERM)
            # A stopped member (SIGTTIN, Ctrl+Z) acts on SIGTERM only once continued.
            signal_group(self._pgid, signal.SIGCONT)
            self.next_at = now + self._grace
        elif self.next_at is not None and now >= self.next_at:
            if self._stage == 1:
                self._stage = 2
                signal_group(self._pgid, signal.SIGKILL)
                self.next_at = now + LINGER
            else:
                self.next_at = None
                return True
        return self._stage == 2 and self.next_at is None


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
