"""Progress on disk: which steps of a lesson are done, per cluster.

One JSON file per (lesson, cluster) under the platform's user state folder
(`K8S_TUTOR_STATE_DIR` overrides it). Writes are atomic (temp file, fsync, rename), so a
crash never leaves half a file. A file that cannot be read is moved aside, with a
notice saying where, and progress for that lesson and cluster starts fresh; nothing
else is touched. Only the tutor's own files are read (`tutor.private_files`: folders
0700, files of this user's that no one else may write); another's is ignored, with a
notice. A folder where nothing can be written (read-only, full, not private) makes
`save` raise OSError: the session keeps the progress in memory and says so.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.private_files import NotPrivate, private_dir, read_private, write_private

FORMAT_VERSION = 1


def default_root() -> Path:
    override = os.environ.get("K8S_TUTOR_STATE_DIR")
    if override:
        return Path(override).expanduser() / "progress"
    import platformdirs

    return Path(platformdirs.user_state_dir("k8s-tutor", appauthor=False)) / "progress"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def cluster_key(name: str) -> str:
    """A file name for a cluster (kube context) name; distinct names stay distinct."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"
    if safe != name:
        # Two contexts that differ only in unsafe characters must not share a file.
        safe += "-" + format(abs(hash_text(name)) % 16**8, "08x")
    return safe


def hash_text(text: str) -> int:
    """A stable (not per-process salted) hash."""
    value = 0
    for char in text.encode():
        value = (value * 131 + char) % (2**61 - 1)
    return value


@dataclass
class Answer:
    """How the learner stands with one question."""

    step: str
    correct: bool = False
    """Answered right (by the learner, or by autoplay)."""
    tries: int = 0
    """Answers judged right or wrong (an unreadable one is not a try)."""
    revealed: bool = False
    """The learner asked to see the answer."""

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "correct": self.correct, "tries": self.tries, "revealed": self.revealed}

    @classmethod
    def from_json(cls, data: Any) -> Answer:
        if not isinstance(data, dict) or not isinstance(data.get("step"), str):
            raise ValueError("has an invalid answer")
        correct, tries, revealed = data.get("correct", False), data.get("tries", 0), data.get("revealed", False)
        if not isinstance(correct, bool) or not isinstance(revealed, bool) or type(tries) is not int or tries < 0:
            raise ValueError("has an invalid answer")
        return cls(data["step"], correct, tries, revealed)


@dataclass
class Progress:
    lesson: str
    cluster: str
    completed: list[str] = field(default_factory=list)
    """Step ids, in the order the learner completed them."""
    current: str | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    """What `remember` checks saw when they passed (e.g. the saved high scores)."""
    answers: dict[str, Answer] = field(default_factory=dict)
    """The lesson's questions answered on this cluster, by question id."""
    updated: str | None = None
    notice: str | None = field(default=None, compare=False)
    """Set when the stored file was unreadable and was moved aside (not saved)."""

    def is_done(self, step_id: str) -> bool:
        return step_id in self.completed

    def mark_done(self, step_id: str) -> None:
        if step_id not in self.completed:
            self.completed.append(step_id)

    def forget_from(self, step_ids: list[str]) -> None:
        """Forget the given steps (drift: what they built is gone)."""
        self.completed = [step for step in self.completed if step not in step_ids]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "lesson": self.lesson,
            "cluster": self.cluster,
            "completed": list(self.completed),
            "current": self.current,
            "memory": self.memory,
            "answers": {question: answer.to_json() for question, answer in self.answers.items()},
            "updated": self.updated,
        }


class ProgressStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_root()

    def path(self, lesson: str, cluster: str) -> Path:
        return self.root / lesson / f"{cluster_key(cluster)}.json"

    def load(self, lesson: str, cluster: str) -> Progress:
        path = self.path(lesson, cluster)
        try:
            raw = self._read(path)
        except FileNotFoundError:
            return Progress(lesson, cluster)
        except NotPrivate as err:
            progress = Progress(lesson, cluster)
            progress.notice = f"Saved progress ignored: {err}. This lesson starts afresh on this cluster."
            return progress
        except OSError as err:
            return self._recover(path, lesson, cluster, f"cannot be read ({err.strerror or err})")
        try:
            return _parse(raw, lesson, cluster)
        except ValueError as err:
            return self._recover(path, lesson, cluster, str(err))

    def peek(self, lesson: str, cluster: str) -> Progress | None:
        """The saved progress as it is, or None when there is none or it cannot be read.

        Unlike `load`, it never moves an unreadable file aside: whoever loads it for real
        says so to the learner.
        """
        try:
            return _parse(self._read(self.path(lesson, cluster)), lesson, cluster)
        except (OSError, ValueError):
            return None

    def _read(self, path: Path) -> bytes:
        private_dir(path.parent, create=False)
        return read_private(path)

    def save(self, progress: Progress) -> Path:
        """Write the progress; OSError (NotPrivate among them) when it cannot be saved."""
        progress.updated = _now()
        path = self.path(progress.lesson, progress.cluster)
        private_dir(self.root)
        private_dir(path.parent)
        data = json.dumps(progress.to_json(), indent=2, sort_keys=True) + "\n"
        write_private(path, data.encode("utf-8"), durable=True)
        return path

    def all_for(self, lesson: str) -> list[Progress]:
        """Progress of `lesson` on every cluster it was played on (unreadable files skipped)."""
        folder = self.root / lesson
        result = []
        try:
            private_dir(folder, create=False)
        except OSError:
            return []
        for path in sorted(folder.glob("*.json")):
            try:
                result.append(_parse(read_private(path), lesson, None))
            except (OSError, ValueError):
                continue
        return result

    def forget(self, lesson: str, cluster: str | None = None) -> list[Path]:
        """Delete progress of `lesson` on `cluster` (on every cluster if None); returns what was removed."""
        targets: Iterator[Path]
        if cluster is not None:
            targets = iter([self.path(lesson, cluster)])
        else:
            folder = self.root / lesson
            targets = folder.glob("*.json") if folder.is_dir() else iter([])
        removed = []
        for path in targets:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(path)
        return removed

    def _recover(self, path: Path, lesson: str, cluster: str, reason: str) -> Progress:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{path.stem}.corrupt-{stamp}{path.suffix}")
        try:
            os.replace(path, aside)
            where = f"moved it to {aside}"
        except OSError as err:
            where = f"could not move it aside ({err.strerror or err})"
        progress = Progress(lesson, cluster)
        progress.notice = f"Progress file {path} {reason}; {where} and started this lesson afresh on this cluster."
        return progress


def _parse(raw: bytes, lesson: str, cluster: str | None) -> Progress:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"is not UTF-8 text (byte {err.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"is not valid JSON ({err.msg} at line {err.lineno})") from err
    if not isinstance(data, dict):
        raise ValueError("does not hold a progress record")
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise ValueError(f"has format version {version!r}, which this k8s-tutor does not read")
    completed = data.get("completed")
    memory = data.get("memory", {})
    current = data.get("current")
    if not isinstance(completed, list) or not all(isinstance(step, str) for step in completed):
        raise ValueError("has no valid list of completed steps")
    if not isinstance(memory, dict):
        raise ValueError("has an invalid memory section")
    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        raise ValueError("has an invalid answers section")
    if current is not None and not isinstance(current, str):
        raise ValueError("has an invalid current step")
    stored_cluster = data.get("cluster")
    if not isinstance(stored_cluster, str):
        raise ValueError("does not say which cluster it belongs to")
    if data.get("lesson") != lesson or (cluster is not None and stored_cluster != cluster):
        raise ValueError("belongs to another lesson or cluster")
    updated = data.get("updated")
    return Progress(
        lesson=lesson,
        cluster=stored_cluster,
        completed=list(dict.fromkeys(completed)),
        current=current,
        memory=memory,
        answers={str(question): Answer.from_json(answer) for question, answer in answers.items()},
        updated=updated if isinstance(updated, str) else None,
    )
