"""The lesson picker (`k8s-tutor` with no lesson): every lesson, its size and your progress."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tutor.ui.choices import LessonChoice


class LessonPickerScreen(Screen[str]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.quit", "Quit", key_display="q/^q")]

    def __init__(self, choices: Sequence[LessonChoice], note: str = "") -> None:
        super().__init__(id="picker-screen")
        self.choices = list(choices)
        self.note = note

    def compose(self) -> ComposeResult:
        yield Static("k8s-tutor — choose a lesson (Enter opens it)", id="picker-title")
        if self.note:
            yield Static(self.note, id="picker-note", markup=False)
        if not self.choices:
            yield Static("No lessons found. `k8s-tutor --lessons DIR` adds a folder of your own.", id="picker-empty")
        else:
            yield OptionList(*(Option(_prompt(choice), id=choice.id) for choice in self.choices), id="lessons")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.app.exit(event.option.id)


def _prompt(choice: LessonChoice) -> Text:
    text = Text()
    text.append(choice.id, style="bold cyan")
    text.append(f"  {choice.title}", style="bold")
    text.append(f"  ({choice.steps} steps)", style="dim")
    if choice.description:
        text.append(f"\n{choice.description}")
    for line in choice.progress:
        text.append(f"\n✓ {line}", style="green")
    if not choice.progress:
        text.append("\nnot started", style="dim")
    text.append("\n")
    return text
