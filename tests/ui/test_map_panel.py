"""The object map as a panel under the step on a wide terminal, against the real sandbox and
session, driven by the Pilot: live at 160x48 as `mongo-0` goes and comes back to its claim,
absent below 150 columns (where `m` opens the map's screen), following a resize either way,
and the map's watches open exactly while a map is in view."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from tests.conftest import free_port
from tests.ui.conftest import opened, wait_for
from tests.ui.test_help import palette_hits, screen_text
from tutor.lesson.model import Lesson
from tutor.sandbox import Delays, Sandbox
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.presenter import Presentation
from tutor.ui.screens.keys import KeysScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.screens.object_map import ObjectMapScreen
from tutor.ui.widgets.object_map_tree import ObjectMapView

WIDE = (160, 48)
NORMAL = (120, 40)
NARROW = (100, 30)
ENDPOINTS = r"/endpoints"
"""A kind only the map watches on day55's first step: its watch is open while a map is in view."""


@pytest.fixture
def cluster(day55: Lesson) -> Iterator[tuple[Setup, Sandbox]]:
    """A sandbox whose cluster runs already, and the Setup that points the tutor at it. A pod
    deleted stays Terminating a second, as on a real cluster: long enough to be drawn."""
    delays = dataclasses.replace(Delays.instant(), pod_termination=1.0)
    with Sandbox(delays=delays, started=True, profile=day55.profile) as sandbox:
        yield (
            Setup(
                kubeconfig=sandbox.kubeconfig,
                overrides={"local_port": str(free_port())},
                env=sandbox.env(),
                cluster_variables=sandbox.variable_overrides(),
                sandbox=True,
                save_progress=False,
            ),
            sandbox,
        )


def _kubectl(setup: Setup, *args: str) -> None:
    done = subprocess.run(
        ["kubectl", *args], env={**os.environ, **setup.env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _map_watches_open(sandbox: Sandbox) -> bool:
    return any(record.status is None for record in sandbox.requests.records(path=ENDPOINTS, watch=True))


def _under_its_claim(lines: list[str], pod_line: str) -> bool:
    pod = next((i for i, line in enumerate(lines) if line.strip().startswith(pod_line)), None)
    return pod is not None and lines[pod - 1].strip().startswith(
        "PersistentVolumeClaim pacman/mongo-data-mongo-0 Bound"
    )


def _footer(app: TutorApp) -> str:
    return screen_text(app)[-1]


def _mongo_under_its_claim(lines: list[str]) -> bool:
    return _under_its_claim(lines, "Pod pacman/mongo-0 Running 1/1")


async def _panel(pilot: Pilot[None], screen: LessonScreen) -> ObjectMapView:
    await wait_for(pilot, lambda: screen.map_panel is not None, what="the map's panel")
    panel = screen.map_panel
    assert panel is not None
    return panel


async def test_wide_the_panel_is_live_as_mongo_0_goes_and_comes_back(
    day55: Lesson, cluster: tuple[Setup, Sandbox]
) -> None:
    setup, _ = cluster
    app = TutorApp(day55, setup)
    async with app.run_test(size=WIDE) as pilot:
        screen = await opened(pilot)
        panel = await _panel(pilot, screen)
        # Beside the lesson, under the step: the step keeps a readable width and most of its height.
        await wait_for(pilot, lambda: panel.region.height > 0, what="the panel laid out")
        step = screen.step_views[screen.current]
        assert panel.region.width == step.region.width >= 80
        assert panel.region.y >= step.region.bottom and panel.region.bottom <= WIDE[1] - 1
        assert step.region.height >= 20
        assert screen.session.map_shown
        await wait_for(
            pilot,
            lambda: any("StatefulSet pacman/mongo not created yet" in line for line in panel.lines()),
            what=f"the lesson's objects not created yet: {panel.lines()}",
        )

        drawn: list[list[str]] = []
        draw = panel.show_map

        def recorded(found: object) -> None:
            draw(found)  # type: ignore[arg-type]
            drawn.append(panel.lines())

        panel.show_map = recorded  # type: ignore[method-assign]
        _kubectl(setup, "create", "-f", f"{screen.session.variables['manifests']}/day55/pacman-stateful.yaml")
        await wait_for(pilot, lambda: _mongo_under_its_claim(panel.lines()), timeout=30, what="mongo-0 under its claim")

        since = len(drawn)
        _kubectl(setup, "delete", "pod", "mongo-0", "-n", "pacman", "--wait=false")

        def gone_then_back() -> bool:
            after = drawn[since:]
            gone = next((i for i, lines in enumerate(after) if not _mongo_under_its_claim(lines)), None)
            return gone is not None and any(_mongo_under_its_claim(lines) for lines in after[gone + 1 :])

        await wait_for(pilot, gone_then_back, timeout=30, what=f"mongo-0 going and coming back: {drawn[since:]}")
        # It went Terminating under its claim, which stayed bound: the claim it comes back under.
        assert any(_under_its_claim(lines, "Pod pacman/mongo-0 Terminating") for lines in drawn[since:])


async def test_below_150_columns_no_panel_and_m_opens_the_screen(day55: Lesson, cluster: tuple[Setup, Sandbox]) -> None:
    setup, sandbox = cluster
    app = TutorApp(day55, setup)
    async with app.run_test(size=NORMAL) as pilot:
        screen = await opened(pilot)
        await wait_for(pilot, lambda: screen._map_possible, what="the lesson's subjects read")
        await pilot.pause()
        assert screen.map_panel is None and not screen.query("#map-panel")
        # No map in view: the session keeps none, and the map's own watches were never opened.
        assert not screen.session.map_shown
        assert not sandbox.requests.records(path=ENDPOINTS, watch=True)

        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectMapScreen), what="the map's screen")
        await wait_for(pilot, lambda: _map_watches_open(sandbox), what="the map's watches")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the lesson")
        assert not screen.session.map_shown
        await wait_for(pilot, lambda: not _map_watches_open(sandbox), what="the map's watches to end")


