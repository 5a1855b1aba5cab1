"""A yes/no question in a modal: fast-forward before a replayed step, confirm a non-local cluster."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tutor.safe_text import strip_controls


class QuestionScreen(ModalScreen[bool]):
    # Focused when the screen is shown: in on_mount the buttons, nested in containers that
    # compose on their own, may not be mounted yet (a NoMatches on a busy machine).
    AUTO_FOCUS = "#yes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("escape,n", "answer(False)", "No", show=False),
    ]

    def __init__(self, title: str, message: str, *, yes: str, no: str, default: bool = True) -> None:
        super().__init__(classes="question")
        if not default:
            # Enter answers with the focused button: the safe answer, for a risky question.
            self.AUTO_FOCUS = "#no"  # type: ignore[misc]
        self._title = title
        self._message = strip_controls(message)  # from a kubeconfig, a lesson: text, nothing else
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="question-box") as box:
            box.border_title = self._title
            yield Static(Content(self._message), id="question-text")
            with Horizontal(id="question-buttons"):
                yield Button(self._yes, id="yes", variant="primary")
                yield Button(self._no, id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class CautiousQuestionScreen(QuestionScreen):
    """The same question, with "no" focused: Enter declines (trusting a lesson from elsewhere)."""

    AUTO_FOCUS = "#no"
