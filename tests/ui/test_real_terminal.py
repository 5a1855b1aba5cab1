"""The TUI as a learner runs it: `python -m tutor` in a pseudo-terminal, keys typed, the exit timed.

What only a real terminal shows: the whole exit path (thread workers, the executor
shutdown, the exit handlers) and lending the terminal to a command that asks for a
password, which suspends the app.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.polling import wait_until
from tests.ui.conftest import LESSONS, process_running
from tests.ui.pty_terminal import ALTERNATE_SCREEN, Terminal


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def start(*args: str) -> Terminal:
        term = Terminal(["mini", "--lessons", str(LESSONS), "--trust", "--sandbox", *args], tmp_path)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def continue_anyway(term: Terminal) -> None:
    term.wait_for(lambda: term.shows("Continue anyway"), what="the replay question")
    term.type("n")


def test_quit_while_a_command_runs_exits_promptly_and_leaves_no_process(terminal: Callable[..., Terminal]) -> None:
    nap = f"{900 + random.random() * 99:.4f}"
    term = terminal("--step", "slow", "--set", f"nap={nap}")
    continue_anyway(term)
    # `r` is ignored until the question is gone and the session open: type it until it runs.
    wait_until(lambda: process_running("sleep", nap) or term.pressed("r"), 20, "sleep to start", every=0.3)
    started = time.monotonic()
    term.type("q")
    status = term.process.wait(10)
    took = time.monotonic() - started
    assert status == 0
    assert took < 3.0, f"quitting took {took:.1f} s"
    assert not process_running("sleep", nap)


def test_a_password_prompt_gets_the_terminal_and_the_lesson_comes_back(terminal: Callable[..., Terminal]) -> None:
    term = terminal("--step", "password")
    continue_anyway(term)
    wait_until(
        lambda: term.shows("needs you at the terminal") or term.pressed("r"), 20, "the terminal to be lent", every=0.3
    )
    lent = term.output.index(b"needs you at the terminal")
    term.wait_for(lambda: b"[sudo] password for learner:" in term.output[lent:], what="the prompt")
    term.type("secret\r")
    # The command read the answer on the bare terminal, then the app took the screen back
    # (the alternate screen again) and answers keys.
    term.wait_for(lambda: ALTERNATE_SCREEN in term.output[lent:], what="the app to take the screen back")
    after = bytes(term.output[lent:])
    assert after.index(b"got 6 characters") < after.index(ALTERNATE_SCREEN)
    term.type("q")
    assert term.process.wait(10) == 0
