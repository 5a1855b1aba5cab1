"""A step's ```` ```yaml {question} ```` block: a short check of understanding, validated.

```yaml {question}
ask: Which object asks for storage, inside a namespace?
choices:
  - text: The PersistentVolumeClaim
    correct: true
    why: A claim is the request; the volume is what fills it.
  - text: The PersistentVolume
    why: The volume is the storage itself, and has no namespace.
```

or, for an answer the learner types, `answer:` (one or more accepted spellings), `why:`
(shown when it is right), `otherwise:` (shown for any other answer) and, optionally,
`wrong:` (a mapping of likely wrong answers to their own explanations).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from tutor.lesson.check_blocks import field_lines
from tutor.lesson.front_matter import ID
from tutor.lesson.model import Choice, Question
from tutor.lesson.parse_context import ParseContext
from tutor.lesson.place import When
from tutor.lesson.questions import normalise

KEYS = ("id", "ask", "choices", "answer", "why", "wrong", "otherwise", "blocking")
CHOICE_KEYS = ("text", "why", "correct")
MAX_CHOICES = 6
TYPED_WORDS = 3
"""A typed answer longer than this many words is hard to match: lint warns."""


def read_question(ctx: ParseContext, content: str, first_line: int, default_id: str, when: When) -> Question | None:
    """The question of a block whose YAML starts on file line `first_line`; None if unusable."""
    fence = first_line - 1
    try:
        node = yaml.compose(content, Loader=yaml.SafeLoader)
        data = yaml.safe_load(content)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        ctx.error(
            first_line + mark.line if mark is not None else first_line, f"the question is not valid YAML: {problem}"
        )
        return None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        ctx.error(fence, "a question block is a YAML mapping: 'ask:', then 'choices:' or 'answer:'")
        return None
    lines = field_lines(node, first_line)
    seen: set[str] = set()
    for key_node, _value in node.value:
        key = str(getattr(key_node, "value", ""))
        if key in seen:
            # YAML keeps the last one silently: say so, rather than read one and judge by the other.
            ctx.error(first_line + key_node.start_mark.line, f"'{key}' is given twice in this question")
            return None
        seen.add(key)
    before = len(ctx.problems)
    for key in data:
        if key not in KEYS:
            ctx.error(lines.get(str(key), fence), f"unknown question key '{key}'; known: {', '.join(KEYS)}")
    ask = _text(ctx, data, "ask", lines, fence, required=True)
    question_id = _id(ctx, data.get("id", default_id), lines.get("id", fence))
    blocking = data.get("blocking", False)
    if not isinstance(blocking, bool):
        ctx.error(lines.get("blocking", fence), "'blocking' is true or false")
    if ("choices" in data) == ("answer" in data):
        ctx.error(fence, "a question has either 'choices:' (multiple choice) or 'answer:' (typed), not both")
        return None
    if "choices" in data:
        for key in ("why", "wrong", "otherwise"):
            if key in data:
                ctx.error(
                    lines[key], f"'{key}' is for typed answers; in a multiple-choice question each choice has its why"
                )
        choices = _choices(ctx, data["choices"], node, first_line, lines.get("choices", fence))
        question = Question(question_id, ask or "", fence, choices=choices, blocking=blocking is True, when=when)
    else:
        answers = _answers(ctx, data["answer"], lines["answer"])
        why = _text(ctx, data, "why", lines, fence, required=True, hint="shown when the answer is right")
        otherwise = _text(ctx, data, "otherwise", lines, fence, required=True, hint="shown for any other answer")
        wrong = _wrong(ctx, data.get("wrong", {}), lines.get("wrong", fence), answers)
        question = Question(
            question_id,
            ask or "",
            fence,
            answers=answers,
            why=why or "",
            wrong=wrong,
            otherwise=otherwise or "",
            blocking=blocking is True,
            when=when,
        )
    return None if ctx.errors_since(before) else question


def _id(ctx: ParseContext, value: Any, line: int) -> str:
    text = str(value)
    if not isinstance(value, str) or not ID.match(text):
        ctx.error(line, f"question id {text!r} must be lower-case letters, digits and '-'")
    elif text in ctx.question_ids:
        ctx.error(line, f"duplicate question id '{text}' (first used on line {ctx.question_ids[text]})")
    ctx.question_ids.setdefault(text, line)
    return text


def _text(
    ctx: ParseContext,
    data: Mapping[str, Any],
    key: str,
    lines: Mapping[str, int],
    fence: int,
    *,
    required: bool = False,
    hint: str = "",
) -> str | None:
    line = lines.get(key, fence)
    value = data.get(key)
    if value is None:
        if required:
            ctx.error(line, f"the question needs '{key}:'" + (f" ({hint})" if hint else ""))
        return None
    text = _scalar_text(value)
    if text is None or not text.strip():
        ctx.error(line, f"'{key}' must be text")
        return None
    ctx.check_text_variables(text, line)
    return text.strip()


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def _choices(ctx: ParseContext, raw: Any, node: yaml.MappingNode, first_line: int, line: int) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CHOICES:
        ctx.error(line, f"'choices' is a list of 2 to {MAX_CHOICES} choices, each with 'text:' and 'why:'")
        return ()
    value_node = next(value for key, value in node.value if getattr(key, "value", None) == "choices")
    result: list[Choice] = []
    seen: dict[str, int] = {}
    for item, item_node in zip(raw, getattr(value_node, "value", []), strict=False):
        item_line = first_line + item_node.start_mark.line
        if not isinstance(item, dict):
            ctx.error(
                item_line, "each choice is a mapping with 'text:', 'why:' and, for the right one, 'correct: true'"
            )
            continue
        item_lines = field_lines(item_node, first_line)
        for key in item:
            if key not in CHOICE_KEYS:
                ctx.error(
                    item_lines.get(str(key), item_line), f"unknown choice key '{key}'; known: {', '.join(CHOICE_KEYS)}"
                )
        text = _text(ctx, item, "text", item_lines, item_line, required=True)
        why = _text(ctx, item, "why", item_lines, item_line, required=True, hint="every choice explains itself")
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            ctx.error(item_lines.get("correct", item_line), "'correct' is true or false")
        if text is not None:
            key = normalise(text)
            if key in seen:
                ctx.error(item_line, f"this choice is the same as the one on line {seen[key]}")
            seen.setdefault(key, item_line)
        result.append(Choice(text or "", why or "", correct is True))
    right = sum(choice.correct for choice in result)
    if result and right == 0:
        ctx.error(line, "no choice is right: mark the right one with 'correct: true'")
    elif result and right == len(result):
        ctx.error(line, "every choice is right: a question needs a wrong choice too")
    return tuple(result)


def _answers(ctx: ParseContext, raw: Any, line: int) -> tuple[str, ...]:
    values = raw if isinstance(raw, list) else [raw]
    texts = [_scalar_text(value) for value in values]
    if not values or any(text is None or not normalise(text) or "\n" in text for text in texts):
        ctx.error(line, "'answer' is the right answer, or a list of its accepted spellings, each a word or two")
        return ()
    answers = tuple(text.strip() for text in texts if text is not None)
    for answer in answers:
        ctx.check_text_variables(answer, line)
        if len(answer.split()) > TYPED_WORDS:
            ctx.warn(line, f"'{answer}' is more than {TYPED_WORDS} words: a typed answer must match, so keep it short")
    return answers


def _wrong(ctx: ParseContext, raw: Any, line: int, answers: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(raw, dict):
        ctx.error(line, "'wrong' maps a likely wrong answer to why it is wrong")
        return {}
    accepted = {normalise(answer) for answer in answers}
    result: dict[str, str] = {}
    for key, why in raw.items():
        answer, text = _scalar_text(key), _scalar_text(why)
        if answer is None or text is None or not text.strip():
            ctx.error(line, "'wrong' maps a likely wrong answer to why it is wrong, both text")
            continue
        if normalise(answer) in accepted:
            ctx.error(line, f"'{answer}' is listed under 'wrong' but is an accepted answer")
            continue
        ctx.check_text_variables(text, line)
        result[answer] = text.strip()
    return result
