"""A command that needs the learner's terminal gets it, and the tutor gets it back.

The tutor runs under a pseudo-terminal here; the fake sudo asks on /dev/tty, as the
real one does, and the test types at the terminal like a learner would."""

from __future__ import annotations

import os
import pty
import select
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import PY, script

HOST = Path(__file__).with_name("terminal_host.py")

FAKE_SUDO = """\
exec 3<>/dev/tty
stty -echo <&3
printf '[sudo] password for learner: ' >&3
IFS= read -r password <&3
stty echo <&3
printf '\\n' >&3
[ "$password" = secret ] && echo authenticated || { echo 'Sorry, try again.'; exit 1; }
"""

FAKE_TUNNEL = """\
echo '🔑  sudo permission will be asked for it.'
exec 3<>/dev/tty
printf '[sudo] password for learner: ' >&3
IFS= read -r password <&3
echo '✅  Tunnel successfully started'
sleep 0.3
echo '🏃  Starting tunnel for service pacman-ingress.'
exec sleep 300
"""


class Pty:
    """The learner's side of the terminal: read what is shown, type."""

    def __init__(self, argv: list[str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover (the child execs at once)
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.shown = ""

    def read_until(self, text: str, within: float = 15.0) -> str:
        deadline = time.monotonic() + within
        while text not in self.shown:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, remaining))
            if not ready:
                raise AssertionError(f"{text!r} never shown; the terminal shows:\n{self.shown}")
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO: the host has exited
                chunk = b""
            if not chunk:
                raise AssertionError(f"{text!r} never shown; the terminal shows:\n{self.shown}")
            self.shown += chunk.decode(errors="replace")
        return self.shown

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_status(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def terminal() -> Iterator[list[Pty]]:
    opened: list[Pty] = []
    yield opened
    for term in opened:
        term.close()


def start(terminal: list[Pty], mode: str, program: Path) -> Pty:
    term = Pty([PY, str(HOST), mode, str(program)])
    terminal.append(term)
    return term


def test_the_password_prompt_reaches_the_learner(terminal: list[Pty], tmp_path: Path) -> None:
    term = start(terminal, "foreground", script(tmp_path, "sudo", FAKE_SUDO))
    term.read_until("[sudo] password for learner: ")
    term.type("secret\n")
    shown = term.read_until("host: foreground")
    assert "authenticated" in shown
    assert "secret" not in shown  # the terminal did not echo it
    assert "host: result exit status 0" in shown
    assert "host: foreground=True echo=True" in term.read_until("echo=")
    assert term.exit_status() == 0


def test_ctrl_c_interrupts_the_command_not_the_tutor(terminal: list[Pty], tmp_path: Path) -> None:
    term = start(terminal, "foreground", script(tmp_path, "sudo", FAKE_SUDO))
    term.read_until("[sudo] password for learner: ")
    term.type("\x03")
    shown = term.read_until("echo=")
    assert "host: result killed by SIGINT" in shown
    # The fake turned echo off and was killed before turning it back on.
    assert "host: foreground=True echo=True" in shown
    assert term.exit_status() == 0


def test_a_tunnel_gets_the_terminal_until_it_is_ready(terminal: list[Pty], tmp_path: Path) -> None:
    term = start(terminal, "background", script(tmp_path, "minikube", FAKE_TUNNEL))
    term.read_until("[sudo] password for learner: ")
    term.read_until("🔑  sudo permission will be asked for it.")  # its output is shown too
    term.type("secret\n")
    shown = term.read_until("host: stopped")
    assert "Tunnel successfully started" in shown
    assert "host: back, ready" in shown
    assert "host: foreground=True echo=True" in shown
    assert "host: later output seen=True" in shown
    # After the hand-back its output goes to the tutor only, not over the tutor's screen.
    assert "Starting tunnel for service" not in shown
    assert "host: stopped, stopped" in term.read_until("host: stopped, ")
    assert term.exit_status() == 0
