"""Plain line mode as a learner at the keyboard meets it: questions asked and answered (with
retries, skips and the answer shown), a step already done when it comes (its commands still
worth running), and the same lesson without a keyboard and in autoplay, which never stall."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lesson.helpers import write_lesson
from tests.polling import wait_until
from tests.session.fakes import FakeCluster, FakeRunner, attached
from tests.session.quiz_lesson import QUIZ
from tutor.lesson.parser import load
from tutor.plain.view import HELP, PlainView
from tutor.progress import ProgressStore
from tutor.session.session import LessonSession


class Learner:
    """The plain view running on its own thread, with a keyboard this test types on."""

    def __init__(self, session: LessonSession, *, interactive: bool = True, autoplay: bool = False) -> None:
        self.out = io.StringIO()
        self.view = PlainView(session, self.out, interactive=interactive)
        read, self._write = os.pipe()
        self._keys = os.fdopen(self._write, "w", buffering=1)
        stream = os.fdopen(read) if interactive else None
        self.status: list[int] = []
        self.thread = threading.Thread(
            target=lambda: self.status.append(self.view.run(autoplay=autoplay, input_stream=stream)), daemon=True
        )
        self.thread.start()

    @property
    def text(self) -> str:
        return self.out.getvalue()

    def type(self, line: str) -> None:
        self._keys.write(line + "\n")

    def sees(self, text: str, after: int = 0) -> int:
        """Wait until `text` is printed after position `after`; where it ends."""
        found = wait_until(lambda: self.text.find(text, after) + 1, what=repr(text))
        return int(found) - 1 + len(text)

    def close(self) -> None:
        self._keys.close()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[LessonSession]:
    lesson = load(write_lesson(tmp_path, QUIZ))
    session = LessonSession(
        lesson, variables=lesson.defaults(), cluster="kind-test", store=ProgressStore(tmp_path / "state")
    )
    attached(session, FakeCluster())
    yield session
    session.close()


def runner_of(session: LessonSession) -> FakeRunner:
    runner = session._runner
    assert isinstance(runner, FakeRunner)
    return runner


def test_the_key_line_says_that_keys_need_enter(session: LessonSession) -> None:
    assert HELP.startswith("Type a key, then press Enter.")
    learner = Learner(session)
    learner.sees(HELP)
    learner.type("q")
    wait_until(lambda: learner.status, what="the view to end")


def test_a_question_is_asked_on_going_on_and_may_be_tried_again(session: LessonSession) -> None:
    learner = Learner(session)
    at = learner.sees("Question: Which namespace does the shop run in?\n  a) shop\n  b) default\n")
    learner.type("")  # Enter: run the step's commands
    at = learner.sees("Press Enter for its question, then the next step.", at)
    learner.type("")  # going on: the question first
    at = learner.sees("Your answer: a letter from a to b and Enter (Enter alone skips it).", at)
    learner.type("z")
    at = learner.sees("Answer with a letter from a to b.", at)
    learner.type("2")
    at = learner.sees("[not quite] Not this time.\n  Try again, or press Enter to go on.", at)
    learner.type("A")
    at = learner.sees("[right] The lesson's namespace is shop.", at)
    learner.sees("Step 2 of 3: Look at what it made", at)
    answer = session.answered("which")
    assert answer is not None and answer.correct and answer.tries == 2
    learner.type("q")


def test_enter_alone_skips_a_question(session: LessonSession) -> None:
    learner = Learner(session)
    learner.type("")
    at = learner.sees("Press Enter for its question, then the next step.")
    learner.type("")
    at = learner.sees("Enter alone skips it", at)
    learner.type("")
    learner.sees("Step 2 of 3: Look at what it made", at)
    assert session.answered("which") is None
    learner.type("q")


def test_a_step_already_done_shows_its_commands_and_runs_them_on_enter(session: LessonSession) -> None:
    learner = Learner(session)
    learner.type("")
    at = learner.sees("Press Enter for its question, then the next step.")
    learner.type("n")  # on, without answering
    at = learner.sees("Step 2 of 3: Look at what it made", at)
    at = learner.sees("    $ look at two\n", at)
    at = learner.sees("This step's checks already pass. Press Enter to run its commands anyway", at)
    learner.type("")
    at = learner.sees("[run] $ look at two\n  | look at two\n[done] look at two", at)
    at = learner.sees("Press Enter to go on to the next step.", at)
    assert runner_of(session).ran.count(["look", "at", "two"]) == 1
    learner.type("")
    learner.sees("Step 3 of 3: Three", at)
    assert runner_of(session).ran.count(["look", "at", "two"]) == 1
    learner.type("q")


def on_to_step_three(learner: Learner) -> int:
    """Step one run, its question left, step two (already done) left with `n`: where step three begins."""
    learner.type("")
    learner.sees("Press Enter for its question, then the next step.")
    learner.type("n")
    at = learner.sees("Press Enter to run its commands anyway")
    learner.type("n")
    return learner.sees("Step 3 of 3: Three", at)


def test_n_leaves_an_already_done_step_without_running_it(session: LessonSession) -> None:
    learner = Learner(session)
    on_to_step_three(learner)
    assert ["look", "at", "two"] not in runner_of(session).ran
    learner.type("q")


def test_a_blocking_question_is_asked_once_the_checks_pass_and_the_step_waits_for_it(session: LessonSession) -> None:
    learner = Learner(session)
    at = on_to_step_three(learner)
    at = learner.sees("  (this step is done once it is answered right)", at)
    learner.type("")  # run: the checks pass, the step waits for the answer
    at = learner.sees("The checks pass; the step is done once its question is answered right.", at)
    assert not session.progress.is_done("three")
    learner.type("")  # skipped: still not done
    at = learner.sees("Skipped: the step is done once it is answered right", at)
    learner.type("n")
    at = learner.sees("This step is done once its question is answered right (press Enter).", at)
    learner.type("")  # Enter on the step asks again
    at = learner.sees("Your answer, and Enter (Enter alone skips it):", at)
    learner.type("gate")
    at = learner.sees("[right] That is the word.", at)
    learner.sees("Lesson quiz complete", at)
    assert session.progress.is_done("three")
    wait_until(lambda: learner.status == [0], what="the view to end with the lesson")


def test_without_a_keyboard_questions_are_printed_and_the_lesson_goes_on(session: LessonSession) -> None:
    cluster = session._checks
    assert isinstance(cluster, FakeCluster)
    learner = Learner(session, interactive=False)
    learner.sees("Question: Which namespace does the shop run in?\n  a) shop\n")
    cluster.satisfy("one")  # someone else typed the commands
    cluster.satisfy("two")
    at = learner.sees("Step 3 of 3: Three")
    cluster.satisfy("three")
    at = learner.sees("The step waits for the answer to “gate”; with no keyboard, here it is:", at)
    at = learner.sees("[answer] Gate\n  That is the word.", at)
    learner.sees("Lesson quiz complete", at)
    wait_until(lambda: learner.status == [0], what="the view to end with the lesson")
    assert session.answered("which") is None


def test_autoplay_prints_each_answer_with_its_explanation(session: LessonSession) -> None:
    learner = Learner(session, interactive=False, autoplay=True)
    wait_until(lambda: learner.status, what="autoplay to end")
    assert learner.status == [0]
    text = learner.text
    assert "[answer] a) shop\n  The lesson's namespace is shop." in text
    assert "[answer] Gate\n  That is the word." in text
    # The step already done when autoplay came to it: its command ran once, and it went on.
    assert runner_of(session).ran.count(["look", "at", "two"]) == 1
    assert text.index("[run] $ look at two") < text.index("Step 3 of 3: Three")
