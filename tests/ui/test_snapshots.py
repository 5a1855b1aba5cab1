"""What the lesson screen looks like, in states with nothing that changes between runs on screen.

Update after an intended change with `pytest tests/ui/test_snapshots.py --snapshot-update`,
then look at the SVGs in tests/ui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rich.console import RenderableType
from rich.style import Style
from textual.pilot import Pilot
from textual.screen import Screen

from tests.ui.conftest import SIZE, opened, wait_for, wait_for_question
from tutor.lesson.model import Lesson
from tutor.session.factory import SessionRefused, Setup
from tutor.session.session import LessonSession
from tutor.ui.app import TutorApp
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.done_bar import StepDoneBar

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
            screen = app_screen(pilot)
            await wait_for_question(pilot)
            await wait_for(pilot, lambda: any(check.result.status == "fail" for check in screen.checks()))
            await pilot.pause()

        assert snap_compare(TutorApp(mini, mini_setup, step_id="broken"), terminal_size=SIZE, run_before=asked)


class TestFirstPaint:
    async def test_the_first_frame_is_the_same_without_textuals_first_restyle(
        self, day55: Lesson, day55_setup: Setup, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """LessonScreen skips the restyle Textual does when a screen is first shown."""
        with_skip = await first_frame(day55, day55_setup)
        monkeypatch.setattr(LessonScreen, "post_message", Screen.post_message)
        assert await first_frame(day55, day55_setup) == with_skip


async def first_frame(lesson: Lesson, setup: Setup) -> list[list[tuple[str, Style | None]]]:
    frames: list[list[list[tuple[str, Style | None]]]] = []

    class Watched(TutorApp):
        def _display(self, screen: Screen[object], renderable: RenderableType | None) -> None:
            super()._display(screen, renderable)
            if not frames:
                update = self.screen._compositor.render_update(full=True)
                frames.append(
                    [
                        [(char, seg.style) for strip in line for seg in strip for char in seg.text]
                        for line in update.strips
                    ]
                )

    app = Watched(lesson, setup, attach=never_attached)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(frames), what="the first frame")
    return frames[0]


def never_attached(session: LessonSession, setup: Setup) -> None:
    raise SessionRefused("not needed: the first frame is before the cluster")


def app_screen(pilot: Pilot[None]) -> LessonScreen:
    app = pilot.app
    assert isinstance(app, TutorApp)
    return app.lesson_screen
