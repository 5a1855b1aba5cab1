"""The object map's screen (`m`) against the real sandbox and session, driven by the Pilot at
80x24: it draws what day55 builds as it changes, and its watches end when it closes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from textual.widgets import Static, Tree

from tests.ui.conftest import _setup, opened, wait_for
from tutor.cluster.object_map import MapNode
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.screens.object_map import ObjectMapScreen
from tutor.ui.widgets.object_map_tree import node_label

SMALL = (80, 24)


@pytest.fixture
def day55_started(day55: Lesson) -> Iterator[Setup]:
    """A sandbox whose cluster runs already: the map has something to show."""
    yield from _setup(day55, started=True)


def _kubectl(setup: Setup, *args: str) -> None:
    done = subprocess.run(
        ["kubectl", *args], env={**os.environ, **setup.env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def test_m_shows_the_map_live_and_its_watches_end_with_it(day55: Lesson, day55_started: Setup) -> None:
    app = TutorApp(day55, day55_started)
    async with app.run_test(size=SMALL) as pilot:
        screen = await opened(pilot)
        session = screen.session
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ObjectMapScreen), what="the map screen")
        shown = app.screen
        assert isinstance(shown, ObjectMapScreen)
        assert session.map_shown
        # Nothing deployed yet: the lesson's objects are there, not created yet, with their steps.
        await wait_for(
            pilot,
            lambda: any("StatefulSet pacman/mongo not created yet" in line for line in shown.lines()),
            what=f"the lesson's objects not created yet: {shown.lines()}",
        )
        assert any(line.endswith("step: deploy") for line in shown.lines())

        manifest = f"{session.variables['manifests']}/day55/pacman-stateful.yaml"
        _kubectl(day55_started, "create", "-f", manifest)

        def mongo_under_its_claim() -> bool:
            lines = shown.lines()
            pod = next(
                (i for i, line in enumerate(lines) if line.strip().startswith("Pod pacman/mongo-0 Running 1/1")), None
            )
            return pod is not None and lines[pod - 1].strip().startswith(
                "PersistentVolumeClaim pacman/mongo-data-mongo-0 Bound"
            )

        await wait_for(pilot, mongo_under_its_claim, timeout=30, what=f"mongo-0 under its claim: {shown.lines()}")
        lines = shown.lines()
        claim = next(line for line in lines if line.lstrip().startswith("PersistentVolumeClaim pacman/mongo-data"))
        pod = next(line for line in lines if line.lstrip().startswith("Pod pacman/mongo-0 "))
        assert len(pod) - len(pod.lstrip()) > len(claim) - len(claim.lstrip())  # drawn under it
        assert any(line.strip().startswith("→ owns Pod pacman/mongo-0") for line in lines)
        # It fits: the tree and the footer on an 80x24 terminal, the title's line its own.
        tree = shown.query_one("#map-tree", Tree)
        assert tree.region.bottom <= SMALL[1] and tree.region.right <= SMALL[0]
        assert tree.region.height >= 10
        assert "What the lesson builds" in str(shown.query_one("#map-title", Static).render())

        # Folded by the learner, a branch stays folded when the map is redrawn.
        tree.focus()
        target = next(
            tree.get_node_at_line(i)
            for i in range(tree.last_line + 1)
            if (node := tree.get_node_at_line(i)) is not None and node.data == ("StatefulSet", "pacman", "mongo", "")
        )
        assert target is not None
        target.collapse()
        await pilot.pause()
        _kubectl(day55_started, "scale", "deployment/pacman", "-n", "pacman", "--replicas=2")
        await wait_for(
            pilot,
            lambda: sum(1 for line in shown.lines() if line.strip().startswith("Pod pacman/pacman-")) == 2,
            timeout=30,
            what=f"the second game pod: {shown.lines()}",
        )
        assert not any(line.strip().startswith("→ owns Pod pacman/mongo-0") for line in shown.lines())

        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen), what="back to the lesson")
        assert not session.map_shown and session.object_map is None


def test_a_label_says_state_in_colour_and_the_step() -> None:
    label = node_label(MapNode("Pod", "mongo-0", "pacman", "Terminating", "leaving", "deploy"))
    assert label.plain == "Pod pacman/mongo-0 Terminating  step: deploy"
    assert any(span.style == "bold magenta" for span in label.spans)
    hostile = node_label(MapNode("Pod", "x", "ns", "Waiting \x1b[2J\x07", "failing", None))
    assert "\x1b" not in hostile.plain and "\x07" not in hostile.plain
