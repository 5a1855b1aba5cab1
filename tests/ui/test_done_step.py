"""A step whose checks already pass when it is shown (an earlier step did its work) still shows
its commands and lets the learner run them, says it is done and offers to move on."""

from __future__ import annotations

from textual.widgets import Button

from tests.ui.conftest import SIZE, opened, wait_for
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.widgets.done_bar import StepDoneBar


async def test_a_step_already_done_can_still_be_run_and_offers_the_next(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.session.progress.is_done("first") and not screen.running)
        await pilot.press("n")  # "Wait a long time": the mark of step one already passes its check
        await wait_for(pilot, lambda: screen.current == "slow", what="step two")
        await wait_for(pilot, lambda: screen.session.progress.is_done("slow"), what="step two done")
        bar = screen.query_one(StepDoneBar)
        await wait_for(pilot, lambda: bar.display, what="the done bar")
        assert "next: A check that cannot pass" in str(bar.query_one("#done-text").render())
        run = screen.command_view("slow", 0)
        assert not run.query_one(Button).disabled, "its Run button stays enabled"
        assert screen.check_action("run_step", ()) is True
        await pilot.click(run.query_one(Button))
        await wait_for(pilot, lambda: run.status.startswith("◌ running"), what="the command to run")
        await pilot.click("#next-button")
        await wait_for(pilot, lambda: screen.current == "broken", what="the next step")
