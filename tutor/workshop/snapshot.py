"""The snapshot a learner's tutor sends to the workshop board: what the instructor sees.

Pure data, no I/O. A snapshot says where a learner is in a lesson and how its checks
stand; it cannot carry anything else. Every string is bounded and one printable line,
every list is bounded, and there is no free-form map: a kubeconfig, a token, a command's
output or the environment has no field to travel in. The server parses every body with
`Snapshot.from_json`, which refuses unknown keys, wrong types and out-of-range values,
and stores only what it parsed (re-serialised), never the body it received.

Version 1 (`"schema": 1`), as JSON:

    {
      "schema": 1,
      "lesson": {"id": "day55", "title": "State and Ingress in Kubernetes"},
      "on_screen": "deploy",                       # the step on screen, or null
      "steps": [                                   # the lesson's steps, in order
        {"id": "start", "title": "Start minikube", "done": true,
         "checks": {"pass": 3, "waiting": 0, "fail": 0}, "hints_used": 0},
        ...
      ],
      "stuck": {"step": "deploy", "for_seconds": 240,   # or null
                "headline": "mongo-0: 0/1 ready, PVC Pending"},
      "questions_answered": 2,
      "processes": [{"name": "pacman-forward", "up": true}],
      "cluster": "sandbox",                        # or "real"
      "tutor_version": "0.1.0",
      "sent_at": 1767225600.25,                    # the learner's clock, seconds since the epoch
      "seq": 17                                    # counts up from 0 in each run of the tutor
    }

A change that a version-1 reader cannot ignore gets a new `schema` number; the server
refuses versions it does not know with a clear error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1

MAX_BODY_BYTES = 64 * 1024
"""The largest snapshot body the server reads: the largest valid snapshot (every field at
its limit, every character four bytes of UTF-8) takes about 44 KiB; day55's takes 3 KiB."""
MAX_STEPS = 64
MAX_PROCESSES = 16
MAX_TITLE = 120
MAX_HEADLINE = 200
MAX_NAME = 40
MAX_COUNT = 10_000
MAX_SECONDS = 7 * 24 * 3600
EARLIEST = 1_577_836_800.0
"""2020-01-01: a `sent_at` before it is a clock that was never set."""
LATEST = 4_102_444_800.0
"""2100-01-01."""
MAX_SEQ = 2**53

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""Lesson, step and process ids: as lessons write them, bounded."""
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,31}")


class SnapshotError(ValueError):
    """A value the schema refuses; `field` is its path in the JSON (`steps[2].title`)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem

    def under(self, prefix: str) -> SnapshotError:
        joined = f"{prefix}.{self.field}" if self.field and not self.field.startswith("[") else prefix + self.field
        return SnapshotError(joined, self.problem)


class Cluster(StrEnum):
    SANDBOX = "sandbox"
    REAL = "real"


