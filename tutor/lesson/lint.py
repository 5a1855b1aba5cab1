"""`k8s-tutor lint`: every problem in lesson files, as `file:line: message`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tutor.lesson.catalog import builtin_dir, lesson_files
from tutor.lesson.parser import Problem, parse_file


def lint(paths: Iterable[Path]) -> tuple[list[Problem], int]:
    """Lint files and folders (their *.md files); returns problems and the number of files read."""
    problems: list[Problem] = []
    paths = list(paths)
    files = lesson_files(paths)
    for path in paths:
        if not os.path.lexists(path):
            problems.append(Problem(path, 0, "no such file or folder"))
        elif path.is_dir() and not lesson_files([path]):
            problems.append(Problem(path, 0, "no lesson files (*.md) in this folder", "warning"))
    seen: dict[str, Path] = {}
    shipped: dict[str, Path] | None = None
    for file in files:
        lesson, found = parse_file(file)
        problems.extend(found)
        if lesson is None:
            continue
        if lesson.id in seen:
            problems.append(Problem(file, 2, f"lesson id '{lesson.id}' is also used by {seen[lesson.id]}"))
        seen.setdefault(lesson.id, file)
        if shipped is None:
            shipped = _shipped_ids()
        own = shipped.get(lesson.id)
        if own is not None and own != _resolved(file):
            problems.append(
                Problem(file, 2, f"lesson id '{lesson.id}' is the id of {own}, a lesson shipped with k8s-tutor")
            )
    return problems, len(files)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _shipped_ids() -> dict[str, Path]:
    ids = {}
    for path in lesson_files([builtin_dir()]):
        lesson, _ = parse_file(path)
        if lesson is not None:
            ids[lesson.id] = _resolved(path)
    return ids
