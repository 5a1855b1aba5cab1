"""What is wrong with a lesson file: kept apart from the parser, so that catching it loads no parser."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    """1-based; 0 for a problem with the path itself (it does not exist), shown without one."""
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        where = f"{self.path}:{self.line}" if self.line > 0 else str(self.path)
        return f"{where}: {prefix}{self.message}"


class LessonError(Exception):
    """A lesson file that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
