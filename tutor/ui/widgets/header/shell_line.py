"""One line under the header: how to point a terminal of your own at the lesson's cluster."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ShellLine(Static):
    def __init__(self, line: str) -> None:
        text = Text.assemble(("Your own terminal: ", "bold"), line, ("   s: show, copy", "dim"))
        super().__init__(text, id="shell-line")
        self.line = line
