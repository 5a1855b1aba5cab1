"""The steps of the lesson: done ✓, the one in view ▶, open ○, locked (greyed, not selectable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tutor.lesson.model import Lesson

StepState = Literal["done", "open", "locked", "drifted"]

MARKS: dict[StepState, str] = {"done": "✓", "open": "○", "locked": "·", "drifted": "!"}
STYLES: dict[StepState, str] = {"done": "green", "open": "", "locked": "", "drifted": "yellow"}


class StepList(OptionList):
    class StepChosen(Message):
        """The learner picked an unlocked step."""

        def __init__(self, step_id: str) -> None:
            super().__init__()
            self.step_id = step_id

    def __init__(self, lesson: Lesson, *, current: str | None = None) -> None:
        # Locked until the session says otherwise (nothing is known about this cluster yet),
        # but for the step on screen, highlighted as the session will have it.
        super().__init__(
            *(
                Option(self._prompt(i, s.title, "locked", s.id == current), id=s.id, disabled=s.id != current)
                for i, s in enumerate(lesson.steps)
            ),
            id="step-list",
        )
        self.lesson = lesson
        self.border_title = "Steps"
        if current is not None:
            self.highlighted = lesson.index(current)

    @staticmethod
    def _prompt(index: int, title: str, state: StepState, current: bool) -> Text:
        mark = "▶" if current else MARKS[state]
        # One line per step: the full title is the heading of the step itself.
        text = Text(
            f"{mark} {index + 1:>2}. ", style="bold" if current else STYLES[state], no_wrap=True, overflow="ellipsis"
        )
        text.append(title, style="bold" if current else "")
        return text

    def update_steps(self, states: Mapping[str, StepState], current: str | None) -> None:
        for index, step in enumerate(self.lesson.steps):
            state = states.get(step.id, "locked")
            option = self.get_option(step.id)
            self.replace_option_prompt(step.id, self._prompt(index, step.title, state, step.id == current))
            disabled = state == "locked"
            if option.disabled != disabled:
                if disabled:
                    self.disable_option(step.id)
                else:
                    self.enable_option(step.id)
        if current is not None:
            self.highlighted = self.get_option_index(current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.StepChosen(event.option.id))
