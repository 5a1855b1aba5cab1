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

    def lend(self, pgid: int) -> TerminalLoan:
        """Make `pgid` the foreground group; a no-op loan when there is no terminal to lend."""
        fd = self.controlling_fd()
        if fd is None:
            return TerminalLoan(None, pgid, None)
        try:
            modes: list[Any] | None = termios.tcgetattr(fd)
        except termios.error:
            modes = None
        try:
            with _sigttou_blocked():
                os.tcsetpgrp(fd, pgid)
        except OSError:
            return TerminalLoan(None, pgid, None)
        # If the child read the terminal before it was its turn, SIGTTIN stopped it.
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGCONT)
        return TerminalLoan(fd, pgid, modes)

    def write(self, data: bytes) -> None:
        """Show a command's output on the terminal (used while it is lent)."""
        with _sigttou_blocked(), contextlib.suppress(OSError):
            os.write(self.stdout, data)


class TerminalLoan:
    """The terminal lent to a process group; `give_back` is idempotent."""

    def __init__(self, fd: int | None, pgid: int, modes: list[Any] | None) -> None:
        self._fd = fd
        self.pgid = pgid
        self._modes = modes

    @property
    def active(self) -> bool:
        return self._fd is not None

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
