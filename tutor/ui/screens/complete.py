"""The end of the lesson: what was learned, and the way out (or back, to look around)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tutor.lesson.prose import display_markdown


class LessonCompleteScreen(ModalScreen[bool]):
    """Dismissed with True to quit, False to go back to the lesson."""

    # Focused when the screen is shown: in on_mount the buttons, in a container that composes
    # on its own, may not be mounted yet on a busy machine (a NoMatches, a traceback).
    AUTO_FOCUS = "#back"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "finish(True)", "Quit"),
        Binding("escape,b", "finish(False)", "Back to the lesson"),
    ]

    def __init__(self, title: str, steps: int, outro: str) -> None:
        super().__init__()
        self._title = title
        self._steps = steps
        self._outro = outro

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="complete-box") as box:
            box.border_title = "Lesson complete"
            yield Static(Content(f"✓ {self._title}: all {self._steps} steps done."), id="complete-title")
            if self._outro.strip():
                from textual.widgets import Markdown  # ~15 ms to import: not on the way to the lesson

                yield Markdown(display_markdown(self._outro), id="complete-outro")
            with Horizontal(id="complete-buttons"):
                yield Button("Back to the lesson", id="back")
                yield Button("Quit", id="quit", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "quit")

    def action_finish(self, quit_app: bool) -> None:
        self.dismiss(quit_app)
