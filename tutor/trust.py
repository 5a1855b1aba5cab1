"""Which lessons from elsewhere the learner trusts to run commands: records beside the progress.

A lesson is code: its commands, background commands, cleanups and `command` checks run
as the learner. The lessons shipped with k8s-tutor are trusted. Any other lesson (from
`--lessons DIR` or K8S_TUTOR_LESSONS) runs nothing until the learner trusts it, once, after
reading what it runs and reaches (`explain`); the record holds the SHA-256 of the lesson
file and of every file its commands name (its manifests), so an edit to any of them
asks again. `k8s-tutor trust` lists, adds and revokes records; `--trust` trusts for one
run without a record (CI).

The records are one JSON file in the user's state folder (`K8S_TUTOR_STATE_DIR`), read
back only if it is the tutor's own (`tutor.private_files`): a record another user could
have written trusts nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.lesson.catalog import builtin_dir
from tutor.lesson.model import Lesson
from tutor.lesson.reach import reach
from tutor.private_files import private_dir, read_private, write_private

FORMAT_VERSION = 1


def default_path() -> Path:
    override = os.environ.get("K8S_TUTOR_STATE_DIR")
    if override:
        return Path(override).expanduser() / "trust" / "lessons.json"
    import platformdirs

    return Path(platformdirs.user_state_dir("k8s-tutor", appauthor=False)) / "trust" / "lessons.json"


def is_shipped(lesson: Lesson) -> bool:
    """Whether the lesson is one of k8s-tutor's own (its file is in the shipped lessons' folder)."""
    try:
        return lesson.path.resolve().parent == builtin_dir().resolve()
    except (OSError, RuntimeError):
        return False


def fingerprint(lesson: Lesson) -> str:
    """SHA-256 over the lesson file and every file its commands name, with their paths."""
    digest = hashlib.sha256()
    for path in (lesson.path, *reach(lesson).files):
        digest.update(str(path.resolve()).encode() + b"\0")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError as err:
            digest.update(f"unreadable: {err.strerror or err}".encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Record:
    lesson: str
    path: str
    sha256: str
    trusted: str
    """When, ISO 8601 UTC."""

    def to_json(self) -> dict[str, str]:
        return {"lesson": self.lesson, "path": self.path, "sha256": self.sha256, "trusted": self.trusted}


class TrustStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_path()
        self.problem: str | None = None
        """Why the records could not be read (they count as none), for the learner."""

    def records(self) -> list[Record]:
        try:
            private_dir(self.path.parent, create=False)
            data = json.loads(read_private(self.path).decode("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as err:
            self.problem = f"the trust records in {self.path} are not used: {err}"
            return []
        return _records(data)

    def is_trusted(self, lesson: Lesson) -> bool:
        digest = fingerprint(lesson)
        return any(record.sha256 == digest for record in self.records())

    def trust(self, lesson: Lesson) -> Record:
        """Record the lesson as it is now; OSError when the record cannot be written."""
        record = Record(
            lesson.id,
            str(lesson.path.resolve()),
            fingerprint(lesson),
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        kept = [item for item in self.records() if item.path != record.path]
        self._write([*kept, record])
        return record

    def revoke(self, which: str) -> list[Record]:
        """Forget the records of lesson id, path or SHA-256 prefix `which`; returns those removed."""
        resolved = str(Path(which).expanduser().resolve()) if os.sep in which or which.endswith(".md") else None
        records = self.records()
        removed = [
            record
            for record in records
            if record.lesson == which
            or record.path == resolved
            or (len(which) >= 8 and record.sha256.startswith(which))
        ]
        if removed:
            self._write([record for record in records if record not in removed])
        return removed

    def _write(self, records: list[Record]) -> None:
        private_dir(self.path.parent)
        data = {"version": FORMAT_VERSION, "lessons": [record.to_json() for record in records]}
        write_private(self.path, (json.dumps(data, indent=2) + "\n").encode("utf-8"), durable=True)


def _records(data: Any) -> list[Record]:
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION or not isinstance(data.get("lessons"), list):
        return []
    found = []
    for item in data["lessons"]:
        if isinstance(item, dict) and all(isinstance(item.get(key), str) for key in ("lesson", "path", "sha256")):
            found.append(Record(item["lesson"], item["path"], item["sha256"], str(item.get("trusted", ""))))
    return found


def explain(lesson: Lesson) -> str:
    """What the learner reads before trusting a lesson: where it is from, what it runs and reaches."""
    found = reach(lesson)
    programs = (
        ", ".join(f"{program} (!)" if program in found.unusual else program for program in found.programs) or "none"
    )
    hosts = ", ".join(found.hosts) or "none"
    lines = [
        f"Lesson {lesson.id} ({lesson.path}) is not one of k8s-tutor's own lessons.",
        "A lesson is code: its commands run as you, on this machine.",
        f"Programs it runs: {programs}",
        f"Hosts it reaches: {hosts}",
    ]
    if found.unusual:
        lines.append("(!): outside the usual programs, or runs other programs: `k8s-tutor lint` says more.")
    if found.files:
        lines.append(f"Files it applies: {', '.join(str(path) for path in found.files)}")
    lines.append("Until you trust it, you can read it and watch the cluster, but it runs nothing.")
    return "\n".join(lines)


@dataclass(frozen=True)
class Decision:
    trusted: bool
    why: str
    """A line for the learner: why it runs, or why it runs nothing and how to change that."""


def decide_trust(lesson: Lesson, *, given: bool = False, store: TrustStore | None = None) -> Decision:
    """Whether the lesson may run commands, without asking: shipped, `--trust`, or a record."""
    if is_shipped(lesson):
        return Decision(True, "a lesson shipped with k8s-tutor")
    if given:
        return Decision(True, "trusted for this run (--trust)")
    store = store if store is not None else TrustStore()
    if store.is_trusted(lesson):
        return Decision(True, "trusted by you, as it is now")
    why = (
        f"lesson {lesson.id} is from elsewhere and not trusted, so it runs no command "
        f"(`k8s-tutor trust {shlex.quote(str(lesson.path))}` after reading it, or --trust)"
    )
    if store.problem:
        why += f"; {store.problem}"
    return Decision(False, why)
