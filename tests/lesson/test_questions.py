"""Questions: a short check of understanding, parsed, linted and judged."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.lesson.helpers import MINIMAL, write_lesson
from tutor.lesson.model import Choice, Question
from tutor.lesson.parser import load, parse_file
from tutor.lesson.questions import Outcome, evaluate, label, normalise, solution

CHOICE = """\
```yaml {question}
ask: Which object is the request for storage?
choices:
  - text: The PersistentVolumeClaim
    correct: true
    why: The claim asks; the volume answers.
  - text: The PersistentVolume
    why: The volume is the storage itself.
  - text: The StorageClass
    why: The class says how volumes are made.
```
"""

TYPED = """\
```yaml {question}
id: access-mode
ask: "RWO is short for what?"
answer: [ReadWriteOnce, Read Write Once]
why: One node at a time may mount it read-write.
wrong:
  ReadWriteMany: That is RWX.
otherwise: Look at the claim's spec.
blocking: true
```
"""


def with_questions(*blocks: str) -> str:
    return MINIMAL.replace("> [!TIP]", "\n".join(blocks) + "\n> [!TIP]")


def errors_of(path: Path) -> list[str]:
    _, problems = parse_file(path)
    return [f"{p.line}: {p.message}" for p in problems if p.severity == "error"]


@pytest.fixture
def questions(tmp_path: Path) -> tuple[Question, Question]:
    lesson = load(write_lesson(tmp_path, with_questions(CHOICE, TYPED)))
    first, second = lesson.steps[0].questions
    return first, second


def test_questions_are_blocks_in_their_place(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, with_questions(CHOICE, TYPED)))
    step = lesson.steps[0]
    kinds = [type(block).__name__ for block in step.blocks]
    assert kinds == ["Prose", "CommandBlock", "Question", "Question"]
    assert [q.id for q in step.questions] == ["first-q1", "access-mode"]
    assert step.questions[0].line == 18  # the fence's line


def test_a_multiple_choice_question(questions: tuple[Question, Question]) -> None:
    choice, _ = questions
    assert choice.multiple_choice and not choice.blocking
    assert [c.correct for c in choice.choices] == [True, False, False]
    for answer in ("a", "A", " a) ", "1", "The PersistentVolumeClaim", "the persistentvolumeclaim."):
        verdict = evaluate(choice, answer)
        assert verdict.correct and verdict.choice == 0, answer
        assert verdict.explanation == "The claim asks; the volume answers."
    wrong = evaluate(choice, "b")
    assert wrong.outcome is Outcome.WRONG and wrong.choice == 1
    assert wrong.explanation == "The volume is the storage itself."
    # Each wrong choice explains itself, and the learner may try again.
    assert evaluate(choice, "3").explanation == "The class says how volumes are made."
    assert evaluate(choice, "a").correct


@pytest.mark.parametrize("answer", ["", "   ", "d", "4", "0", "-1", "ab", "z", "1.0", "٣"])
def test_what_is_not_an_answer_says_how_to_answer(questions: tuple[Question, Question], answer: str) -> None:
    choice, _ = questions
    verdict = evaluate(choice, answer)
    assert verdict.outcome is Outcome.UNREADABLE
    assert verdict.explanation == "Answer with a letter from a to c."
    assert verdict.choice is None


def test_a_typed_question(questions: tuple[Question, Question]) -> None:
    _, typed = questions
    assert not typed.multiple_choice and typed.blocking
    for answer in ("ReadWriteOnce", "readwriteonce", "`ReadWriteOnce`", '"ReadWriteOnce."', "read  write once"):
        assert evaluate(typed, answer).correct, answer
    assert evaluate(typed, "ReadWriteOnce").explanation == "One node at a time may mount it read-write."
    assert evaluate(typed, "readwritemany").explanation == "That is RWX."
    other = evaluate(typed, "RWO please")
    assert other.outcome is Outcome.WRONG and other.explanation == "Look at the claim's spec."
    assert evaluate(typed, " ").outcome is Outcome.UNREADABLE


def test_the_solution_is_a_right_answer(questions: tuple[Question, Question]) -> None:
    for question in questions:
        answer, verdict = solution(question)
        assert verdict.correct
        assert evaluate(question, answer) == verdict
    assert solution(questions[0])[0] == "a"
    assert label(0) == "a" and label(5) == "f"


@given(st.text(max_size=300))
def test_any_answer_gets_a_verdict_never_an_error(answer: str) -> None:
    choice = Question(
        "q", "?", 1, choices=(_choice("yes", True), _choice("no", False)), answers=(), why="", otherwise=""
    )
    typed = Question("t", "?", 1, answers=("yes",), why="right", otherwise="no")
    for question in (choice, typed):
        verdict = evaluate(question, answer)
        assert verdict.outcome in Outcome
        assert verdict.explanation
    assert normalise(answer) == normalise(normalise(answer))


def _choice(text: str, correct: bool) -> Choice:
    return Choice(text, f"because {text}", correct)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (CHOICE.replace("    correct: true\n", ""), "20: no choice is right: mark the right one with 'correct: true'"),
        (CHOICE.replace("    why: The volume is the storage itself.\n", ""), "24: the question needs 'why:'"),
        (
            CHOICE.replace("  - text: The StorageClass\n    why: The class says how volumes are made.\n", "").replace(
                "  - text: The PersistentVolume\n    why: The volume is the storage itself.\n", ""
            ),
            "20: 'choices' is a list of 2 to 6 choices",
        ),
        (
            CHOICE.replace("The StorageClass", "the persistentvolumeclaim"),
            "26: this choice is the same as the one on line 21",
        ),
        (CHOICE.replace("ask: Which", "asks: Which"), "19: unknown question key 'asks'"),
        (CHOICE.replace("    correct: true\n", "    correct: yes please\n"), "22: 'correct' is true or false"),
        (CHOICE.replace("    correct: true\n", "    right: true\n"), "22: unknown choice key 'right'"),
        (CHOICE.replace("choices:", "answer: PVC\nchoices:"), "18: a question has either 'choices:'"),
        (CHOICE.replace("ask:", "why: no\nask:"), "19: 'why' is for typed answers"),
        (CHOICE.replace("ask: Which", "ask: [Which"), "19: the question is not valid YAML"),
        (CHOICE.replace("ask: Which object is the request for storage?\n", ""), "18: the question needs 'ask:'"),
        (CHOICE.replace("storage?", "{storage}?"), "19: unknown variable '{storage}'"),
        (TYPED.replace("otherwise: Look at the claim's spec.\n", ""), "18: the question needs 'otherwise:'"),
        (
            TYPED.replace("ReadWriteMany: That is RWX.", "readwriteonce: That is RWX."),
            "23: 'readwriteonce' is listed under 'wrong'",
        ),
        (TYPED.replace("blocking: true", "blocking: often"), "26: 'blocking' is true or false"),
        (TYPED.replace("id: access-mode", "id: Access Mode"), "19: question id 'Access Mode' must be lower-case"),
        (TYPED.replace("answer: [ReadWriteOnce, Read Write Once]", "answer: []"), "21: 'answer' is the right answer"),
        (CHOICE.replace("choices:\n", "choices:\nchoices:\n"), "21: 'choices' is given twice in this question"),
        ("```yaml {question}\n- a list\n```\n", "18: a question block is a YAML mapping"),
        (
            "```yaml {question manual}\nask: x\nanswer: y\nwhy: z\notherwise: w\n```\n",
            "18: a question block takes only",
        ),
    ],
)
def test_each_question_problem_is_reported_on_its_line(tmp_path: Path, block: str, expected: str) -> None:
    found = errors_of(write_lesson(tmp_path, with_questions(block)))
    assert any(message.startswith(expected) for message in found), found


def test_question_ids_are_unique_in_a_lesson(tmp_path: Path) -> None:
    found = errors_of(write_lesson(tmp_path, with_questions(TYPED, TYPED)))
    assert any("duplicate question id 'access-mode' (first used on line 19)" in m for m in found), found


def test_a_question_outside_a_step_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace("Intro text.", CHOICE)
    found = errors_of(write_lesson(tmp_path, text))
    assert any("commands, checks and questions belong inside a step" in m for m in found), found


def test_a_long_typed_answer_is_a_warning(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, with_questions(TYPED.replace("Read Write Once", "the read write once mode")))
    _, problems = parse_file(path)
    assert [p.message for p in problems if p.severity == "warning"] == [
        "'the read write once mode' is more than 3 words: a typed answer must match, so keep it short"
    ]
