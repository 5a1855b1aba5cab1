"""Below the step: once its checks pass, a plain "Step done — next" to move on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static


class StepDoneBar(Horizontal):
    def __init__(self) -> None:
        super().__init__(id="done-bar")
        self.display = False

    def compose(self) -> ComposeResult:
        yield Button("Next step ▶", id="next-button", variant="success", compact=True)
        yield Static("", id="done-text")

    def show_done(self, *, next_title: str | None, last: bool) -> None:
        self.display = True
        text = self.query_one("#done-text", Static)
        button = self.query_one("#next-button", Button)
        if last:
            text.update("✓ Step done — that was the last step.")
            button.label = "Finish ▶"
        else:
            text.update(f"✓ Step done — next: {next_title}")
            button.label = "Next step ▶"

    def hide(self) -> None:
        self.display = False
