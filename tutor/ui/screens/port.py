"""Another port for a background command whose port another program holds."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from tutor.ui.screens.input_question import InputQuestion


class PortScreen(InputQuestion):
    """Asks for a port; `problem(value)` (the session's rule) says what is wrong with one."""

    AUTO_FOCUS = "#port-input"

    def __init__(
        self, variable: str, why: str, suggestion: int | None, problem: Callable[[str, str], str | None]
    ) -> None:
        super().__init__()
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
            yield self.buttons("Use this port", "Cancel")

    def _choose(self) -> None:
        value = self.query_one("#port-input", Input).value.strip()
        problem = self._problem(self.variable, value)
        if problem:
            self.query_one("#port-problem", Static).update(problem)
            return
        self.dismiss(value)
