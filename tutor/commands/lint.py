"""`k8s-tutor lint [PATH...]`: validate lesson files; `file:line: message`, exit 1 on an error."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tutor.commands.exit_codes import FAIL, OK
from tutor.lesson.catalog import builtin_dir
from tutor.lesson.lint import lint
from tutor.safe_text import strip_controls


@dataclass(frozen=True)
class LintOptions:
    paths: tuple[Path, ...] = ()
    """Files or folders; none: the shipped lessons."""


def run(options: LintOptions) -> int:
    problems, count = lint(list(options.paths) or [builtin_dir()])
    for problem in problems:
        print(strip_controls(str(problem)))  # a file's name is anybody's text
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    summary = f"{count} lesson file{'s' if count != 1 else ''} checked: {errors} error{'s' if errors != 1 else ''}"
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    print(summary, file=sys.stderr)
    return FAIL if errors else OK
