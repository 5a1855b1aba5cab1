"""A step's content in the order the author wrote it: prose, then commands, then prose..."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget

from tutor.lesson import prose
from tutor.lesson.model import CommandBlock, Prose, Question, Step
from tutor.lesson.questions import filled
from tutor.progress import Answer
from tutor.ui.widgets import prose_view
from tutor.ui.widgets.command_view import CommandView

if TYPE_CHECKING:
    from tutor.ui.widgets.question_view import QuestionView

Part = tuple[str, str] | CommandBlock | Question
"""A piece of the step as drawn: prose as (markdown with the variables filled in, classes), commands,
or a question."""


def _parts(step: Step, text: Callable[[str], str], intro: str) -> list[Part]:
    parts: list[Part] = []
    if intro:
        parts.append((prose.display_markdown(text(intro)), "intro"))
    heading_seen = False
    for block in step.blocks:
        if isinstance(block, Prose):
            markdown = prose.display_markdown(text(block.markdown))
            if not heading_seen and not markdown.lstrip().startswith("#"):
                if prose.document(markdown) is None:  # Markdown's: one widget, as its margins collapse
                    markdown = f"{prose.heading(step.title)}\n\n{markdown}"
                else:  # drawn here: the same lines as one, and each text as the lesson cache has it
                    parts.append((prose.heading(step.title), "prose"))
            heading_seen = True
            parts.append((markdown, "prose"))
        elif isinstance(block, CommandBlock | Question):
            parts.append(block)
    if not heading_seen:
        parts.insert(1 if intro else 0, (prose.heading(step.title), "prose"))
    return parts


class StepView(VerticalScroll):
    """Built whole in the constructor, so the screen can route a command's output to it at once."""

    COMPONENT_CLASSES: ClassVar[set[str]] = prose_view.COMPONENT_CLASSES

    def __init__(
        self,
        step: Step,
        *,
        text: Callable[[str], str],
        variables: Mapping[str, str],
        intro: str = "",
        answers: Mapping[str, Answer] | None = None,
    ) -> None:
        """`answers`: how the learner stands with the lesson's questions (the progress's)."""
        children: list[Widget] = []
        self.command_views: list[CommandView] = []
        self.question_views: dict[str, QuestionView] = {}
        self._intro = intro
        self._drawn: list[tuple[Widget, str]] = []
        """Each prose widget and the markdown it shows, in order: redrawn when a variable changes."""
        for part in _parts(step, text, intro):
            if isinstance(part, CommandBlock):
                views = []
                for command in part.commands:
                    view = CommandView(step.id, len(self.command_views), command, command.display(variables))
                    self.command_views.append(view)
                    views.append(view)
                children.append(Vertical(*views, classes="command-block"))
            elif isinstance(part, Question):
                from tutor.ui.widgets.question_view import QuestionView  # only steps with questions need it

                question = QuestionView(step.id, filled(part, text), (answers or {}).get(part.id))
                self.question_views[part.id] = question
                children.append(question)
            else:
                widget = prose_view.prose_view(part[0], classes=part[1])
                self._drawn.append((widget, part[0]))
                children.append(widget)
        super().__init__(*children, id=f"step-{step.id}", classes="step-view")
        self.step = step

    def set_runnable(self, runnable: bool) -> None:
        for view in self.command_views:
            view.set_runnable(runnable)

    def retext(self, text: Callable[[str], str], variables: Mapping[str, str]) -> None:
        """A variable changed: the commands and the prose that use it show its new value."""
        for view in self.command_views:
            view.retext(view.command.display(variables))
        prose_parts = [part for part in _parts(self.step, text, self._intro) if isinstance(part, tuple)]
        for index, ((old, shown), (markdown, classes)) in enumerate(zip(self._drawn, prose_parts, strict=False)):
            if markdown != shown:
                new = prose_view.prose_view(markdown, classes=classes)
                self.mount(new, before=old)
                old.remove()
                self._drawn[index] = (new, markdown)
