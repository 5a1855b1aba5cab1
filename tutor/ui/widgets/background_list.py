"""Background commands (port-forward, tunnel) and their state: they outlive the step that started them.

Mounted by the lesson screen with the first one: before, there is nothing to list.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_STYLES = {
    "starting": "yellow",
    "running": "yellow",
    "ready": "green",
    "restarting": "yellow",
    "failed": "bold red",
    "needs-terminal": "bold red",
    "stopped": "dim",
}
"""By the run layer's `ProcessState` (a string enum), which the list shows as it is."""


class BackgroundList(Static):
    def __init__(self) -> None:
        super().__init__("", id="background-list")
        self.border_title = "Background"
        self._states: dict[str, tuple[str, str]] = {}

    def set_state(self, process: str, state: str, detail: str) -> None:
        self._states[process] = (state, detail)
        text = Text()
        for name, (current, why) in self._states.items():
            if text:
                text.append("\n")
            text.append(f"{name}: ", style="bold")
            text.append(current, style=STATE_STYLES.get(current, ""))
            if why and current in ("restarting", "failed", "needs-terminal"):
                text.append(f" ({why})", style="dim")
        self.update(text)