async def test_resizing_across_150_columns_shows_and_hides_the_panel(
    day55: Lesson, cluster: tuple[Setup, Sandbox]
) -> None:
    setup, sandbox = cluster
    app = TutorApp(day55, setup)
    async with app.run_test(size=WIDE) as pilot:
        screen = await opened(pilot)
        panel = await _panel(pilot, screen)
        await wait_for(pilot, lambda: _map_watches_open(sandbox), what="the panel's watches")
        await wait_for(pilot, lambda: "m Map panel" in _footer(app), what=f"the footer's m: {_footer(app)}")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        keys = "\n".join(screen_text(app))
        # m is listed once, as what it does now.
        assert keys.count("Into the live map under the step") == 1, keys
        assert "What the lesson has built and how it hangs together" not in keys, keys
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the lesson")
        await pilot.press("m")
        assert screen.focused is panel.map_tree  # m goes into the panel

        await pilot.resize_terminal(*NARROW)
        await wait_for(pilot, lambda: screen.map_panel is None, what="the panel gone at 100 columns")
        await pilot.pause()
        assert panel.region.area == 0
        assert screen.focused is screen.step_views[screen.current]  # the keys are back on the step
        # m opens the screen now (the footer has no room for it at 100 columns; ? lists it).
        assert screen.active_bindings["m"].binding.action == "object_map"
        assert not screen.session.map_shown
        await wait_for(pilot, lambda: not _map_watches_open(sandbox), what="the panel's watches to end")

        await pilot.resize_terminal(*WIDE)
        assert await _panel(pilot, screen) is panel
        await wait_for(pilot, lambda: panel.region.area > 0, what="the panel drawn again")
        assert screen.session.map_shown
        await wait_for(
            pilot,
            lambda: any("StatefulSet pacman/mongo not created yet" in line for line in panel.lines()),
            what="the map drawn again",
        )
        await wait_for(pilot, lambda: _map_watches_open(sandbox), what="the panel's watches again")


async def test_the_screen_closed_over_the_panel_leaves_it_live(day55: Lesson, cluster: tuple[Setup, Sandbox]) -> None:
    setup, sandbox = cluster
    app = TutorApp(day55, setup)
    async with app.run_test(size=WIDE) as pilot:
        screen = await opened(pilot)
        panel = await _panel(pilot, screen)
        await pilot.press("m")  # into the panel
        await pilot.press("m")  # m again: the map full-screen
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectMapScreen), what="the map's screen")
        shown = app.screen
        assert isinstance(shown, ObjectMapScreen)
        await wait_for(
            pilot,
            lambda: any("StatefulSet pacman/mongo not created yet" in line for line in shown.lines()),
            what="the map on its screen, at once",
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the lesson")
        assert screen.session.map_shown and _map_watches_open(sandbox)
        assert screen.focused is panel.map_tree
        await pilot.press("escape")
        assert screen.focused is screen.step_views[screen.current]
        # The palette's "Object map" opens the screen too, and closing it leaves the panel live as well.
        assert any("Object map" in hit for hit in await palette_hits(pilot, "object map"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectMapScreen), what="the map's screen from the palette")
        await pilot.press("m")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the lesson")
        assert screen.session.map_shown and _map_watches_open(sandbox)

        # Still live: what is made now shows in the panel.
        _kubectl(setup, "create", "-f", f"{screen.session.variables['manifests']}/day55/pacman-stateful.yaml")
        await wait_for(pilot, lambda: _mongo_under_its_claim(panel.lines()), timeout=30, what="mongo-0 in the panel")


async def test_an_open_screen_survives_a_resize_to_wide(day55: Lesson, cluster: tuple[Setup, Sandbox]) -> None:
    setup, _ = cluster
    app = TutorApp(day55, setup)
    async with app.run_test(size=NARROW) as pilot:
        screen = await opened(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectMapScreen), what="the map's screen")
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        shown = app.screen
        assert isinstance(shown, ObjectMapScreen)
        assert shown.query_one("#map-tree").region.width > 150  # it fills the wider terminal
        await pilot.press("m")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the lesson")
        # Resized while the lesson was under the map: it takes the wide layout as it comes back.
        panel = await _panel(pilot, screen)
        assert screen.has_class("-wide") and not screen.has_class("-narrow")
        await wait_for(pilot, lambda: panel.region.area > 0, what="the panel drawn")
        assert screen.session.map_shown


async def test_no_panel_in_presenter_mode(day55: Lesson, cluster: tuple[Setup, Sandbox]) -> None:
    setup, sandbox = cluster
    app = TutorApp(day55, setup, presentation=Presentation(present=True))
    async with app.run_test(size=WIDE) as pilot:
        screen = await opened(pilot)
        await wait_for(pilot, lambda: screen._map_possible, what="the lesson's subjects read")
        await pilot.pause()
        assert screen.map_panel is None and not screen.session.map_shown
        assert not sandbox.requests.records(path=ENDPOINTS, watch=True)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectMapScreen), what="the map's screen")
