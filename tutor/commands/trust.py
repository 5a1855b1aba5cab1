"""`k8s-tutor trust [LESSON] [--revoke] [--yes] [--json]`: let a lesson from elsewhere run its
commands, after showing what it runs and reaches; list the lessons trusted; forget one."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tutor import lesson_cache
from tutor.commands.exit_codes import FAIL, OK, Failed, UsageError
from tutor.commands.lessons import find_lesson
from tutor.lesson.model import Lesson
from tutor.lesson.problems import LessonError
from tutor.safe_text import strip_controls
from tutor.session.asking import ask_yes_no, on_terminal
from tutor.trust import TrustStore, explain, is_shipped


@dataclass(frozen=True)
class TrustOptions:
    lesson: str | None = None
    """A lesson id (with --lessons) or a lesson file; None: list the trusted ones."""
    revoke: bool = False
    yes: bool = False
    json: bool = False
    lessons: tuple[Path, ...] = ()


def run(options: TrustOptions) -> int:
    store = TrustStore()
    if options.lesson is None:
        if options.revoke:
            raise UsageError("--revoke needs the lesson to forget: its id, its file, or its hash")
        return _list_trusted(store, as_json=options.json)
    if options.revoke:
        return _revoke(store, options.lesson)
    lesson = _lesson_to_trust(options.lesson, options.lessons)
    if is_shipped(lesson):
        print(f"{lesson.id} is shipped with k8s-tutor: it needs no trust.")
        return OK
    print(strip_controls(explain(lesson)))
    if store.is_trusted(lesson):
        print("You already trust it, as it is now.")
        return OK
    if not options.yes:
        if not on_terminal():
            raise UsageError("trusting a lesson asks you at a terminal; to trust it without asking, add --yes")
        if not ask_yes_no("Trust it and let it run its commands?"):
            print("Not trusted; nothing changed.")
            return FAIL
    try:
        record = store.trust(lesson)
    except OSError as err:
        raise Failed(f"cannot record the trust: {err}") from None
    print(f"Trusted {lesson.id} as it is now (sha256 {record.sha256[:12]}); a change to it or its files asks again.")
    return OK


def _revoke(store: TrustStore, which: str) -> int:
    try:
        removed = store.revoke(which)
    except OSError as err:
        raise Failed(f"cannot change the trust records: {err}") from None
    if not removed:
        print(f"No trust in {which} is recorded; nothing changed.")
        return FAIL
    for record in removed:
        print(strip_controls(f"No longer trusted: {record.lesson} ({record.path})."))
    return OK


def _list_trusted(store: TrustStore, *, as_json: bool) -> int:
    records = store.records()
    if store.problem:
        print(strip_controls(f"k8s-tutor trust: {store.problem}"), file=sys.stderr)
    if as_json:
        print(json.dumps({"trusted": [record.to_json() for record in records]}, indent=2))
    elif not records:
        print("You trust no lesson from elsewhere (the shipped lessons need no trust).")
    for record in [] if as_json else records:
        print(strip_controls(f"{record.lesson}  {record.path}  sha256 {record.sha256[:12]}  since {record.trusted}"))
    return OK


def _lesson_to_trust(which: str, lessons: tuple[Path, ...]) -> Lesson:
    """LESSON as a file (a path that exists), else as an id among the lessons found."""
    path = Path(which).expanduser()
    if not os.path.lexists(path):
        return find_lesson(lessons, which)
    try:
        return lesson_cache.load(path)
    except LessonError as err:
        raise UsageError(f"{path} is not a lesson that can be opened:\n{err}") from None
