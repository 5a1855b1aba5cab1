"""The footer's keys: drawn from the first paint, greyed when unavailable, and clickable."""

from __future__ import annotations

from rich.style import Style
from textual.pilot import Pilot

from tests.ui.conftest import SIZE, opened, wait_for
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.widgets.key_footer import KeyFooter


def keys(footer: KeyFooter) -> dict[str, bool]:
    """Each key's description, and whether it is drawn as available (not dim)."""
    text = footer.render()
    drawn: dict[str, bool] = {}
    for start, end, _, enabled in footer._spans:
        label = text.plain[start:end].split(maxsplit=1)[1].strip()
        dims = {
            bool(span.style.dim) for span in text.spans if start <= span.start < end and isinstance(span.style, Style)
        }
        assert dims == {not enabled}
        drawn[label] = enabled
    return drawn


async def test_the_keys_are_there_from_the_first_paint(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        footer = app.lesson_screen.query_one(KeyFooter)
        assert list(keys(footer)) == [
            "Run step",
            "Next",
            "Previous",
            "Hint",
            "Explain",
            "Keys",
            "Quit",
            "Answer",
            "Output",
            "Steps",
            "Map",
        ]
        await opened(pilot)
        drawn = keys(footer)
        assert drawn["Run step"] and drawn["Hint"] and drawn["Quit"]
        assert not drawn["Next"] and not drawn["Previous"]  # first step, not done
        assert not drawn["Answer"]  # no question in this step


async def test_a_click_on_a_key_presses_it(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        footer = screen.query_one(KeyFooter)
        keys(footer)
        start, _, key, _ = next(span for span in footer._spans if span[2] == "e")
        assert key == "e"
        await click_at(pilot, footer, start + 1)
        await wait_for(pilot, lambda: screen.explain, what="explain to be on")
        start, _, _, _ = next(span for span in footer._spans if span[2] == "r")
        await click_at(pilot, footer, start + 1)
        await wait_for(pilot, lambda: screen.command_view("first", 0).status.startswith("✓"), what="the step's run")


async def click_at(pilot: Pilot[None], footer: KeyFooter, x: int) -> None:
    await pilot.click(footer, offset=(x, 0))
