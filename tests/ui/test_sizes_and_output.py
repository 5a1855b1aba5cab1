"""What a learner sees at each size, and a command's output they can read whole: the header says
less but keeps the SIMULATED badge, the step list is a key away when there is no room, a
terminal too small says so, output wider or longer than its panel says how to see the rest,
and `f` shows every run of the step, wrapped, each with how it ended."""

from __future__ import annotations

from textual.widgets import TextArea

from tests.ui.conftest import opened, wait_for
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.output import OutputScreen
from tutor.ui.screens.too_small import TooSmallScreen
from tutor.ui.widgets.step_list import StepList


def header_text(app: TutorApp) -> str:
    header = app.lesson_screen.query_one("#header")
    return " | ".join(str(widget.render()) for widget in header.children if widget.display)


async def test_at_80x24_the_header_shortens_by_design_and_the_step_can_be_run(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        header = header_text(app)
        assert "SIMULATED" in header and "(sandbox)" not in header
        assert "1/5" in header
        title = screen.query_one("#lesson-title")
        assert title.region.width >= 12, "the lesson's title keeps some room"
        # The first command and its Run button are on screen, and so are the checks.
        touch = screen.command_view("first", 0)
        assert screen.region.contains_region(touch.region) and touch.region.height > 0
        assert screen.query_one("#checks").region.height > 0
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.session.progress.is_done("first"), what="step one done")
    async with TutorApp(mini, mini_setup).run_test(size=(160, 48)) as pilot:
        await opened(pilot)
        header = header_text(pilot.app)  # type: ignore[arg-type]
        assert "SIMULATED CLUSTER (sandbox)" in header and "Step 1 of 5" in header


async def test_on_a_narrow_terminal_the_step_list_is_a_drawer(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        steps = screen.query_one(StepList)
        assert steps.region.width == 0, "no room for the step list"
        await pilot.press("l")
        await wait_for(pilot, lambda: steps.region.width > 0, what="the drawer")
        assert steps.has_focus
        assert screen.query_one("#checks").region.width == 0, "the drawer takes the checks' place"
        await pilot.press("escape")
        await wait_for(pilot, lambda: steps.region.width == 0, what="the drawer to close")
        assert screen.query_one("#checks").region.width > 0


async def test_a_terminal_too_small_says_so_and_how_to_fix_it(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await pilot.resize_terminal(50, 12)
        await wait_for(pilot, lambda: isinstance(app.screen, TooSmallScreen), what="the message")
        message = str(app.screen.query_one("#too-small-text").render())
        assert "50×12" in message and "60×15" in message and "--plain" in message
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: not isinstance(app.screen, TooSmallScreen), what="the lesson back")
        assert app.screen is app.lesson_screen


async def test_long_output_says_how_to_see_it_all_and_f_shows_each_run_apart(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        await pilot.press("r")
        seq = screen.command_view("first", 1)
        await wait_for(pilot, lambda: seq.status.startswith("✓"), what="seq to finish")

        def cue() -> str:
            return str(seq.query_one(".command-cue").render()) if seq.query(".command-cue") else ""

        # The cue is redrawn a refresh after the lines it counts: under load, after the status.
        await wait_for(pilot, lambda: "of 20000 lines" in cue(), what="the cue to count every line")
        assert "the last 1000 of 20000 lines" in cue() and "f shows them all" in cue()
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen), what="the output screen")
        text = app.screen.query_one(TextArea).text
        touch, counted = text.split("\n\n")
        assert touch.splitlines() == ["$ touch first.mark", "(no output)", "✓ done"]
        lines = counted.splitlines()
        assert lines[0] == "$ seq 20000" and lines[-1] == "✓ done"
        assert lines[1] == "(its first 19000 lines are not kept: the last 1000 follow)"
        assert lines[2] == "19001"
        assert lines[-2] == "20000", "the newest lines are kept"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the output screen to close")


async def test_the_keys_go_to_the_step_and_never_to_a_hidden_step_list(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        view = screen.step_views["first"]
        await wait_for(pilot, lambda: view.has_focus, what="the step in focus")
        screen.query_one(StepList).focus()
        await pilot.resize_terminal(80, 24)  # the step list goes: its focus goes with it
        await wait_for(pilot, lambda: view.has_focus, what="the step in focus again")
        await pilot.press("pagedown", "pagedown")  # Page Down scrolled a hidden list, and crashed
        await pilot.pause()
        assert app.is_running and view.has_focus
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.session.progress.is_done("first") and not screen.running)
        await pilot.press("n")
        await wait_for(pilot, lambda: screen.current == "slow" and screen.step_views["slow"].has_focus)


async def test_output_past_its_last_1000_lines_shows_the_newest_lines() -> None:
    """Textual's Log repainted only the lines it added once the oldest were dropped: the lines
    on screen kept showing what had been there before (16238 above 19997)."""
    from textual.app import App, ComposeResult

    from tutor.ui.widgets.command_view import OutputLog

    class Shown(App[None]):
        def compose(self) -> ComposeResult:
            yield OutputLog(max_lines=10)

    app = Shown()
    async with app.run_test(size=(20, 6)) as pilot:
        log = app.query_one(OutputLog)
        log.write_lines([str(n) for n in range(1, 11)])
        await pilot.pause()
        log.write_lines([str(n) for n in range(11, 14)])
        await pilot.pause()
        update = app.screen._compositor.render_update(full=True)
        rows = ["".join(segment.text for segment in strip).split() for strip in update.strips]
        assert [row[0] for row in rows if row and row[0].isdigit()] == ["9", "10", "11", "12", "13"]
