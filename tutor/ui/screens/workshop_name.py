"""The learner's name on a workshop's board, asked once (it is remembered with the join)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from tutor.ui.screens.input_question import InputQuestion
from tutor.workshop.snapshot import MAX_NAME, SnapshotError, display_name


class WorkshopNameScreen(InputQuestion):
    """Returns the name, or None: the learner would rather not join."""

    DEFAULT_CSS = """
    WorkshopNameScreen { align: center middle; }
    #workshop-name-problem { margin: 1 0; color: $text-error; }
    """
    AUTO_FOCUS = "#workshop-name"

    def __init__(self, where: str) -> None:
        super().__init__()
        self._where = where

    def compose(self) -> ComposeResult:
        with Vertical(id="question-box") as box:
            box.border_title = "Join the workshop"
            yield Static(
                f"This lesson reports your progress to the workshop's board at {self._where}: which step you are "
                "on and how its checks stand, never your commands' output or your cluster's credentials.\n\n"
                "Your name on the board, as the instructor will see it:",
                id="question-text",
                markup=False,
            )
            yield Input(placeholder="your name", max_length=MAX_NAME, id="workshop-name")
            yield Static("", id="workshop-name-problem", markup=False)
            yield self.buttons("Join", "Not now")

    def _choose(self) -> None:
        try:
            name = display_name(self.query_one("#workshop-name", Input).value.strip())
        except SnapshotError as err:
            self.query_one("#workshop-name-problem", Static).update(f"That name cannot be shown: it {err.problem}.")
            return
        self.dismiss(name)
