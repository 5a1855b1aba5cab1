"""One line at the top of the step: how to point a terminal of your own at the lesson's cluster."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ShellLine(Static):
    def __init__(self, line: str) -> None:
        # The key first: a narrow terminal cuts the end of the line, which `s` shows whole.
        text = Text.assemble(("Your own terminal ", "bold"), ("(s: copy)", "dim"), ": ", line)
        super().__init__(text, id="shell-line")
        self.line = line
