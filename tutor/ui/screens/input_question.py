"""A question the learner answers by typing (another port, a name on the board)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Input


class InputQuestion(ModalScreen[str | None]):
    """Enter or the `yes` button takes the typed answer (`_choose`, which dismisses with it
    or says what is wrong); Escape or the `no` button dismisses with None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self) -> None:
        super().__init__(classes="question")

    @staticmethod
    def buttons(yes: str, no: str) -> Horizontal:
        return Horizontal(Button(yes, id="yes", variant="primary"), Button(no, id="no"), id="question-buttons")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes":
            self._choose()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _choose(self) -> None:
        raise NotImplementedError