def clip(text: str, limit: int) -> str:
    """`text` as one printable line of at most `limit` characters: what a sender does to
    prose (titles, headlines, names) before it builds a snapshot."""
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def check_text(value: object, field: str, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise SnapshotError(field, f"must be a string, not {_kind(value)}")
    if len(value) > limit:
        raise SnapshotError(field, f"is {len(value)} characters long; at most {limit}")
    if not value.isprintable():
        raise SnapshotError(field, "must be one line of printable characters")
    if value != value.strip():
        raise SnapshotError(field, "must not start or end with spaces")
    if not value and not empty:
        raise SnapshotError(field, "must not be empty")
    return value


def check_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not ID.fullmatch(value):
        shown = repr(value) if isinstance(value, str) and len(value) <= 80 else _kind(value)
        raise SnapshotError(field, f"must be an id (letters, digits, '.', '_', '-'; at most 64), not {shown}")
    return value


def check_count(value: object, field: str, limit: int = MAX_COUNT) -> int:
    # bool is an int in Python, and never a count on the wire.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SnapshotError(field, f"must be a whole number, not {_kind(value)}")
    if not 0 <= value <= limit:
        raise SnapshotError(field, f"must be between 0 and {limit}, not {value}")
    return value


def check_flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise SnapshotError(field, f"must be true or false, not {_kind(value)}")
    return value


def display_name(value: object, field: str = "name") -> str:
    """A learner's name as the board shows it: one printable line, 1 to 40 characters."""
    return check_text(value, field, MAX_NAME)


def _kind(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
        case _:
            return type(value).__name__


def object_fields(value: object, field: str, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SnapshotError(field, f"must be an object, not {_kind(value)}")
    unknown = sorted(str(key) for key in value if key not in keys)
    if unknown:
        raise SnapshotError(field, f"has unknown field {unknown[0]!r}")
    missing = sorted(keys - value.keys())
    if missing:
        raise SnapshotError(field, f"lacks field {missing[0]!r}")
    return value


def _list(value: object, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise SnapshotError(field, f"must be a list, not {_kind(value)}")
    if len(value) > limit:
        raise SnapshotError(field, f"has {len(value)} items; at most {limit}")
    return value


def _at(field: str, parse: Any, *args: Any) -> Any:
    """Run a nested parser, its errors' paths prefixed with `field`."""
    try:
        return parse(*args)
    except SnapshotError as err:
        raise err.under(field) from None


@dataclass(frozen=True)
class CheckCounts:
    """How a step's checks stand: `pass`, `waiting`, `fail` as the check engine says."""

    passed: int = 0
    waiting: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        check_count(self.passed, "pass")
        check_count(self.waiting, "waiting")
        check_count(self.failed, "fail")

    def to_json(self) -> dict[str, int]:
        return {"pass": self.passed, "waiting": self.waiting, "fail": self.failed}

    @classmethod
    def from_json(cls, value: object) -> CheckCounts:
        data = object_fields(value, "", frozenset({"pass", "waiting", "fail"}))
        return cls(
            check_count(data["pass"], "pass"),
            check_count(data["waiting"], "waiting"),
            check_count(data["fail"], "fail"),
        )


@dataclass(frozen=True)
class StepState:
    id: str
    title: str
    done: bool = False
    checks: CheckCounts = CheckCounts()
    hints_used: int = 0

    def __post_init__(self) -> None:
        check_id(self.id, "id")
        check_text(self.title, "title", MAX_TITLE)
        check_flag(self.done, "done")
        if not isinstance(self.checks, CheckCounts):
            raise SnapshotError("checks", "must be check counts")
        check_count(self.hints_used, "hints_used")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "done": self.done,
            "checks": self.checks.to_json(),
            "hints_used": self.hints_used,
        }

    @classmethod
    def from_json(cls, value: object) -> StepState:
        data = object_fields(value, "", frozenset({"id", "title", "done", "checks", "hints_used"}))
        return cls(
            check_id(data["id"], "id"),
            check_text(data["title"], "title", MAX_TITLE),
            check_flag(data["done"], "done"),
            _at("checks", CheckCounts.from_json, data["checks"]),
            check_count(data["hints_used"], "hints_used"),
        )


@dataclass(frozen=True)
class Stuck:
    """A step that has not passed for a while, and the diagnosis's headline for it."""

    step: str
    for_seconds: int
    """How long it has not passed, as of the snapshot's `sent_at` (a duration, so that a
    learner's clock being off does not matter)."""
    headline: str

    def __post_init__(self) -> None:
        check_id(self.step, "step")
        check_count(self.for_seconds, "for_seconds", MAX_SECONDS)
        check_text(self.headline, "headline", MAX_HEADLINE)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "for_seconds": self.for_seconds, "headline": self.headline}

    @classmethod
    def from_json(cls, value: object) -> Stuck:
        data = object_fields(value, "", frozenset({"step", "for_seconds", "headline"}))
        return cls(
            check_id(data["step"], "step"),
            check_count(data["for_seconds"], "for_seconds", MAX_SECONDS),
            check_text(data["headline"], "headline", MAX_HEADLINE),
        )


@dataclass(frozen=True)
class Process:
    """A lesson's background process (port-forward, tunnel), by its id in the lesson."""

    name: str
    up: bool

    def __post_init__(self) -> None:
        check_id(self.name, "name")
        check_flag(self.up, "up")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "up": self.up}

    @classmethod
    def from_json(cls, value: object) -> Process:
        data = object_fields(value, "", frozenset({"name", "up"}))
        return cls(check_id(data["name"], "name"), check_flag(data["up"], "up"))


_SNAPSHOT_KEYS = frozenset(
    {
        "schema",
        "lesson",
        "on_screen",
        "steps",
        "stuck",
        "questions_answered",
        "processes",
        "cluster",
        "tutor_version",
        "sent_at",
        "seq",
    }
)


@dataclass(frozen=True)
class Snapshot:
    lesson: str
    lesson_title: str
    steps: tuple[StepState, ...]
    cluster: Cluster
    tutor_version: str
    sent_at: float
    seq: int
    on_screen: str | None = None
    stuck: Stuck | None = None
    questions_answered: int = 0
    processes: tuple[Process, ...] = ()

    def __post_init__(self) -> None:
        check_id(self.lesson, "lesson.id")
        check_text(self.lesson_title, "lesson.title", MAX_TITLE)
        if not isinstance(self.steps, tuple) or not all(isinstance(s, StepState) for s in self.steps):
            raise SnapshotError("steps", "must be step states")
        if len(self.steps) > MAX_STEPS:
            raise SnapshotError("steps", f"has {len(self.steps)} items; at most {MAX_STEPS}")
        ids = [step.id for step in self.steps]
        for index, step_id in enumerate(ids):
            if step_id in ids[:index]:
                raise SnapshotError(f"steps[{index}].id", f"repeats step {step_id!r}")
        if not isinstance(self.cluster, Cluster):
            raise SnapshotError("cluster", "must be 'sandbox' or 'real'")
        if not isinstance(self.tutor_version, str) or not VERSION.fullmatch(self.tutor_version):
            raise SnapshotError("tutor_version", "must be a version such as 0.1.0")
        if (
            isinstance(self.sent_at, bool)
            or not isinstance(self.sent_at, int | float)
            or not math.isfinite(self.sent_at)
            or not EARLIEST <= self.sent_at <= LATEST
        ):
            raise SnapshotError("sent_at", "must be seconds since the epoch, between 2020 and 2100")
        check_count(self.seq, "seq", MAX_SEQ)
        if self.on_screen is not None and check_id(self.on_screen, "on_screen") not in ids:
            raise SnapshotError("on_screen", f"names no step of the lesson: {self.on_screen!r}")
        if self.stuck is not None:
            if not isinstance(self.stuck, Stuck):
                raise SnapshotError("stuck", "must be a stuck step")
            if self.stuck.step not in ids:
                raise SnapshotError("stuck.step", f"names no step of the lesson: {self.stuck.step!r}")
        check_count(self.questions_answered, "questions_answered")
        if not isinstance(self.processes, tuple) or not all(isinstance(p, Process) for p in self.processes):
            raise SnapshotError("processes", "must be processes")
        if len(self.processes) > MAX_PROCESSES:
            raise SnapshotError("processes", f"has {len(self.processes)} items; at most {MAX_PROCESSES}")

    @property
    def done(self) -> bool:
        """Every step of the lesson done."""
        return bool(self.steps) and all(step.done for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "lesson": {"id": self.lesson, "title": self.lesson_title},
            "on_screen": self.on_screen,
            "steps": [step.to_json() for step in self.steps],
            "stuck": self.stuck.to_json() if self.stuck else None,
            "questions_answered": self.questions_answered,
            "processes": [process.to_json() for process in self.processes],
            "cluster": self.cluster.value,
            "tutor_version": self.tutor_version,
            "sent_at": self.sent_at,
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, value: object) -> Snapshot:
        """Parse a decoded JSON body; `SnapshotError` names the first field it refuses."""
        if isinstance(value, dict) and "schema" in value:
            schema = value["schema"]
            if type(schema) is not int or schema != SCHEMA_VERSION:
                shown = repr(schema)[:20]
                raise SnapshotError("schema", f"version {shown} is not known here; this server reads {SCHEMA_VERSION}")
        data = object_fields(value, "", _SNAPSHOT_KEYS)
        lesson = object_fields(data["lesson"], "lesson", frozenset({"id", "title"}))
        steps = _list(data["steps"], "steps", MAX_STEPS)
        processes = _list(data["processes"], "processes", MAX_PROCESSES)
        cluster = data["cluster"]
        if not isinstance(cluster, str) or cluster not in {c.value for c in Cluster}:
            raise SnapshotError("cluster", "must be 'sandbox' or 'real'")
        sent_at = data["sent_at"]
        return cls(
            lesson=check_id(lesson["id"], "lesson.id"),
            lesson_title=check_text(lesson["title"], "lesson.title", MAX_TITLE),
            steps=tuple(_at(f"steps[{i}]", StepState.from_json, step) for i, step in enumerate(steps)),
            cluster=Cluster(cluster),
            tutor_version=data["tutor_version"],
            sent_at=float(sent_at) if isinstance(sent_at, int) and not isinstance(sent_at, bool) else sent_at,
            seq=data["seq"],
            on_screen=None if data["on_screen"] is None else check_id(data["on_screen"], "on_screen"),
            stuck=None if data["stuck"] is None else _at("stuck", Stuck.from_json, data["stuck"]),
            questions_answered=data["questions_answered"],
            processes=tuple(_at(f"processes[{i}]", Process.from_json, p) for i, p in enumerate(processes)),
        )
