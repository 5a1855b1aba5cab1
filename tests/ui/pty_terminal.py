"""A learner's terminal for the TUI's tests: `python -m tutor` on a pseudo-terminal of its own."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable
from pathlib import Path

from tests.polling import wait_until

ALTERNATE_SCREEN = b"\x1b[?1049h"


class Terminal:
    """A child process on its own pseudo-terminal (120x40), its screen output collected."""

    def __init__(
        self, args: list[str], cwd: Path, *, close_stdin: bool = False, env: dict[str, str] | None = None
    ) -> None:
        """`close_stdin`: the tutor starts with no standard input at all (`<&-`); `env`: added to the environment."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))

        def controlling_terminal() -> None:
            # As a terminal emulator does: a session of its own, the pty as its terminal.
            os.setsid()
            fcntl.ioctl(1, termios.TIOCSCTTY, 0)
            if close_stdin:
                os.close(0)

        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            preexec_fn=controlling_terminal,  # the child needs the pty as its terminal
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output.extend(data)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def pressed(self, keys: str) -> bool:
        """Type `keys`; False, so that `condition or term.pressed(k)` presses until the condition holds."""
        self.type(keys)
        return False

    def wait_for(self, condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
        def screen() -> str:
            return f"the screen ended with: {bytes(self.output[-2000:]).decode(errors='replace')!r}"

        wait_until(lambda: condition() or self.process.poll() is not None, timeout, what, explain=screen)
        if not condition():
            raise AssertionError(f"the tutor exited ({self.process.returncode}) while waiting for {what}")

    def ended(self, timeout: float = 20.0) -> int:
        """Wait for the tutor to exit and for the last of its output to be read; its status."""
        status = self.process.wait(timeout)
        self._reader.join(timeout)
        return status

    def line_mode(self) -> tuple[bool, bool]:
        """Whether the terminal is back in line mode: (canonical input, echo). A pty's master
        reads the same settings as the side the tutor has."""
        lflag = termios.tcgetattr(self.master)[3]
        return bool(lflag & termios.ICANON), bool(lflag & termios.ECHO)

    def shows(self, text: str) -> bool:
        return text.encode() in self.output

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(5)
