"""The step the TUI draws before the session exists is the one `open` will show."""

from __future__ import annotations

from pathlib import Path

from tutor.lesson.model import Lesson
from tutor.progress import ProgressStore
from tutor.session.expected import expected_step
from tutor.session.setup import Setup


def test_a_replayed_step_is_the_one_named(day55: Lesson) -> None:
    assert expected_step(day55, Setup(), "deploy") == "deploy"


def test_a_fresh_learner_and_the_sandbox_start_at_the_top(day55: Lesson) -> None:
    store = ProgressStore()
    progress = store.load("day55", "mc-demo")
    progress.mark_done("start")
    store.save(progress)
    assert expected_step(day55, Setup(sandbox=True, save_progress=False)) == "start"
    assert expected_step(day55, Setup(profile="other")) == "start"


def test_a_resumed_lesson_opens_where_the_saved_progress_stops(day55: Lesson) -> None:
    store = ProgressStore()
    progress = store.load("day55", "mc-demo")
    for step in ("start", "default-storageclass"):
        progress.mark_done(step)
    store.save(progress)
    assert expected_step(day55, Setup()) == "deploy"
    assert expected_step(day55, Setup(context="kind-kind")) == "start"  # another cluster's progress
    for step in day55.steps:
        progress.mark_done(step.id)
    store.save(progress)
    assert expected_step(day55, Setup()) == day55.steps[-1].id


def test_an_unreadable_progress_file_is_left_for_the_session_to_report(day55: Lesson) -> None:
    store = ProgressStore()
    path: Path = store.path("day55", "mc-demo")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert expected_step(day55, Setup()) == "start"
    assert path.read_text(encoding="utf-8") == "{not json"  # not moved aside: `load` does that, and says so
    assert store.load("day55", "mc-demo").notice is not None
