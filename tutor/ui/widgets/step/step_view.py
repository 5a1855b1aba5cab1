"""A step's content in the order the author wrote it: prose, then commands, then prose..."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget

from tutor.lesson import prose
from tutor.lesson.model import CommandBlock, Prose, Step
from tutor.ui.widgets.step import prose_view
from tutor.ui.widgets.step.command_view import CommandView


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
    ) -> None:
        children: list[Widget] = []
        if intro:
            children.append(prose_view.prose_view(prose.display_markdown(text(intro)), classes="intro"))
        self.command_views: list[CommandView] = []
        heading_seen = False
        for block in step.blocks:
            if isinstance(block, Prose):
                markdown = prose.display_markdown(text(block.markdown))
                if not heading_seen and not markdown.lstrip().startswith("#"):
                    if prose.document(markdown) is None:  # Markdown's: one widget, as its margins collapse
                        markdown = f"{prose.heading(step.title)}\n\n{markdown}"
                    else:  # drawn here: the same lines as one, and each text as the lesson cache has it
                        children.append(prose_view.prose_view(prose.heading(step.title), classes="prose"))
                heading_seen = True
                children.append(prose_view.prose_view(markdown, classes="prose"))
            elif isinstance(block, CommandBlock):
                views = []
                for command in block.commands:
                    index = len(self.command_views)
                    view = CommandView(step.id, index, command, command.display(variables))
                    self.command_views.append(view)
                    views.append(view)
                children.append(Vertical(*views, classes="command-block"))
        if not heading_seen:
            children.insert(1 if intro else 0, prose_view.prose_view(prose.heading(step.title), classes="prose"))
        super().__init__(*children, id=f"step-{step.id}", classes="step-view")
        self.step = step

    def set_runnable(self, runnable: bool) -> None:
        for view in self.command_views:
            view.set_runnable(runnable)
