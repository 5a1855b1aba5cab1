"""Every key of the lesson screen (`?`), those of its widgets, and the palette."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

ELSEWHERE = [
    ("ctrl+p", "The command palette: every action, a step to go to, another theme"),
    ("tab", "The next button, choice or panel"),
    ("enter / space", "Press the button or pick the choice in focus"),
    ("mouse", "Click a step, a Run button or a choice; the wheel scrolls (shift: sideways)"),
]


class KeysScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, keys: Sequence[tuple[str, str, bool]]) -> None:
        """`keys`: (key, what it does, available now) for each key of the screen."""
        super().__init__(id="keys-screen")
        self._keys = keys

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, description, available in self._keys:
            table.add_row(key, description if available else f"[dim]{description} (not now)[/dim]")
        table.add_row("", "")
        for key, description in ELSEWHERE:
            table.add_row(key, description)
        with VerticalScroll(id="keys-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "? or Esc closes"
            yield Static(table)
