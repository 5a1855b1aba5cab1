"""The session's rules, with a fake cluster: unlocking, resume and drift, replay, autoplay."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.lesson.helpers import write_lesson
from tests.session.fakes import FakeCluster, attached
from tutor.lesson.parser import load
from tutor.progress import ProgressStore
from tutor.session.events import (
    AutoplayStopped,
    DriftFound,
    Event,
    LessonCompleted,
    LessonOpened,
    Notice,
    ProcessChanged,
    StepCompleted,
    StepRunning,
    StepShown,
)
from tutor.session.session import LessonSession

LESSON = """\
---
id: three
title: Three steps
---

::: step {#one title="One" timeout=2}
```sh
tool do:one
```

> [!TIP]
> First hint.

> [!TIP]
> Second hint.

```yaml {checks}
- kind: exists
  object: deployment/one
```
:::

::: step {#two title="Two" timeout=2}
```sh {background id=fwd ready="ready"}
forward do:two
```

```yaml {checks}
- kind: process_alive
  process: fwd
```
:::

::: step {#three title="Three" timeout=0.5}
```sh
tool do:three
```

```yaml {checks}
- kind: exists
  object: deployment/three
```
:::
"""


def make(  # type: ignore[no-untyped-def]
    tmp_path: Path, store: ProgressStore | None = None, cluster: FakeCluster | None = None, step: str | None = None
):
    lesson = load(write_lesson(tmp_path, LESSON))
    cluster = cluster or FakeCluster()
    session = LessonSession(
        lesson,
        variables=lesson.defaults(),
        cluster="kind-test",
        store=store or ProgressStore(tmp_path / "state"),
        step=step,
    )
    runner = attached(session, cluster)
    events: list[Event] = []
    session.subscribe(events.append)
    return session, cluster, runner, events


def kinds(events: list[Event]) -> list[str]:
    return [type(event).__name__ for event in events]


def test_a_step_completes_when_its_checks_pass_whoever_acted(tmp_path: Path) -> None:
    session, cluster, runner, events = make(tmp_path)
    session.open()
    assert session.viewing.id == "one"
    assert not session.is_unlocked("two")
    cluster.satisfy("one")  # the learner ran the command in their own terminal
    assert session.progress.is_done("one")
    assert session.is_unlocked("two")
    assert runner.ran == []
    assert [e for e in events if isinstance(e, StepCompleted)] == [StepCompleted("one")]
    # The learner decides when to move on; the next step's checks start when shown.
    assert session.viewing.id == "one"
    session.show("two")
    assert cluster.activations == ["one", "two"]


def test_progress_is_saved_as_steps_complete_and_resumed(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    session, cluster, _, _ = make(tmp_path, store)
    session.open()
    cluster.satisfy("one")
    session.close()
    assert store.load("three", "kind-test").completed == ["one"]

    again, _, _, events = make(tmp_path, store, cluster)
    opening = again.open()
    assert opening.current == "two" and opening.drifted == []
    opened = next(e for e in events if isinstance(e, LessonOpened))
    assert opened.completed == ("one",) and opened.current == "two"


def test_resume_reports_drift_and_goes_back(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    session, cluster, _, _ = make(tmp_path, store)
    session.open()
    cluster.satisfy("one")
    session.show("two")
    session.run_step("two")
    assert session.progress.completed == ["one", "two"]
    session.close()

    cluster.satisfy("one", False)  # e.g. the namespace was deleted while the tutor was closed
    again, _, runner, events = make(tmp_path, store, cluster)
    opening = again.open()
    assert opening.drifted == ["one"]
    assert opening.current == "one"
    assert [e.step for e in events if isinstance(e, DriftFound)] == ["one"]
    assert again.progress.completed == ["two"]
    # The done step's port-forward was started again before the checks ran.
    assert ["forward", "do:two"] in runner.ran
    # Shown as drift, never erased: the record changes only by the learner's actions.
    again.close()
    assert store.load("three", "kind-test").completed == ["one", "two"]


def done_then_undone(tmp_path: Path, store: ProgressStore, steps: list[str]) -> FakeCluster:
    """Steps done in one session; then step one's work undone while the tutor was closed."""
    session, cluster, _, _ = make(tmp_path, store)
    session.open()
    cluster.satisfy("one")
    if "two" in steps:
        session.show("two")
        session.run_step("two")
    session.close()
    cluster.satisfy("one", False)
    return cluster


def test_drift_is_done_again_by_the_learner_without_losing_the_record(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    cluster = done_then_undone(tmp_path, store, ["one", "two"])
    again, _, _, events = make(tmp_path, store, cluster)
    again.open()
    assert store.load("three", "kind-test").completed == ["one", "two"]
    again.run_step("one")  # the learner fast-forwards the drifted step
    assert again.progress.completed == ["two", "one"]
    assert StepCompleted("one") in events
    again.close()
    assert store.load("three", "kind-test").completed == ["one", "two"]


def test_replaying_a_later_step_keeps_the_record(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    cluster = done_then_undone(tmp_path, store, ["one"])
    again, _, _, _ = make(tmp_path, store, cluster, step="three")
    opening = again.open()
    assert opening.missing == ["one", "two"] and opening.drifted == ["one"]
    again.close()
    assert store.load("three", "kind-test").completed == ["one"]


def test_replay_a_step_lists_missing_earlier_steps_and_fast_forwards(tmp_path: Path) -> None:
    session, _cluster, runner, events = make(tmp_path, step="three")
    opening = session.open()
    assert opening.missing == ["one", "two"]
    assert session.viewing.id == "three"
    assert session.play(opening.missing)
    assert session.progress.completed == ["one", "two"]
    assert runner.ran[:2] == [["tool", "do:one"], ["forward", "do:two"]]
    session.show("three")
    session.run_step()
    assert isinstance(events[-1], LessonCompleted) or any(isinstance(e, LessonCompleted) for e in events)


def test_autoplay_runs_everything_and_stops_with_the_reason(tmp_path: Path) -> None:
    session, _cluster, _runner, events = make(tmp_path)
    session.open()
    assert session.autoplay()
    assert session.frontier is None
    assert [e.process for e in events if isinstance(e, ProcessChanged) and e.state == "ready"] == ["fwd"]

    stuck, _, stuck_runner, stuck_events = make(tmp_path / "b")
    stuck_runner._effects = lambda argv: None  # type: ignore[method-assign]  # commands change nothing
    stuck.open()
    assert not stuck.autoplay()
    stopped = [e for e in stuck_events if isinstance(e, AutoplayStopped)]
    assert stopped and stopped[0].step == "one" and "did not pass within 2 s" in stopped[0].reason
    assert stopped[0].checks[0].result.status == "waiting"


def test_autoplay_tells_a_step_is_done_before_it_shows_the_next(tmp_path: Path) -> None:
    session, _cluster, _runner, events = make(tmp_path)
    session.open()
    assert session.autoplay()
    told = [
        (type(e).__name__, e.step) + ((e.running,) if isinstance(e, StepRunning) else ())
        for e in events
        if isinstance(e, StepCompleted | StepShown | StepRunning)
    ]
    for step, following in (("one", "two"), ("two", "three")):
        assert told.index(("StepCompleted", step)) < told.index(("StepShown", following))
        # The commands are framed, and the frame ends before the next step is shown.
        assert told.index(("StepRunning", step, True)) < told.index(("StepRunning", step, False))
        assert told.index(("StepRunning", step, False)) < told.index(("StepShown", following))


def test_hints_come_one_at_a_time(tmp_path: Path) -> None:
    session, _, _, _ = make(tmp_path)
    session.open()
    first, second = session.hint(), session.hint()
    assert first is not None and first.markdown == "First hint."
    assert second is not None and second.markdown == "Second hint."
    assert session.hint() is None


def test_locked_steps_cannot_be_shown(tmp_path: Path) -> None:
    session, _, _, _ = make(tmp_path)
    session.open()
    with pytest.raises(ValueError, match="locked until 'one' is done"):
        session.show("three")


def test_close_stops_processes_and_ignores_late_results(tmp_path: Path) -> None:
    session, cluster, runner, events = make(tmp_path)
    session.open()
    cluster.satisfy("one")
    session.show("two")
    session.run_step()
    session.close()
    assert runner.stopped
    before = list(events)
    cluster.satisfy("three")
    assert events == before
    assert not session.progress.is_done("three")


def test_fast_forward_is_asked_once_the_earlier_steps_are_checked(tmp_path: Path) -> None:
    session, _cluster, runner, _events = make(tmp_path, step="three")
    asked: list[list[str]] = []
    opening = session.open(fast_forward=lambda opening: asked.append(list(opening.missing)) is None)
    assert asked == [["one", "two"]]
    assert opening.fast_forwarded is True
    assert runner.ran[:2] == [["tool", "do:one"], ["forward", "do:two"]]
    assert session.viewing.id == "three"

    declined, _, declined_runner, _ = make(tmp_path / "b", step="three")
    assert declined.open(fast_forward=lambda _: False).fast_forwarded is None
    assert declined_runner.ran == []


def test_a_run_asked_for_before_the_lesson_opens_waits_for_it(tmp_path: Path) -> None:
    session, _cluster, runner, _events = make(tmp_path)
    ran = threading.Thread(target=session.run_step, args=("one",))
    ran.start()
    ran.join(0.2)
    assert ran.is_alive() and runner.ran == []  # not before the lesson is open
    session.open()
    ran.join(5)
    assert runner.ran == [["tool", "do:one"]]
    assert session.progress.is_done("one")


def test_a_run_asked_for_a_step_the_lesson_did_not_open_on_is_not_run(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    cluster = done_then_undone(tmp_path, store, ["one"])
    # Drawn on "two" (the saved progress), whose Run the learner presses before the cluster is
    # reached; step one no longer holds there, so the lesson opens on "one": not what was pressed.
    again, _, runner, events = make(tmp_path, store, cluster)
    assert again.viewing.id == "two"
    ran = threading.Thread(target=again.run_step, args=("two",))
    ran.start()
    again.open()
    ran.join(5)
    assert again.viewing.id == "one" and runner.ran == []
    assert any(isinstance(e, Notice) and "opened on “One”" in e.text for e in events)


def test_a_session_closed_before_its_cluster_is_attached_closes_what_it_is_given(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, LESSON))
    session = LessonSession(lesson, variables=lesson.defaults())
    session.close()
    runner = attached(session)
    assert runner.stopped
    assert session.run_step("one") == []
