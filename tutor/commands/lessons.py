"""Finding lessons: the shipped ones, `--lessons DIR` and K8S_TUTOR_LESSONS, for every command."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tutor import lesson_cache
from tutor.commands.exit_codes import UsageError
from tutor.lesson.catalog import Catalog
from tutor.lesson.model import Lesson
from tutor.safe_text import strip_controls


def folders(given: Sequence[Path]) -> list[Path]:
    """The extra lesson folders: `--lessons`, then K8S_TUTOR_LESSONS; each must exist."""
    found = list(given)
    env = os.environ.get("K8S_TUTOR_LESSONS")
    if env:
        found.extend(Path(part) for part in env.split(os.pathsep) if part)
    for folder in found:
        if not folder.exists():
            raise UsageError(f"lesson folder {folder} does not exist")
    return found


def catalog(given: Sequence[Path]) -> Catalog:
    """Every lesson found; a broken one is skipped with a line on stderr, two with one id stop here."""
    found = Catalog.discover(folders(given), loader=lesson_cache.load)
    for problem in found.broken:
        print(strip_controls(f"k8s-tutor: skipped a broken lesson: {problem}"), file=sys.stderr)
    if found.conflicts:
        raise UsageError("\n".join(str(problem) for problem in found.conflicts))
    return found


def find_lesson(given: Sequence[Path], lesson_id: str, step: str | None = None) -> Lesson:
    """The lesson `lesson_id` (and, if given, one of its steps must be `step`)."""
    lessons = catalog(given)
    if lesson_id not in lessons.lessons:
        known = ", ".join(sorted(lessons.lessons)) or "none"
        raise UsageError(f"no lesson '{lesson_id}'; lessons: {known} (`k8s-tutor list` shows them)")
    lesson = lessons.get(lesson_id)
    if step is not None and step not in [s.id for s in lesson.steps]:
        steps = ", ".join(s.id for s in lesson.steps)
        raise UsageError(f"lesson {lesson.id} has no step '{step}'; its steps: {steps}")
    return lesson
