"""Your own terminal: the line that points a shell at the lesson's cluster, to copy."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ShellScreen(ModalScreen[None]):
    AUTO_FOCUS = "#copy"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,s", "app.pop_screen", "Close", show=False),
        Binding("c", "copy", "Copy", show=False),
    ]

    def __init__(self, line: str, about: str) -> None:
        super().__init__(classes="question")
        self.line = line
        self._about = about

    def compose(self) -> ComposeResult:
        with Vertical(id="question-box") as box:
            box.border_title = "Your own terminal"
            yield Static(
                f"Any step can be done in a terminal of your own. Type this there first: it {self._about}.",
                id="question-text",
            )
            yield Static(Text(self.line), id="shell-command")
            yield Static(
                "Copy copies it through your terminal (where it allows that); or select it with the mouse.",
                id="shell-note",
            )
            with Horizontal(id="question-buttons"):
                yield Button("Copy", id="copy", variant="primary")
                yield Button("Close", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.line)
        self.app.notify("Copied the line for your terminal.", timeout=4)
