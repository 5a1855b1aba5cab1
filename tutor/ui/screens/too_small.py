"""Shown instead of the lesson while the terminal is too small to draw it: what is needed,
and how to get it. It goes away by itself once the terminal is large enough."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

MIN_WIDTH = 60
MIN_HEIGHT = 15


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


class TooSmallScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("", id="too-small-text")

    def on_mount(self) -> None:
        self._say()

    def on_resize(self) -> None:
        self._say()

    def _say(self) -> None:
        width, height = self.app.size
        self.query_one("#too-small-text", Static).update(
            f"This terminal is {width}×{height}: k8s-tutor needs at least {MIN_WIDTH}×{MIN_HEIGHT}.\n\n"
            "Make the window larger (or the font smaller), or quit with Ctrl+Q and run the "
            "lesson with --plain, which works at any size."
        )
