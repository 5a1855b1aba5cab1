"""Questions in the session: answered, retried, revealed, kept with the progress; a blocking one
holds its step, a plain one never does; autoplay shows every answer and runs an already-done
step's commands once."""

from __future__ import annotations

from pathlib import Path

from tests.lesson.helpers import write_lesson
from tests.session.fakes import FakeCluster, attached
from tests.session.quiz_lesson import QUIZ
from tutor.lesson.parser import load
from tutor.lesson.questions import Outcome
from tutor.progress import ProgressStore
from tutor.session.events import CommandStarted, Event, QuestionAnswered, StepCompleted
from tutor.session.session import LessonSession


def make(tmp_path: Path, store: ProgressStore | None = None, cluster: FakeCluster | None = None):  # type: ignore[no-untyped-def]
    lesson = load(write_lesson(tmp_path, QUIZ))
    cluster = cluster or FakeCluster()
    session = LessonSession(
        lesson, variables=lesson.defaults(), cluster="kind-test", store=store or ProgressStore(tmp_path / "state")
    )
    runner = attached(session, cluster)
    events: list[Event] = []
    session.subscribe(events.append)
    return session, cluster, runner, events


def at_step_three(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Steps one and two done, step three (its question blocking) on screen."""
    session, cluster, runner, events = make(tmp_path)
    session.open()
    cluster.satisfy("one")
    cluster.satisfy("two")
    session.show("three")
    return session, cluster, runner, events


def answers(events: list[Event]) -> list[QuestionAnswered]:
    return [event for event in events if isinstance(event, QuestionAnswered)]


def test_an_answer_is_judged_with_the_variables_filled_in_and_every_try_counts(tmp_path: Path) -> None:
    session, _, _, events = make(tmp_path)
    session.open()
    wrong = session.answer("one", "which", "b")
    assert wrong.outcome is Outcome.WRONG and wrong.explanation == "Not this time."
    unreadable = session.answer("one", "which", "z")
    assert unreadable.outcome is Outcome.UNREADABLE
    right = session.answer("one", "which", "shop")  # the choice's text, as the learner reads it
    assert right.correct and right.explanation == "The lesson's namespace is shop."
    told = answers(events)
    assert [(event.answer, event.verdict.outcome, event.tries) for event in told] == [
        ("b", Outcome.WRONG, 1),
        ("z", Outcome.UNREADABLE, 1),
        ("shop", Outcome.CORRECT, 2),
    ]
    record = session.answered("which")
    assert record is not None and record.correct and record.tries == 2 and not record.revealed


def test_answers_are_kept_with_the_progress(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    session, cluster, _, _ = make(tmp_path, store)
    session.open()
    session.answer("one", "which", "a")
    session.close()
    saved = store.load("quiz", "kind-test").answers["which"]
    assert (saved.step, saved.correct, saved.tries) == ("one", True, 1)
    again, _, _, _ = make(tmp_path, store, cluster)
    again.open()
    assert again.answered("which") == saved


def test_a_question_that_is_not_blocking_holds_nothing_up(tmp_path: Path) -> None:
    session, cluster, _, _ = make(tmp_path)
    session.open()
    cluster.satisfy("one")
    assert session.progress.is_done("one")
    assert session.answered("which") is None


def test_a_blocking_question_holds_its_step_until_answered_right(tmp_path: Path) -> None:
    session, cluster, _, events = at_step_three(tmp_path)
    cluster.satisfy("three")
    assert not session.progress.is_done("three")
    assert [question.id for question in session.questions_pending("three")] == ["gate"]
    assert session.answer("three", "gate", "door").explanation == "Close, but no."
    session.reveal("three", "gate")  # seeing the answer is not giving it
    assert not session.progress.is_done("three")
    assert session.answered("gate") is not None and session.answered("gate").revealed  # type: ignore[union-attr]
    session.answer("three", "gate", "`gate`.")
    assert session.progress.is_done("three")
    assert StepCompleted("three") in events
    assert session.questions_pending("three") == ()


def test_a_blocking_question_answered_first_lets_the_checks_finish_the_step(tmp_path: Path) -> None:
    session, cluster, _, _ = at_step_three(tmp_path)
    session.answer("three", "gate", "gate")
    assert not session.progress.is_done("three")
    cluster.satisfy("three")
    assert session.progress.is_done("three")


def test_autoplay_answers_every_question_and_runs_an_already_done_steps_commands_once(tmp_path: Path) -> None:
    session, _, runner, events = make(tmp_path)
    session.open()  # step one's command does step two's work too
    assert session.autoplay()
    told = answers(events)
    assert [(event.question, event.revealed, event.verdict.correct) for event in told] == [
        ("which", True, True),
        ("gate", True, True),
    ]
    assert told[0].answer == "a" and told[1].answer == "Gate"
    assert runner.ran.count(["look", "at", "two"]) == 1
    assert [event.step for event in events if isinstance(event, CommandStarted)] == ["one", "two", "three"]
    gate = session.answered("gate")
    assert gate is not None and gate.correct and gate.tries == 0


def test_an_unknown_question_is_a_key_error(tmp_path: Path) -> None:
    session, _, _, _ = make(tmp_path)
    session.open()
    try:
        session.answer("one", "nope", "a")
    except KeyError:
        pass
    else:
        raise AssertionError("an unknown question must not be judged")
