"""Presenter mode: autoplay that waits for the presenter (`--pause`), and a layout for a
projector (`--present`).

A terminal cannot draw bigger letters: `--present` gives the prose the whole width (the
step list and the checks and hints panels are hidden), centres it between wide margins,
and switches to a high-contrast theme (white on black). The presenter enlarges the
terminal's font for bigger type. The layout is the `-present` class on the lesson screen,
styled in its own section of tutor.tcss.

`--pause` makes autoplay wait before each step's commands until the presenter presses
Enter or space (the footer shows the key while it waits), so that the step can be talked
through first. The wait is on autoplay's worker thread; the key is handled on the app's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message
from textual.theme import Theme

from tutor.lesson.model import Step

PRESENT_CLASS = "-present"

PROJECTOR_THEME = Theme(
    name="k8s-tutor-projector",
    primary="#5FD7FF",
    secondary="#FFD75F",
    accent="#FFAF00",
    warning="#FFD700",
    error="#FF6E6E",
    success="#5FFF87",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1C1C1C",
    dark=True,
)
"""White on black, and bright colours for the states: what a projector in a lit room still shows."""


class PauseBegan(Message):
    """Autoplay waits for the presenter before `step`'s commands (posted from its worker)."""

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step


@dataclass(frozen=True)
class Presentation:
    """How the lesson is presented: `pause` autoplay before each step's commands, `present` for a projector."""

    pause: bool = False
    present: bool = False


PLAIN_PRESENTATION = Presentation()
"""No presenter: autoplay runs straight through, in the usual layout."""


class Pauses:
    """The presenter's pauses: autoplay's worker waits in `gate`; the presenter's key calls `go_on`."""

    def __init__(self, announce: Callable[[Step], object]) -> None:
        """`announce(step)` runs on the worker when a pause begins; it must not block (post
        `PauseBegan` to the screen)."""
        self._announce = announce
        self._go = threading.Event()
        self._closed = False
        self.waiting: Step | None = None
        """The step whose commands wait for the presenter; None when nothing waits."""

    def gate(self, step: Step) -> bool:
        """Wait for the presenter before `step`'s commands; False when the screen closed meanwhile."""
        self._go.clear()
        if self._closed:  # after the clear: a close from now on sets it again
            return False
        self.waiting = step
        self._announce(step)
        self._go.wait()
        self.waiting = None
        return not self._closed

    def go_on(self) -> bool:
        """The presenter's key: the commands run. False when nothing was waiting."""
        if self.waiting is None:
            return False
        self.waiting = None
        self._go.set()
        return True

    def close(self) -> None:
        """The screen is going: a waiting autoplay stops instead of running the step."""
        self._closed = True
        self._go.set()
