"""Prose drawn without Textual's Markdown looks exactly as Markdown draws it, cell for cell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Markdown

from tutor.lesson import prose
from tutor.ui.app import CSS
from tutor.ui.widgets import prose_view

Cell = tuple[str, object, object, bool, bool, bool, bool, bool, bool]
Cells = list[list[Cell]]


def cell(char: str, style: Style | None) -> Cell:
    """What a terminal shows of a character: its colours and attributes (unset is off)."""
    style = style or Style()
    attributes = (style.bold, style.dim, style.italic, style.underline, style.strike, style.reverse)
    return (char, style.color, style.bgcolor, *(bool(value) for value in attributes))  # type: ignore[return-value]


SAMPLES = {
    "headings and paragraphs": (
        "# The lesson\n\nA first paragraph that is long enough to wrap at least once in a narrow pane, "
        "with **strong**, *emphasis*, ~~struck~~ and `code`.\n\n## A step\n\nSecond &amp; last,\nsoft break "
        "and a hard one  \nhere.\n\n### Smaller\n\n#### Smaller still\n\n###### Smallest"
    ),
    "a link and nested styles": "See [the **minikube** docs](https://minikube.sigs.k8s.io/docs/) and **bold `code`**.",
    "a heading only": "## Start minikube with the storage addons",
    "an h1 in the middle": "Before.\n\n# Centred\n\nAfter.",
}


class Host(App[None]):
    CSS_PATH = CSS

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self.widgets = widgets

    def compose(self) -> ComposeResult:
        yield Pane(*self.widgets, classes="step-view")


class Pane(VerticalScroll):
    COMPONENT_CLASSES: ClassVar[set[str]] = prose_view.COMPONENT_CLASSES


async def cells(widget: Widget | tuple[Widget, ...], width: int) -> Cells:
    app = Host(*widget) if isinstance(widget, tuple) else Host(widget)
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        for markdown in app.query(Markdown):
            while not markdown.children:
                await pilot.pause(0.01)
        await pilot.pause()
        update = app.screen._compositor.render_update(full=True)
        return [
            [cell(char, segment.style) for strip in line for segment in strip for char in segment.text]
            for line in update.strips
        ]


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("width", [40, 90])
async def test_the_same_cells_as_textuals_markdown(name: str, width: int) -> None:
    text = SAMPLES[name]
    drawn = prose_view.prose_view(text, classes="prose")
    assert not isinstance(drawn, Markdown)
    ours, textuals = await cells(drawn, width), await cells(Markdown(text, classes="prose prose-view"), width)
    for row, (mine, theirs) in enumerate(zip(ours, textuals, strict=True)):
        assert mine == theirs, f"row {row}: {''.join(c[0] for c in mine)!r} / {''.join(c[0] for c in theirs)!r}"


async def test_a_step_without_a_heading_gets_its_title_as_markdown_would_draw_it() -> None:
    """StepView draws the title apart from the prose (each text as the lesson cache keeps it)."""
    title, text = prose.heading("Make `csi-hostpath-sc` the default"), "A **StorageClass** describes storage."
    apart = (prose_view.prose_view(title, classes="prose"), prose_view.prose_view(text, classes="prose"))
    together = Markdown(f"{title}\n\n{text}", classes="prose prose-view")
    assert await cells(apart, 60) == await cells(together, 60)


def test_a_cached_lesson_draws_its_first_step_without_markdown_it(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from tutor import cli, lesson_cache\n"
        "from tutor.lesson.catalog import Catalog\n"
        "from tutor.session.setup import Setup, new_session\n"
        "from tutor.ui.screens.lesson import LessonScreen\n"
        "lesson = Catalog.discover(loader=lesson_cache.load).get('day55')\n"
        "screen = LessonScreen(new_session(lesson, Setup(save_progress=False)), Setup())\n"
        "view = screen._make_view(lesson.steps[0].id)\n"
        "print(','.join(m for m in ('markdown_it', 'textual.widgets._markdown') if m in sys.modules))\n"
    )
    env = {**os.environ, "K8S_TUTOR_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "markdown_it"  # the first start parses, and keeps what it parsed
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == ""


@pytest.mark.parametrize(
    "text",
    [
        "- a list\n- of two",
        "1. numbered",
        "> a quote",
        "```sh\ncode\n```",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "Before.\n\n---\n\nAfter.",
        "<div>html</div>",
    ],
)
def test_anything_but_headings_and_paragraphs_goes_to_markdown(text: str) -> None:
    drawn = prose_view.prose_view(text, classes="prose")
    assert isinstance(drawn, Markdown)
    assert drawn.has_class("prose")


def test_a_link_opens_in_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = prose_view.prose_view("[docs](https://example.org/x)", classes="prose")
    assert isinstance(drawn, prose_view.ProseText)
    opened: list[str] = []

    class FakeApp:
        def open_url(self, url: str) -> None:
            opened.append(url)

    monkeypatch.setattr(prose_view.ProseText, "app", FakeApp())
    drawn.action_link("https://example.org/x")
    assert opened == ["https://example.org/x"]
