"""A kubectl table wider than the output panel, read on the screen as a learner reads it:
folded into bands once the command has ended, every column the prose talks about in view
without a key press, the table as printed again when the panel is wide enough, and `f`
always showing it as printed."""

from __future__ import annotations

import re

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from tests.ui.conftest import settled, wait_for, wait_for_question
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.screens.output import OutputScreen
from tutor.ui.widgets.command_view import CommandView

PV_COLUMNS = ("NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "AGE")
"""kubectl get pv's columns: the volumes step's prose speaks of the name, RECLAIM POLICY and RWO."""


def screen_rows(pilot: Pilot[None]) -> list[str]:
    """The characters on the terminal, row by row, as drawn."""
    update = pilot.app.screen._compositor.render_update(full=True)
    return ["".join(segment.text for segment in strip) for strip in update.strips]


def panel_rows(pilot: Pilot[None], view: CommandView) -> list[str]:
    """The rows of the screen inside the command's output panel (its scroll bars left out), as drawn there."""
    region = view.query_one(".command-output").scrollable_content_region
    rows = screen_rows(pilot)[region.y : region.bottom]
    return [row[region.x : region.right] for row in rows]


def assert_all_on_screen(pilot: Pilot[None], view: CommandView) -> None:
    """Every column name and cell the command printed is drawn in its panel, none cut at its
    edge or scrolled away."""
    output = view.query_one(".command-output")
    assert output.virtual_size.width <= output.scrollable_content_region.width, f"{view.text}: cut at the edge"
    assert output.max_scroll_y == 0 and output.scroll_offset == (0, 0), f"{view.text}: rows out of view"
    shown = "\n".join(panel_rows(pilot, view))
    for line in view.output:
        for cell in re.split(r"\s{2,}", line.strip()):
            assert cell in shown, f"{view.text}: {cell!r} not on screen:\n{shown}"


async def run_volumes(pilot: Pilot[None], app: TutorApp) -> tuple[LessonScreen, CommandView]:
    """The volumes step, reached by fast-forward, its commands run: the view of `kubectl get pv`."""
    screen = app.lesson_screen
    await wait_for_question(pilot, what="the replay question")
    await pilot.press("y")  # fast-forward: start, the default class, the deployment
    await wait_for(pilot, lambda: screen.current == "volumes" and not screen.running, timeout=90, what="volumes")
    await pilot.press("r")
    views = screen.step_views["volumes"].command_views
    await wait_for(pilot, lambda: all(view.status.startswith("✓") for view in views), timeout=60, what="the step run")
    await wait_for(pilot, lambda: not screen.running, what="the run's end")
    view = views[0]
    assert view.text == "kubectl get pv"
    await wait_for(pilot, lambda: view.folded == 1, what="the table folded")
    await in_view(pilot, view)
    return screen, view


async def in_view(pilot: Pilot[None], view: CommandView) -> None:
    await settled(pilot)
    view.scroll_visible(animate=False)
    await settled(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda size: f"{size[0]}x{size[1]}")
async def test_every_column_of_the_volumes_step_is_on_screen_without_a_key(
    day55: Lesson, day55_setup: Setup, size: tuple[int, int]
) -> None:
    app = TutorApp(day55, day55_setup, step_id="volumes")
    async with app.run_test(size=size) as pilot:
        screen, view = await run_volumes(pilot, app)
        printed = list(view.output)
        volume = printed[1].split()[0]
        assert volume.startswith("pvc-")
        assert len(printed[0]) > view.query_one(".command-output").region.width, "wider than the panel"
        shown = "\n".join(panel_rows(pilot, view))
        for column in PV_COLUMNS:
            assert column in shown, f"{column} not on screen:\n{shown}"
        for value in (
            volume,
            "1Gi",
            "RWO",
            "Delete",
            "Bound",
            f"{day55.namespace}/mongo-data-mongo-0",
            "csi-hostpath-sc",
        ):
            assert value in shown, f"{value} not on screen:\n{shown}"
        cue_region = view.query_one(".command-cue").region
        rows = screen_rows(pilot)[cue_region.y : cue_region.bottom]
        cue = " ".join(" ".join(row[cue_region.x : cue_region.right] for row in rows).split())
        assert cue == "⇲ table folded to fit: f shows it as printed"

        # Every table of the step: each column and cell in the panel, nothing to scroll to.
        folded = [table for table in screen.step_views["volumes"].command_views if table.folded]
        assert [table.text.split(" -")[0] for table in folded] == [
            "kubectl get pv",
            "kubectl get pvc",
            "kubectl get pv",
        ]
        for table in folded:
            await in_view(pilot, table)
            assert_all_on_screen(pilot, table)

        # The full-screen view shows the output as kubectl printed it.
        await in_view(pilot, view)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen), what="the output screen")
        area = app.screen.query_one(TextArea)
        assert "\n".join(printed) in area.text
        await pilot.press("w")
        await wait_for(pilot, lambda: not area.soft_wrap, what="lines unwrapped")
        await pilot.pause()
        # Unwrapped, the header's row is followed by the volume's row, their columns lined up.
        rows = [row.strip("█│ ") for row in screen_rows(pilot)]
        header = next(index for index, row in enumerate(rows) if row.startswith("NAME "))
        assert printed[0].startswith(rows[header]) and len(rows[header]) > 60
        assert printed[1].startswith(rows[header + 1])
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the step again")


