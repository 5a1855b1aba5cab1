"""A question in its place in the step: choices to pick (or a box to type in), the verdict with
its explanation, as many tries as the learner likes, and "Show answer".

The view asks; the session judges (`LessonSession.answer`) and says how it went
(`QuestionAnswered`), which the screen hands to `answered`. The question comes with its
variables filled in (`LessonSession.question`).
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from tutor.lesson.model import Question
from tutor.lesson.prose import display_markdown
from tutor.lesson.questions import Outcome, Verdict, label
from tutor.progress import Answer
from tutor.ui.widgets import prose_view


class ChoiceRow(Horizontal, can_focus=True):
    """One choice: its letter and its text (wrapped under itself). Enter, Space or a click picks it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "pick", "Answer", show=False),
        Binding("down", "app.focus_next", show=False),
        Binding("up", "app.focus_previous", show=False),
    ]

    def __init__(self, index: int, text: str) -> None:
        super().__init__(classes="choice")
        self.index = index
        self._mark = Static(f"{label(index)})", classes="choice-mark")
        self._text = Static(prose_view.inline(text), classes="choice-text")

    def compose(self) -> ComposeResult:
        yield self._mark
        yield self._text

    def judged(self, right: bool | None) -> None:
        """✓ or ✗ in front of it once picked; None: not picked (yet)."""
        self._mark.update(f"{label(self.index)})" if right is None else f"{'✓' if right else '✗'}{label(self.index)})")
        self.set_class(right is True, "-right")
        self.set_class(right is False, "-wrong")

    def action_pick(self) -> None:
        parent = self.parent
        while parent is not None and not isinstance(parent, QuestionView):
            parent = parent.parent
        if parent is not None:
            parent.pick(self.index)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_pick()


class AnswerBox(Input):
    """Where a learner types an answer: it takes every letter key, so Esc gives them back."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "screen.leave", "Back to the step", show=False)]


class QuestionView(Vertical):
    class Answered(Message):
        """The learner gave an answer (a choice's letter, or what they typed)."""

        def __init__(self, step_id: str, question_id: str, text: str) -> None:
            super().__init__()
            self.step_id = step_id
            self.question_id = question_id
            self.text = text

    class RevealAsked(Message):
        """The learner asked to see the answer."""

        def __init__(self, step_id: str, question_id: str) -> None:
            super().__init__()
            self.step_id = step_id
            self.question_id = question_id

    def __init__(self, step_id: str, question: Question, known: Answer | None = None) -> None:
        super().__init__(classes="step-question")
        self.step_id = step_id
        self.question = question
        self.border_title = "Question · the step waits for the answer" if question.blocking else "Question"
        self._rows = [ChoiceRow(index, choice.text) for index, choice in enumerate(question.choices)]
        self._input: Input | None = (
            None
            if question.multiple_choice
            else Input(
                placeholder="Type your answer, then Enter (Esc: back to the step)",
                classes="question-input",
                compact=True,
            )
        )
        self._verdict = Vertical(classes="question-verdict")
        self._verdict.display = False
        self._reveal = Button("Show answer", classes="reveal-button", compact=True)
        self.verdict: Verdict | None = None
        """The last verdict drawn (for tests and the screen)."""
        self._known = known

    def compose(self) -> ComposeResult:
        yield prose_view.prose_view(display_markdown(self.question.ask), classes="question-ask")
        if self._input is not None:
            yield self._input
        else:
            with Vertical(classes="choices"):
                yield from self._rows
        yield self._verdict
        with Horizontal(classes="question-actions"):
            yield self._reveal

    def on_mount(self) -> None:
        known = self._known
        if known is not None and known.correct:
            right = next((i for i, choice in enumerate(self.question.choices) if choice.correct), None)
            if right is not None:
                self._rows[right].judged(True)
            self._say("✓ You answered this right before.", "-right", "")

    def take_focus(self) -> None:
        """Into view, its first choice (or its box) in focus."""
        target = self._input if self._input is not None else (self._rows[0] if self._rows else self._reveal)
        target.focus()
        self.scroll_visible(animate=False)

    # --- the learner's side --------------------------------------------------------------

    def pick(self, index: int) -> None:
        self.post_message(self.Answered(self.step_id, self.question.id, label(index)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Answered(self.step_id, self.question.id, event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RevealAsked(self.step_id, self.question.id))

    # --- driven by the screen ----------------------------------------------------------

    def answered(self, verdict: Verdict, *, revealed: bool) -> None:
        """How the session judged the answer (or the answer shown, when `revealed`)."""
        self.verdict = verdict
        if verdict.choice is not None:
            for row in self._rows:
                if row.index == verdict.choice:
                    row.judged(verdict.correct)
                elif verdict.correct:
                    row.judged(None)
        if revealed:
            answer = self.question.answers[0] if self.question.answers else ""
            if verdict.choice is not None:
                answer = f"{label(verdict.choice)}) {self.question.choices[verdict.choice].text}"
            self._say(f"The answer: {answer}", "-revealed", verdict.explanation)
            return
        match verdict.outcome:
            case Outcome.CORRECT:
                self._say("✓ Right.", "-right", verdict.explanation)
                self._reveal.display = False
                if self._input is not None:
                    self._input.value = self._input.value.strip()
            case Outcome.WRONG:
                self._say("✗ Not quite: try another answer.", "-wrong", verdict.explanation)
            case Outcome.UNREADABLE:
                self._say(verdict.explanation, "-unreadable", "")

    def _say(self, headline: str, css_class: str, explanation: str) -> None:
        verdict = self._verdict
        verdict.display = True
        for name in ("-right", "-wrong", "-revealed", "-unreadable"):
            verdict.set_class(name == css_class, name)
        verdict.remove_children()
        parts: list[Widget] = [Static(Content(headline), classes="verdict-headline")]
        if explanation:
            parts.append(prose_view.prose_view(display_markdown(explanation), classes="verdict-why"))
        verdict.mount_all(parts)
