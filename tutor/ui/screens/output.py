"""A step's command output, full-screen: every run of the step apart, its command and how it
ended above it, as printed (a table the step shows folded is not folded here), long lines
wrapped or, with `w`, not (a wide table's columns then line up and scroll sideways), all
of it to scroll through and select."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tutor.safe_text import strip_controls


@dataclass(frozen=True)
class RunOutput:
    """One command's output as the step shows it."""

    command: str
    status: str
    """How it ended ("✓ done", "✗ exit status 1", "● ready (kept running)"); empty: not run."""
    lines: Sequence[str]
    dropped: int = 0
    """Its first lines, no longer kept: said, not hidden."""


class OutputScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        # Before the text area's own keys (it would keep Esc).
        Binding("escape,q,f", "app.pop_screen", "Close", priority=True),
        # Unwrapped, a table wider than the screen keeps its columns lined up, as printed.
        Binding("w", "wrap", "Wrap", priority=True),
    ]

    def __init__(self, title: str, runs: Sequence[RunOutput]) -> None:
        super().__init__(id="output-screen")
        self._title = title
        self._runs = runs

    def compose(self) -> ComposeResult:
        with Vertical(id="output-box") as box:
            box.border_title = f"Output: {self._title}"
            box.border_subtitle = "w: wrap or not · f, q or Esc closes"
            text = _text(self._runs)
            area = TextArea(text, read_only=True, soft_wrap=True, show_line_numbers=False, id="output-text")
            area.cursor_blink = False
            yield area
            if not text:
                yield Static("No command of this step has run yet: r runs the step.", id="output-empty")

    def action_wrap(self) -> None:
        area = self.query_one(TextArea)
        area.soft_wrap = not area.soft_wrap

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)  # the newest lines in view, as in the step


def _text(runs: Sequence[RunOutput]) -> str:
    parts = []
    for run in runs:
        if not run.lines and not run.status:
            continue
        body = "\n".join(strip_controls(line) for line in run.lines) or "(no output)"
        if run.dropped:
            body = f"(its first {run.dropped} lines are not kept: the last {len(run.lines)} follow)\n{body}"
        parts.append(f"$ {run.command}\n{body}\n{run.status}".rstrip())
    return "\n\n".join(parts)
