"""Presenter mode in the TUI: autoplay that waits for the presenter's key (`--pause`), and the
projector's layout (`--present`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.ui.conftest import SIZE, opened, process_running, wait_for
from tests.ui.test_key_footer import keys
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.presenter import PROJECTOR_THEME, Presentation
from tutor.ui.widgets.key_footer import KeyFooter


async def test_autoplay_waits_for_the_presenter_before_each_steps_commands(
    mini: Lesson, mini_setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    nap = "986.5"
    setup = replace(mini_setup, overrides={"nap": nap})
    app = TutorApp(mini, setup, autoplay=True, presentation=Presentation(pause=True))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        footer = screen.query_one(KeyFooter)
        await wait_for(pilot, lambda: screen.pauses.waiting is not None, what="the first pause")
        assert screen.pauses.waiting is not None and screen.pauses.waiting.id == "first"
        await pilot.pause()
        assert keys(footer).get("Run the step") is True
        assert not Path("first.mark").exists()  # nothing ran: the presenter is still talking
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.session.progress.is_done("first"), what="the first step's checks")
        # The next step waits in turn; its fifteen-minute command has not started.
        await wait_for(pilot, lambda: screen.pauses.waiting is not None and screen.pauses.waiting.id == "slow")
        await wait_for(pilot, lambda: screen.current == "slow", what="the next step on screen")
        assert not process_running("sleep", nap)
        await pilot.press("q")  # while it waits: nothing more runs, and nothing fails on the way out
    assert not process_running("sleep", nap)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


async def test_without_a_pause_the_keys_are_the_lessons(mini: Lesson, mini_setup: Setup) -> None:
    # Enter and space go to the focused widget as ever: the presenter's key is not in the footer.
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        assert "Run the step" not in keys(screen.query_one(KeyFooter))
        assert screen.pauses.go_on() is False


async def test_the_projector_layout_centres_the_prose_alone_in_high_contrast(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup, presentation=Presentation(present=True))
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot)
        assert app.theme == PROJECTOR_THEME.name
        assert not screen.query_one("#sidebar").display and not screen.query_one("#side").display
        main = screen.query_one("#main").region
        assert main.width == 160  # the step has the whole width
        prose = screen.step_views["first"].query(".prose-view").first().region
        left, right = prose.x - main.x, main.right - prose.right
        assert prose.width <= 96 and left > 20 and abs(left - right) <= 1


async def test_the_usual_layout_keeps_its_panels(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot)
        assert app.theme != PROJECTOR_THEME.name
        assert screen.query_one("#sidebar").display and screen.query_one("#side").display
