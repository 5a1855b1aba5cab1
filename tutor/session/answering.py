"""The part of `LessonSession` that asks a step's questions and keeps the answers.

A question never holds the lesson up unless it is blocking: then its step is done only
once it is answered right. Every answer, right or wrong, is kept with the progress; an
answer that is not one (`z` to a three-choice question) is no try. Asking to see the
answer answers nothing, except for autoplay (nobody at the keyboard), where it counts.
"""

from __future__ import annotations

from abc import abstractmethod

from tutor.lesson import questions
from tutor.lesson.model import Question, Step
from tutor.lesson.questions import Outcome, Verdict
from tutor.progress import Answer, Progress
from tutor.session.commands import SessionCommands
from tutor.session.events import QuestionAnswered, StepCheck
from tutor.session.record import Record


class SessionQuestions(SessionCommands):
    record: Record
    _active: str | None
    _results: dict[str, tuple[StepCheck, ...]]

    @property
    @abstractmethod
    def progress(self) -> Progress: ...

    @abstractmethod
    def text(self, value: str) -> str: ...

    @abstractmethod
    def _save(self) -> None: ...

    @abstractmethod
    def _on_results(self, step: Step, results: tuple[StepCheck, ...]) -> None: ...

    def question(self, step_id: str, question_id: str) -> Question:
        """The step's question, its variables filled in; KeyError when the step has no such question."""
        for question in self.lesson.step(step_id).questions:
            if question.id == question_id:
                return questions.filled(question, self.text)
        raise KeyError(question_id)

    def answer(self, step_id: str, question_id: str, text: str) -> Verdict:
        """Judge the learner's answer (any number of tries), keep it with the progress, and tell
        the views (QuestionAnswered). A blocking question answered right may complete its step."""
        question = self.question(step_id, question_id)
        verdict = questions.evaluate(question, text)
        self._judged(step_id, question, text, verdict, revealed=False)
        return verdict

    def reveal(self, step_id: str, question_id: str, *, answers_it: bool = False) -> tuple[str, Verdict]:
        """The right answer and its explanation. Shown because the learner asked, it answers
        nothing for them; `answers_it` (autoplay, a view with nobody at the keyboard) counts
        it as answered right, so a blocking question does not hold the step."""
        question = self.question(step_id, question_id)
        answer, verdict = questions.solution(question)
        self._judged(step_id, question, answer, verdict, revealed=True, counts=answers_it)
        return answer, verdict

    def answered(self, question_id: str) -> Answer | None:
        """How the learner stands with a question on this cluster; None before any answer."""
        return self.progress.answers.get(question_id)

    def questions_pending(self, step_id: str) -> tuple[Question, ...]:
        """The step's blocking questions not answered right yet: the step is not done without them."""
        answers = self.progress.answers
        return tuple(
            question
            for question in self.lesson.step(step_id).questions
            if question.blocking and not (question.id in answers and answers[question.id].correct)
        )

    def _judged(
        self, step_id: str, question: Question, given: str, verdict: Verdict, *, revealed: bool, counts: bool = False
    ) -> None:
        with self._lock:
            if verdict.outcome is Outcome.UNREADABLE:
                known = self.progress.answers.get(question.id)
                tries = known.tries if known else 0
            else:
                record = self.record.answer(question.id, step_id)
                if not revealed:
                    record.tries += 1
                record.correct = record.correct or (verdict.correct and (counts or not revealed))
                record.revealed = record.revealed or (revealed and not counts)
                tries = record.tries
                self._save()
        self._emit(QuestionAnswered(step_id, question.id, given, verdict, tries, revealed))
        if question.blocking and verdict.correct and (counts or not revealed):
            with self._lock:
                ready = not self._closed and self._active == step_id
                results = self._results.get(step_id, ())
            if ready:
                self._on_results(self.lesson.step(step_id), results)

    def _answer_for_autoplay(self, step: Step) -> None:
        """Autoplay shows each question with its answer, and so answers the blocking ones."""
        for question in step.questions:
            known = self.progress.answers.get(question.id)
            if not (known and known.correct) and not self._closed:
                self.reveal(step.id, question.id, answers_it=True)
