"""Where lessons are found: the ones shipped with k8s-tutor, then instructors' folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutor.lesson.model import Lesson
from tutor.lesson.problems import LessonError, Problem

_PACKAGE = Path(__file__).resolve().parent.parent


def builtin_dir() -> Path:
    """The shipped lessons: inside the installed package, or at the top of a source checkout."""
    installed = _PACKAGE / "_content" / "lessons"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "lessons"


def lesson_files(folders: Iterable[Path]) -> list[Path]:
    """The lesson files in `folders`: each folder's `*.md` (not README.md), and each path that is
    not a folder. What is not a regular file (a FIFO, a device, a symlink loop) is listed too:
    reading it says what it is, and it is never read as a lesson."""
    files: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            files.extend(sorted(p for p in folder.glob("*.md") if not p.is_dir() and p.name.lower() != "readme.md"))
        elif os.path.lexists(folder):
            files.append(folder)
    return files


@dataclass
class Catalog:
    """Every lesson the tutor can open, by id.

    A lesson from an instructor's folder never replaces another: one whose id is a
    shipped lesson's, or another extra lesson's, is a conflict naming both files, and
    is not opened (two extra lessons with one id: neither is).
    """

    lessons: dict[str, Lesson]
    broken: list[Problem]
    conflicts: list[Problem] = field(default_factory=list)

    @classmethod
    def discover(cls, extra: Sequence[Path] = (), *, loader: Callable[[Path], Lesson] | None = None) -> Catalog:
        """`loader` parses one file or raises LessonError (the CLI's keeps what it parsed)."""
        if loader is None:
            from tutor.lesson.parser import load

            loader = load
        lessons: dict[str, Lesson] = {}
        broken: list[Problem] = []
        conflicts: list[Problem] = []
        shipped = lesson_files([builtin_dir()])
        shipped_ids: set[str] = set()
        clashing: set[str] = set()
        seen: set[Path] = set()
        for path in [*shipped, *lesson_files(extra)]:
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError):
                resolved = path
            if resolved in seen:
                continue  # one folder named twice (--lessons and K8S_TUTOR_LESSONS)
            seen.add(resolved)
            try:
                lesson = loader(path)
            except LessonError as err:
                broken.extend(err.problems)
                continue
            other = lessons.get(lesson.id)
            if other is not None or lesson.id in clashing:
                conflicts.append(_conflict(lesson, other, shipped=lesson.id in shipped_ids))
                if lesson.id not in shipped_ids:
                    lessons.pop(lesson.id, None)  # two extra lessons with one id: neither is opened
                clashing.add(lesson.id)
                continue
            lessons[lesson.id] = lesson
            if path in shipped:
                shipped_ids.add(lesson.id)
        return cls(lessons, broken, conflicts)

    def get(self, lesson_id: str) -> Lesson:
        return self.lessons[lesson_id]


def _conflict(lesson: Lesson, other: Lesson | None, *, shipped: bool) -> Problem:
    if other is None:
        message = f"lesson id '{lesson.id}' is used by more than one extra lesson; give each its own id"
    elif shipped:
        message = (
            f"lesson id '{lesson.id}' is already the id of {other.path}, a lesson shipped with k8s-tutor; "
            "an extra lesson never replaces it: give this one another id"
        )
    else:
        message = f"lesson id '{lesson.id}' is also the id of {other.path}; give each lesson its own id"
    return Problem(lesson.path, 0, message)
