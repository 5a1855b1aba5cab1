"""Below the step: once its checks pass, a plain "Step done — next" to move on.

Mounted the first time a step is done, not before: a Button is costly to style, and
the first frame of the lesson has none to show.
"""

from __future__ import annotations

from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button, Static


class StepDoneBar(Horizontal):
    def __init__(self) -> None:
        self._button = Button("Next step ▶", id="next-button", variant="success", compact=True)
        self._text = Static("", id="done-text")
        super().__init__(self._button, self._text, id="done-bar")

    def show_done(self, *, next_title: str | None, last: bool) -> None:
        self.display = True
        if last:
            self._text.update("✓ Step done — that was the last step.")
            self._button.label = "Finish ▶"
        else:
            self._text.update(Content(f"✓ Step done — next: {next_title}"))
            self._button.label = "Next step ▶"

    def hide(self) -> None:
        self.display = False
