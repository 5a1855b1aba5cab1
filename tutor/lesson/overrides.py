"""`--set NAME=VALUE`: lesson-variable overrides from the command line.

Here rather than in the CLI because the session needs the same rule for the headless
`check` (and the CLI may not be imported from below it).
"""

from __future__ import annotations

from collections.abc import Sequence

from tutor.lesson import variables
from tutor.lesson.model import Lesson


class BadOverride(ValueError):
    """A `--set` the lesson cannot take; the message says why."""


def parse_overrides(lesson: Lesson, pairs: Sequence[str], *, profile: str | None = None) -> dict[str, str]:
    """`--set name=value` pairs, checked against the lesson's variables and their types
    (and `--profile`, a name like any profile)."""
    if profile is not None:
        check_value(lesson, "profile", profile, "--profile")
    overrides: dict[str, str] = {}
    allowed = set(lesson.defaults())
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise BadOverride(f"--set takes NAME=VALUE, not '{pair}'")
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise BadOverride(f"lesson {lesson.id} has no variable '{name}'; its variables: {known}")
        check_value(lesson, name, value, f"--set {name}")
        overrides[name] = value
    return overrides


def check_value(lesson: Lesson, name: str, value: str, given: str) -> None:
    """Raise BadOverride when `value` is not of variable `name`'s type; `given` says where it came from."""
    kind = lesson.type_of(name)
    wrong = variables.problem(kind, value)
    if wrong:
        raise BadOverride(f"{given}: {value!r} is not a {kind}: {wrong}")
