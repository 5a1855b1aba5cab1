"""What the lesson screen looks like, in states with nothing that changes between runs on screen.

Update after an intended change with `pytest tests/ui/test_snapshots.py --snapshot-update`,
then look at the SVGs in tests/ui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from tests.ui.conftest import SIZE, opened, wait_for
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.question import QuestionScreen
from tutor.ui.widgets.step.done_bar import StepDoneBar

SnapCompare = Callable[..., bool]


class TestLessonScreen:
    def test_step_one_done(self, snap_compare: SnapCompare, day55: Lesson, day55_setup: Setup) -> None:
        async def run_step_one(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await pilot.press("r")
            await wait_for(pilot, lambda: any(bar.display for bar in screen.query(StepDoneBar)) and not screen.running)
            # The minikube output has timestamps-like ages ("0s"): keep it off screen.
            screen.step_views["start"].scroll_home(animate=False)
            await pilot.pause()

        assert snap_compare(TutorApp(day55, day55_setup), terminal_size=SIZE, run_before=run_step_one)

    def test_a_narrow_terminal_hides_the_step_list(
        self, snap_compare: SnapCompare, mini: Lesson, mini_setup: Setup
    ) -> None:
        async def checked(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await wait_for(pilot, lambda: "exited 1" in str(screen.query_one("#checks").render()))

        assert snap_compare(TutorApp(mini, mini_setup), terminal_size=(80, 24), run_before=checked)


class TestReplay:
    def test_the_fast_forward_question(self, snap_compare: SnapCompare, mini: Lesson, mini_setup: Setup) -> None:
        async def asked(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, QuestionScreen))
            await wait_for(pilot, lambda: any(result.status == "fail" for result in screen.checks()))
            await pilot.pause()

        assert snap_compare(TutorApp(mini, mini_setup, step_id="broken"), terminal_size=SIZE, run_before=asked)
