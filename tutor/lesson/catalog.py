"""Where lessons are found: the ones shipped with k8s-tutor, then instructors' folders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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
    files: list[Path] = []
    for folder in folders:
        if folder.is_file():
            files.append(folder)
        elif folder.is_dir():
            files.extend(sorted(p for p in folder.glob("*.md") if p.is_file() and p.name.lower() != "readme.md"))
    return files


@dataclass
class Catalog:
    """Every lesson the tutor can open, by id; an instructor's folder may shadow a shipped lesson."""

    lessons: dict[str, Lesson]
    broken: list[Problem]

    @classmethod
    def discover(cls, extra: Sequence[Path] = (), *, loader: Callable[[Path], Lesson] | None = None) -> Catalog:
        """`loader` parses one file or raises LessonError (the CLI's keeps what it parsed)."""
        if loader is None:
            from tutor.lesson.parser import load

            loader = load
        lessons: dict[str, Lesson] = {}
        broken: list[Problem] = []
        for path in lesson_files([builtin_dir(), *extra]):
            try:
                lesson = loader(path)
            except LessonError as err:
                broken.extend(err.problems)
                continue
            lessons[lesson.id] = lesson
        return cls(lessons, broken)

    def get(self, lesson_id: str) -> Lesson:
        return self.lessons[lesson_id]
