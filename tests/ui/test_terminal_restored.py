"""However the TUI ends, the learner's terminal is theirs again: line mode, echo, the main
screen, a visible cursor, no mouse reporting. Checked on a real pseudo-terminal."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import LESSONS
from tests.ui.pty_terminal import ALTERNATE_SCREEN, Terminal

# Each mode the TUI turns on, and the sequence that turns it off again.
MODES = {
    "the alternate screen": (ALTERNATE_SCREEN, b"\x1b[?1049l"),
    "a hidden cursor": (b"\x1b[?25l", b"\x1b[?25h"),
    "mouse reporting": (b"\x1b[?1000h", b"\x1b[?1000l"),
    "bracketed paste": (b"\x1b[?2004h", b"\x1b[?2004l"),
}


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def start(*args: str, close_stdin: bool = False) -> Terminal:
        term = Terminal([*args], tmp_path, close_stdin=close_stdin)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def left_on(output: bytes) -> list[str]:
    """The modes turned on and never off again."""
    return [name for name, (on, off) in MODES.items() if on in output and output.rindex(on) > output.rfind(off)]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("when", ["painted", "connected"])
def test_a_signal_to_the_tui_gives_the_terminal_back(
    terminal: Callable[..., Terminal], signum: signal.Signals, when: str
) -> None:
    term = terminal("mini", "--lessons", str(LESSONS), "--trust", "--sandbox")
    if when == "painted":  # the lesson is on screen; the session may still be connecting
        term.wait_for(lambda: term.shows("Leave a mark"), what="the first paint")
    else:  # the session is open: its exit handlers (and the sandbox) are in place
        term.wait_for(lambda: term.shows("first.mark"), what="the lesson")
        term.wait_for(lambda: term.shows("connected") or term.shows("no cluster"), what="the session")
    assert left_on(bytes(term.output)), "the TUI never took the terminal"
    term.process.send_signal(signum)
    status = term.ended()
    output = bytes(term.output)
    assert status in (-signum, 128 + signum), status
    assert left_on(output) == []
    assert term.line_mode() == (True, True)
    assert b"Traceback" not in output


def test_without_standard_input_the_tutor_says_so_in_line_mode(terminal: Callable[..., Terminal]) -> None:
    # `k8s-tutor day55 <&-` at a terminal: there is no keyboard to drive a TUI.
    term = terminal("mini", "--lessons", str(LESSONS), "--sandbox", close_stdin=True)
    term.wait_for(lambda: term.shows("Step 1 of 5: Leave a mark"), what="the lesson in line mode")
    term.process.send_signal(signal.SIGTERM)
    term.ended()
    output = bytes(term.output)
    assert ALTERNATE_SCREEN not in output
    assert b"Traceback" not in output
    assert term.line_mode() == (True, True)
