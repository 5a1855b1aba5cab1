"""Fixtures for the TUI's tests: the real sandbox, the real session, the real app, driven by the Pilot.

What removes flakiness here, at the source:
- the sandbox has no simulated delays, and each test gets its own sandbox and ports;
- tests wait for a condition (`wait_for`), never for a fixed time;
- snapshots are taken in states with no clocks, temporary paths or ports on screen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import free_port
from tests.polling import wait_until_async
from tutor.lesson.catalog import Catalog
from tutor.lesson.model import Lesson
from tutor.lesson.parser import load
from tutor.sandbox import Delays, Sandbox
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.lesson import LessonScreen

LESSONS = Path(__file__).parent / "lessons"
SIZE = (120, 40)


@pytest.fixture(scope="session")
def day55() -> Lesson:
    return Catalog.discover().get("day55")


@pytest.fixture(scope="session")
def mini() -> Lesson:
    return load(LESSONS / "mini.md")


@pytest.fixture(scope="session")
def quiz() -> Lesson:
    return load(LESSONS / "quiz.md")


def _setup(lesson: Lesson, *, started: bool) -> Iterator[Setup]:
    # As tutor/commands/lesson.py's _cluster_for does for --sandbox, with instant delays and free ports.
    with Sandbox(delays=Delays.instant(), started=started, profile=lesson.profile) as sandbox:
        overrides = {"local_port": str(free_port())} if "local_port" in lesson.variables else {}
        yield Setup(
            kubeconfig=sandbox.kubeconfig,
            overrides=overrides,
            env=sandbox.env(),
            cluster_variables=sandbox.variable_overrides(),
            sandbox=True,
            save_progress=False,
            trust_given=True,  # mini is a lesson from elsewhere: its commands run only when trusted
        )


@pytest.fixture
def day55_setup(day55: Lesson) -> Iterator[Setup]:
    """A fresh sandbox with no cluster yet: day55's first step starts it."""
    yield from _setup(day55, started=False)


@pytest.fixture
def mini_setup(mini: Lesson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    """A started sandbox; the mini lesson's commands and checks work in a fresh folder."""
    monkeypatch.chdir(tmp_path)
    yield from _setup(mini, started=True)


@pytest.fixture
def quiz_setup(quiz: Lesson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    """A started sandbox; the quiz lesson's checks work in a fresh folder."""
    monkeypatch.chdir(tmp_path)
    yield from _setup(quiz, started=True)


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until `condition()` holds; fail with `what` after `timeout` seconds."""
    await wait_until_async(pilot.pause, condition, timeout, what or str(condition))


async def settled(pilot: Pilot[None], frames: int = 3, timeout: float = 10.0) -> None:
    """Wait until nothing on screen scrolls or changes size for `frames` frames in a row: a
    snapshot taken while a scroll or a layout is still to come would differ by a row."""
    seen: list[object] = []

    def still() -> bool:
        offsets = tuple(
            (id(w), w.scroll_offset, w.size, w.virtual_size)
            for w in pilot.app.screen.walk_children()
            if w.is_scrollable
        )
        seen.append(offsets)
        return len(seen) > frames and all(earlier == offsets for earlier in seen[-frames - 1 :])

    await wait_until_async(pilot.pause, still, timeout, "the screen to stop scrolling")


async def wait_for_question(pilot: Pilot[None], what: str = "the question") -> None:
    """Wait until a question is on screen with its text composed (a pushed screen composes
    its children a few frames later on a busy machine)."""
    from tutor.ui.screens.question import QuestionScreen

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, QuestionScreen) and bool(screen.query("#question-text"))

    await wait_for(pilot, shown, what=what)


def screen_of(app: TutorApp) -> LessonScreen:
    return app.lesson_screen


async def opened(pilot: Pilot[None]) -> LessonScreen:
    """The lesson screen once its session is open (connected or not)."""
    app = pilot.app
    assert isinstance(app, TutorApp)
    screen = app.lesson_screen
    await wait_for(pilot, lambda: screen.opened and screen.current is not None, what="the session to open")
    await pilot.pause()
    return screen


def process_running(*argv: str) -> bool:
    """Whether any process on this machine runs exactly `argv` (read from /proc)."""
    wanted = "\0".join(argv).encode() + b"\0"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if cmdline.read().endswith(wanted) and _alive(entry):
                    return True
        except OSError:
            continue
    return False


def _alive(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
