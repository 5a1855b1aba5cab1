"""Lending the learner's terminal to a command, the way a shell runs a foreground job.

A command that must ask the learner something (sudo's password) needs the real
terminal: it stays in the tutor's session (so it can open /dev/tty) but in its own
process group (so it can still be ended as a whole), and that group becomes the
terminal's *foreground* group for the time of the loan:
- its reads from the terminal work (a background group would be stopped by SIGTTIN);
- Ctrl+C at the terminal interrupts it, not the tutor.
When the loan ends the tutor's group takes the foreground back and the terminal's
modes are restored (a command killed while sudo had echo turned off would otherwise
leave the terminal mute).

As in a shell, both sides hand the foreground over: the child in its pre-exec hook, so
it owns the terminal before its first read or its first Ctrl+C (the learner may type
as soon as the prompt shows), and the parent after the fork, in case the hook could
not. The modes are saved before the fork, before the child can change them.

`tcsetpgrp` from a process that is not in the foreground raises SIGTTOU, which stops
the process; the calls below block SIGTTOU in the calling thread around them, which
POSIX specifies makes the call proceed. Any thread may lend and take back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import termios
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@contextlib.contextmanager
def _sigttou_blocked() -> Iterator[None]:
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@dataclass(frozen=True)
class Terminal:
    """The file descriptors a foreground command gets: by default the tutor's own."""

    stdin: int = 0
    stdout: int = 1
    stderr: int = 2

    def controlling_fd(self) -> int | None:
        """A descriptor of our controlling terminal, if we have one and hold its foreground."""
        for fd in (self.stdin, self.stdout, self.stderr):
            try:
                if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
                    return fd
            except OSError:
                continue
        return None

    def loan(self) -> TerminalLoan:
        """Prepare to lend the terminal (before the fork); a no-op loan without one."""
        fd = self.controlling_fd()
        modes: list[Any] | None = None
        if fd is not None:
            with contextlib.suppress(termios.error):
                modes = termios.tcgetattr(fd)
        return TerminalLoan(fd, modes)

    def write(self, data: bytes) -> None:
        """Show a command's output on the terminal (used while it is lent)."""
        with _sigttou_blocked(), contextlib.suppress(OSError):
            os.write(self.stdout, data)


class TerminalLoan:
    """The terminal's foreground, lent to one process group; `give_back` is idempotent."""

    def __init__(self, fd: int | None, modes: list[Any] | None) -> None:
        self._fd = fd
        self._modes = modes

    @property
    def active(self) -> bool:
        return self._fd is not None

    def take_in_child(self) -> None:
        """Pre-exec hook: make the child's new process group the foreground one."""
        if self._fd is None:
            return
        with _sigttou_blocked(), contextlib.suppress(OSError):
            # The child's own view of the controlling terminal: its fd 0 may be /dev/null.
            tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
            try:
                os.tcsetpgrp(tty, os.getpgrp())
            finally:
                os.close(tty)

    def lend(self, pgid: int) -> None:
        """After the fork: make sure `pgid` has the foreground, and that it runs."""
        if self._fd is None:
            return
        # It may already have exited (the learner typed fast): then this fails, and the
        # loan stays active all the same, since the child's hook has taken the terminal.
        with _sigttou_blocked(), contextlib.suppress(OSError):
            os.tcsetpgrp(self._fd, pgid)
        # Had it read the terminal before it was its turn, SIGTTIN stopped it.
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGCONT)

    def give_back(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with _sigttou_blocked():
            with contextlib.suppress(OSError):
                os.tcsetpgrp(fd, os.getpgrp())
            if self._modes is not None:
                with contextlib.suppress(termios.error):
                    termios.tcsetattr(fd, termios.TCSADRAIN, self._modes)
