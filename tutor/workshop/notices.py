"""What the room says to every learner: the instructor's messages and "everyone, step N".

Pure data, no I/O. The server numbers notices in the order they were posted; a learner's
tutor asks for those after the last number it saw, so each arrives once.

As JSON (version 1 of the workshop API):

    {"id": 4, "kind": "message", "at": 1767225600.0, "text": "Break until 11:00"}
    {"id": 5, "kind": "goto", "at": 1767225900.0, "lesson": "day55", "step": "ingress"}

A `goto` is an offer: the tutor proposes the step and the learner decides. Its `lesson`
is null when the instructor meant whatever lesson each learner has open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tutor.workshop.snapshot import SnapshotError, check_count, check_id, check_text, object_fields

MAX_MESSAGE = 280
MAX_ID = 2**53


@dataclass(frozen=True)
class RoomMessage:
    id: int
    at: float
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "message", "at": self.at, "text": self.text}


@dataclass(frozen=True)
class GoToStep:
    id: int
    at: float
    lesson: str | None
    step: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "goto", "at": self.at, "lesson": self.lesson, "step": self.step}


Notice = RoomMessage | GoToStep


def message_text(value: object) -> str:
    return check_text(value, "text", MAX_MESSAGE)


def parse_notice(value: object) -> Notice:
    """A notice from its JSON; `SnapshotError` (the schema's one error type) if it is not one."""
    if not isinstance(value, dict):
        raise SnapshotError("", "a notice must be an object")
    kind = value.get("kind")
    at = value.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise SnapshotError("at", "must be seconds since the epoch")
    match kind:
        case "message":
            data = object_fields(value, "", frozenset({"id", "kind", "at", "text"}))
            return RoomMessage(check_count(data["id"], "id", MAX_ID), float(at), message_text(data["text"]))
        case "goto":
            data = object_fields(value, "", frozenset({"id", "kind", "at", "lesson", "step"}))
            lesson = None if data["lesson"] is None else check_id(data["lesson"], "lesson")
            return GoToStep(check_count(data["id"], "id", MAX_ID), float(at), lesson, check_id(data["step"], "step"))
        case _:
            raise SnapshotError("kind", f"unknown notice kind {kind!r}")
