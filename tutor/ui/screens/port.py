"""Another port for a background command whose port another program holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class PortScreen(ModalScreen[str | None]):
    """Asks for a port; `problem(value)` (the session's rule) says what is wrong with one."""

    AUTO_FOCUS = "#port-input"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self, variable: str, why: str, suggestion: int | None, problem: Callable[[str, str], str | None]
    ) -> None:
        super().__init__(classes="question")
        self.variable = variable
        self._why = why
        self._suggestion = suggestion
        self._problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(id="question-box") as box:
            box.border_title = "Another port"
            yield Static(
                f"{self._why}\n\nThe lesson can use another port from now on: the commands you see, what the "
                f"tutor runs and what it checks all follow ({self.variable}).",
                id="question-text",
            )
            yield Input(str(self._suggestion or ""), placeholder="a port, e.g. 9191", type="integer", id="port-input")
            yield Static("", id="port-problem")
            with Horizontal(id="question-buttons"):
                yield Button("Use this port", id="yes", variant="primary")
                yield Button("Cancel", id="no")

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
        value = self.query_one("#port-input", Input).value.strip()
        problem = self._problem(self.variable, value)
        if problem:
            self.query_one("#port-problem", Static).update(problem)
            return
        self.dismiss(value)
