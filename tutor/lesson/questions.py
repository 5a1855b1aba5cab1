"""Judging an answer to a question: right or wrong, and the explanation the learner reads.

Pure and stateless: a view asks as often as the learner tries (retrying is allowed), and
autoplay shows `solution`. A multiple-choice answer is the choice's letter (`b`), its
number (`2`) or its text; a typed answer is compared without case, surrounding quotes,
backticks, spaces or a final full stop, so `rwo`, "`RWO`" and "RWO." are all RWO.
"""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, replace

from tutor.lesson.model import Question


class Outcome(enum.Enum):
    CORRECT = "correct"
    WRONG = "wrong"
    UNREADABLE = "unreadable"
    """Not an answer to this question (`z` for a question with three choices, nothing typed):
    it says how to answer, and is not counted as a try."""


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    explanation: str
    """Markdown, as the author wrote it (variables not filled in)."""
    choice: int | None = None
    """The 0-based choice the answer named, for a multiple-choice question."""

    @property
    def correct(self) -> bool:
        return self.outcome is Outcome.CORRECT


def label(index: int) -> str:
    """The letter a view shows for choice `index` (0 -> a)."""
    return string.ascii_lowercase[index]


def evaluate(question: Question, answer: str) -> Verdict:
    """Whether `answer` is right, and the explanation that goes with it."""
    if question.multiple_choice:
        index = _choice_index(question, answer)
        if index is None:
            last = label(len(question.choices) - 1)
            return Verdict(Outcome.UNREADABLE, f"Answer with a letter from a to {last}.")
        choice = question.choices[index]
        return Verdict(Outcome.CORRECT if choice.correct else Outcome.WRONG, choice.why, index)
    given = normalise(answer)
    if not given:
        return Verdict(Outcome.UNREADABLE, "Type your answer: a word or two.")
    if given in {normalise(accepted) for accepted in question.answers}:
        return Verdict(Outcome.CORRECT, question.why)
    for wrong, why in question.wrong.items():
        if normalise(wrong) == given:
            return Verdict(Outcome.WRONG, why)
    return Verdict(Outcome.WRONG, question.otherwise)


def solution(question: Question) -> tuple[str, Verdict]:
    """The right answer, as a learner would give it, and its verdict (for autoplay, and for a
    learner who asks to see it)."""
    if question.multiple_choice:
        index = next(i for i, choice in enumerate(question.choices) if choice.correct)
        answer = label(index)
    else:
        answer = question.answers[0]
    return answer, evaluate(question, answer)


def filled(question: Question, text: Callable[[str], str]) -> Question:
    """The question with its variables filled in by `text` (a session's): what the learner reads,
    and what their answer is compared with."""
    return replace(
        question,
        ask=text(question.ask),
        choices=tuple(replace(choice, text=text(choice.text), why=text(choice.why)) for choice in question.choices),
        answers=tuple(text(answer) for answer in question.answers),
        why=text(question.why),
        wrong={text(answer): text(why) for answer, why in question.wrong.items()},
        otherwise=text(question.otherwise),
    )


def normalise(answer: str) -> str:
    quotes = "`'\"“”‘’ "
    text = " ".join(answer.split()).casefold().strip(quotes)
    # A full stop after the closing quote ("`RWO`.") as well as before it.
    return re.sub(r"[.!]+$", "", text).strip(quotes)


def _choice_index(question: Question, answer: str) -> int | None:
    given = normalise(answer).rstrip(")")
    count = len(question.choices)
    if len(given) == 1 and given in string.ascii_lowercase[:count]:
        return string.ascii_lowercase.index(given)
    if given.isascii() and given.isdigit() and 1 <= int(given) <= count:
        return int(given) - 1
    for index, choice in enumerate(question.choices):
        if given and normalise(choice.text) == given:
            return index
    return None