async def test_a_wider_panel_refolds_and_a_wide_enough_one_shows_the_table_as_printed(
    day55: Lesson, day55_setup: Setup
) -> None:
    app = TutorApp(day55, day55_setup, step_id="volumes")
    async with app.run_test(size=(80, 24)) as pilot:
        _, view = await run_volumes(pilot, app)
        printed = list(view.output)
        output = view.query_one(".command-output")

        await pilot.resize_terminal(160, 48)
        await wait_for(pilot, lambda: output.region.width > 60, what="the wider panel")
        await settled(pilot)
        view.scroll_visible(animate=False)
        await settled(pilot)
        rows = [row.rstrip() for row in panel_rows(pilot, view)]
        headers = [row for row in rows if row.startswith("NAME ")]
        assert len(headers) > 1, f"the name repeated in each band:\n{rows}"
        assert sum(row.startswith(printed[1].split()[0]) for row in rows) == len(headers)
        assert any("RECLAIM POLICY" in row for row in headers)
        assert output.virtual_size.width <= output.scrollable_content_region.width

        await pilot.resize_terminal(280, 60)
        await wait_for(pilot, lambda: view.folded == 0, what="the table as printed")
        await settled(pilot)
        view.scroll_visible(animate=False)
        await settled(pilot)
        rows = [row.rstrip() for row in panel_rows(pilot, view)]
        assert rows[: len(printed)] == printed
        assert not view.query(".command-cue") or not view.query_one(".command-cue").display

        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: view.folded == 1, what="folded again")


async def run_printing(pilot: Pilot[None], lines: list[str]) -> CommandView:
    """The mini lesson's second command, drawn as a run that printed `lines` and is still running."""
    app = pilot.app
    assert isinstance(app, TutorApp)
    screen = app.lesson_screen
    await wait_for(pilot, lambda: screen.opened, what="the session")
    view = screen.command_view("first", 1)
    view.started(1)
    view.write(lines)
    await settled(pilot)
    return view


async def test_a_table_is_not_folded_while_its_command_runs(mini: Lesson, mini_setup: Setup) -> None:
    """Rows of a running command (a watch) are shown as they come; the fold waits for its end."""
    async with TutorApp(mini, mini_setup).run_test(size=(80, 24)) as pilot:
        table = [
            "NAME      READY   STATUS    RESTARTS   AGE   IP            NODE       NOMINATED NODE   READINESS GATES",
            "mongo-0   1/1     Running   0          4s    127.244.0.9   minikube   <none>           <none>",
        ]
        view = await run_printing(pilot, table)
        assert view.folded == 0
        view.finished(True, 0, "")
        await wait_for(pilot, lambda: view.folded == 1, what="the fold at the end")
        # A line after the end (a note from the tutor) goes below the output as printed; a
        # table that runs on into other text is not one to fold.
        view.write(["(a note)"])
        await wait_for(pilot, lambda: view.folded == 0, what="the output as printed")
        await settled(pilot)
        output = view.query_one(".command-output")
        assert [line.rstrip() for line in output.lines] == [*table, "(a note)"]
        assert list(view.output) == [*table, "(a note)"]


async def test_a_long_line_of_text_wraps_to_the_panel(mini: Lesson, mini_setup: Setup) -> None:
    """The game's answer names the pod that served it at its very end: at 80x24 it is read whole."""
    async with TutorApp(mini, mini_setup).run_test(size=(80, 24)) as pilot:
        answer = '{"cloud":"unknown","zone":"unknown","host":"pacman-7f7cd74f7-gl8vc"}'
        view = await run_printing(pilot, [answer])
        await wait_for(pilot, lambda: view.wrapped == 1, what="the line wrapped")
        view.finished(True, 0, "")
        await in_view(pilot, view)
        rows = [row.rstrip() for row in panel_rows(pilot, view)]
        assert "".join(rows) == answer
        output = view.query_one(".command-output")
        assert output.virtual_size.width <= output.scrollable_content_region.width
        cue = view.query_one(".command-cue")
        assert " ".join(str(cue.render()).split()) == "⇲ a long line wrapped: f shows it as printed"
        await pilot.resize_terminal(160, 48)
        await wait_for(pilot, lambda: view.wrapped == 0, what="the line as printed")


async def test_a_running_commands_long_lines_wrap_as_they_come_the_newest_in_view(
    mini: Lesson, mini_setup: Setup
) -> None:
    """A background command's note (the sandbox's tunnel says where it serves the Ingress)."""
    note = "* sandbox: LoadBalancer service pacman gets EXTERNAL-IP 127.0.0.1 while the tunnel runs"
    async with TutorApp(mini, mini_setup).run_test(size=(80, 24)) as pilot:
        view = await run_printing(pilot, ["* Tunnel successfully started"])
        await wait_for(pilot, lambda: view.query_one(".command-output").size.width > 0, what="the panel laid out")
        await settled(pilot)
        for count in range(1, 21):
            view.write([f"{count}: {note}"])
        await wait_for(pilot, lambda: view.wrapped == 20, what="each note wrapped")
        await in_view(pilot, view)
        output = view.query_one(".command-output")
        assert output.virtual_size.width <= output.scrollable_content_region.width
        shown = "".join(panel_rows(pilot, view)).replace(" ", "")
        assert shown.endswith(f"20: {note}".replace(" ", "")), panel_rows(pilot, view)
        assert list(view.output)[-1] == f"20: {note}", "kept as printed"
