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
from textual.widgets import Input

from tests.ui.conftest import SIZE, opened, settled, wait_for, wait_for_question
from tutor.lesson.model import Lesson
from tutor.session.factory import SessionRefused, Setup
from tutor.session.session import LessonSession
from tutor.ui.app import PickerApp, TutorApp
from tutor.ui.choices import LessonChoice
from tutor.ui.screens.complete import LessonCompleteScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.done_bar import StepDoneBar
from tutor.ui.widgets.question_view import ChoiceRow

SnapCompare = Callable[..., bool]


class TestLessonScreen:
    def test_step_one_done(self, snap_compare: SnapCompare, day55: Lesson, day55_setup: Setup) -> None:
        async def run_step_one(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await pilot.press("r")
            await wait_for(pilot, lambda: any(bar.display for bar in screen.query(StepDoneBar)) and not screen.running)
            # The end of the last command comes into view a refresh after it ends: let it
            # land first, or it lands after the scroll below and the snapshot shows the end.
            await settled(pilot)
            # The minikube output has timestamps-like ages ("0s"): keep it off screen.
            step = screen.step_views["start"]
            step.scroll_home(animate=False)
            await settled(pilot)
            assert step.scroll_y == 0, "something scrolled the step after the test did"

        assert snap_compare(TutorApp(day55, day55_setup), terminal_size=SIZE, run_before=run_step_one)

    def test_a_narrow_terminal_hides_the_step_list(
        self, snap_compare: SnapCompare, mini: Lesson, mini_setup: Setup
    ) -> None:
        async def checked(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await wait_for(pilot, lambda: "exited 1" in str(screen.query_one("#checks").render()))

        assert snap_compare(TutorApp(mini, mini_setup), terminal_size=(80, 24), run_before=checked)


SIZES = [(80, 24), (100, 30), (160, 48)]
"""The sizes every state below is drawn at: the smallest usual terminal, a common one, a big one."""


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
class TestEverySize:
    def test_the_picker(self, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
        choices = [
            LessonChoice("day55", "State and Ingress in Kubernetes", "Pac-Man on MongoDB, with a volume.", 11),
            LessonChoice("mini", "A small lesson", "Four quick steps.", 5, ("mc-demo: 2 of 5 steps done",)),
        ]
        note = "minikube is not installed here: quit (q) and start k8s-tutor --sandbox for a simulated cluster."
        assert snap_compare(PickerApp(choices, note), terminal_size=size)

    def test_a_step_with_output(
        self, snap_compare: SnapCompare, mini: Lesson, mini_setup: Setup, size: tuple[int, int]
    ) -> None:
        async def ran(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await pilot.press("r")
            seq = screen.command_view("first", 1)
            await wait_for(pilot, lambda: seq.status.startswith("✓") and not screen.running, what="the run")
            await wait_for(pilot, lambda: screen.checks() and screen.checks()[0].result.passed, what="the check")
            await wait_for(pilot, lambda: any(bar.display for bar in screen.query(StepDoneBar)), what="done")
            # The cue is redrawn a refresh after the lines it counts: wait for its last count.
            await wait_for(
                pilot,
                lambda: bool(seq.query(".command-cue")) and "of 20000" in str(seq.query_one(".command-cue").render()),
                what="the cue to count every line",
            )
            # Once everything is drawn (the app scrolls the finished command into view by itself,
            # a refresh later), scroll it into view again: from a final layout, always one place.
            await settled(pilot)
            seq.scroll_visible(animate=False)
            await settled(pilot)

        assert snap_compare(TutorApp(mini, mini_setup), terminal_size=size, run_before=ran)

    def test_a_failing_check_explained(
        self, snap_compare: SnapCompare, day55: Lesson, day55_setup: Setup, size: tuple[int, int]
    ) -> None:
        async def explained(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.session.progress.is_done("start") and not screen.running)
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.current == "default-storageclass" and screen.checks())
            await wait_for(pilot, lambda: screen.checks()[0].result.findings, what="findings")
            await pilot.press("e")
            await wait_for(pilot, lambda: "what the cluster shows" in str(screen.query_one("#checks").render()))
            if size[0] >= 150:  # the map's panel under the step, drawn from a map read whole

                def map_read() -> bool:
                    panel = screen.map_panel
                    return panel is not None and panel.shown is not None and not panel.shown.loading

                await wait_for(pilot, map_read, what="the map in its panel")
            await pilot.pause()

        assert snap_compare(TutorApp(day55, day55_setup), terminal_size=size, run_before=explained)

    def test_a_question_answered_wrong(
        self, snap_compare: SnapCompare, quiz: Lesson, quiz_setup: Setup, size: tuple[int, int]
    ) -> None:
        async def answered(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await wait_for(pilot, lambda: "exited 1" in str(screen.query_one("#checks").render()))
            view = screen.step_views["ask"].question_views["which-file"]
            view.query(ChoiceRow)[1].focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: view.verdict is not None, what="the verdict")
            view.scroll_visible(animate=False)
            await pilot.pause()

        assert snap_compare(TutorApp(quiz, quiz_setup), terminal_size=size, run_before=answered)

    def test_the_end(self, snap_compare: SnapCompare, quiz: Lesson, quiz_setup: Setup, size: tuple[int, int]) -> None:
        async def finished(pilot: Pilot[None]) -> None:
            screen = await opened(pilot)
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.session.progress.is_done("ask") and not screen.running)
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.current == "word", what="step two")
            screen.step_views["word"].query_one(Input).focus()
            await pilot.press(*"touch", "enter")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, LessonCompleteScreen), what="the end")
            await pilot.pause()

        assert snap_compare(TutorApp(quiz, quiz_setup), terminal_size=size, run_before=finished)


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
