"""`k8s-tutor lint`: every problem in lesson files, as `file:line: message`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tutor.lesson.catalog import lesson_files
from tutor.lesson.parser import Problem, parse_file


def lint(paths: Iterable[Path]) -> tuple[list[Problem], int]:
    """Lint files and folders (their *.md files); returns problems and the number of files read."""
    problems: list[Problem] = []
    paths = list(paths)
    files = lesson_files(paths)
    for path in paths:
        if not path.exists():
            problems.append(Problem(path, 0, "no such file or folder"))
        elif path.is_dir() and not lesson_files([path]):
            problems.append(Problem(path, 0, "no lesson files (*.md) in this folder", "warning"))
    seen: dict[str, Path] = {}
    for file in files:
        lesson, found = parse_file(file)
        problems.extend(found)
        if lesson is not None:
            if lesson.id in seen:
                problems.append(Problem(file, 2, f"lesson id '{lesson.id}' is also used by {seen[lesson.id]}"))
            seen.setdefault(lesson.id, file)
    return problems, len(files)
