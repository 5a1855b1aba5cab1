"""Questions in the lesson screen, as the learner meets them: drawn in their place in the step,
answered with a click or Enter, judged with the explanation, tried again, shown on request,
kept with the progress; a blocking one holds its step until answered right."""

from __future__ import annotations

from textual.widgets import Button, Input, Static

from tests.ui.conftest import SIZE, opened, wait_for
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.widgets.question_view import ChoiceRow, QuestionView


def verdict_text(view: QuestionView) -> str:
    return " ".join(str(widget.render()) for widget in view.query(".question-verdict Static"))


async def test_a_choice_is_judged_with_its_explanation_and_may_be_tried_again(quiz: Lesson, quiz_setup: Setup) -> None:
    app = TutorApp(quiz, quiz_setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        view = screen.step_views["ask"].question_views["which-file"]
        rows = list(view.query(ChoiceRow))
        # The variables are filled in, in the question and its choices.
        assert "quiz.mark" in str(rows[0].query_one(".choice-text", Static).render())
        assert view.region.height > 0, "the question is drawn in the step"
        await pilot.click(rows[1])
        await wait_for(pilot, lambda: view.verdict is not None, what="the verdict")
        assert "Not quite" in verdict_text(view) and "current folder" in verdict_text(view)
        assert rows[1].has_class("-wrong")
        # Again, from the keyboard: `a` goes to the question, Enter picks the choice in focus.
        await pilot.press("a")
        assert rows[0].has_focus
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.verdict is not None and view.verdict.correct, what="the right answer")
        assert "Right" in verdict_text(view) and "creates an empty file" in verdict_text(view)
        assert rows[0].has_class("-right") and not rows[1].has_class("-wrong")
        record = screen.session.answered("which-file")
        assert record is not None and record.correct and record.tries == 2


async def test_show_answer_gives_the_answer_without_answering_it(quiz: Lesson, quiz_setup: Setup) -> None:
    app = TutorApp(quiz, quiz_setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        view = screen.step_views["ask"].question_views["which-file"]
        await pilot.click(view.query_one(".reveal-button", Button))
        await wait_for(pilot, lambda: view.verdict is not None, what="the answer")
        assert "The answer: a)" in verdict_text(view)
        record = screen.session.answered("which-file")
        assert record is not None and record.revealed and not record.correct


async def test_a_blocking_question_holds_its_step_until_answered_right(quiz: Lesson, quiz_setup: Setup) -> None:
    app = TutorApp(quiz, quiz_setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.session.progress.is_done("ask"), what="step one done")
        await pilot.press("n")
        await wait_for(pilot, lambda: screen.current == "word", what="step two")
        view = screen.step_views["word"].question_views["the-word"]
        assert "waits for the answer" in str(view.border_title)
        await wait_for(pilot, lambda: any(check.result.passed for check in screen.checks()), what="the checks")
        assert not screen.session.progress.is_done("word")
        box = view.query_one(Input)
        box.focus()
        await pilot.press(*"mkdir", "enter")
        await wait_for(pilot, lambda: view.verdict is not None, what="the verdict")
        assert "makes a folder" in verdict_text(view)
        assert not screen.session.progress.is_done("word")
        # Letters go to the box while it has focus; Esc gives them back to the screen, `a` returns.
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.step_views["word"].has_focus, what="the step in focus")
        await pilot.press("e")
        assert screen.explain and box.value == "mkdir"
        await pilot.press("a")
        assert box.has_focus
        box.value = ""
        await pilot.press(*"touch", "enter")
        await wait_for(pilot, lambda: screen.session.progress.is_done("word"), what="the step done by the answer")
        assert "Right" in verdict_text(view)
