"""The instructor's records: every learner's latest state and when each step was done.

Never the secrets: no instructor token, no join code, no learner secret (nor its digest).
CSV cells that a spreadsheet would run as a formula (a name such as `=HYPERLINK(...)`)
are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from tutor.workshop.server.room import learner_json, status_of
from tutor.workshop.server.store import Store

EXPORT_VERSION = 1
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso(at: float | None) -> str:
    return "" if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def export_json(store: Store, now: float) -> dict[str, Any]:
    learners = []
    for learner in store.learners.values():
        row = learner_json(learner, now)
        row["steps_done_at"] = [
            {"lesson": lesson, "step": step, "at": at} for (lesson, step), at in sorted(learner.done_at.items())
        ]
        del row["done_at"]
        learners.append(row)
    return {
        "export": EXPORT_VERSION,
        "workshop": {"name": store.name, "created_at": store.created_at},
        "exported_at": now,
        "learners": learners,
        "notices": [notice.to_json() for notice in store.notices],
    }


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(store: Store, now: float) -> str:
    """One row per learner; a `done:STEP` column per step of every lesson seen, with the time."""
    step_columns: list[tuple[str, str]] = []
    for learner in store.learners.values():
        if learner.snapshot is not None:
            for step in learner.snapshot.steps:
                if (learner.snapshot.lesson, step.id) not in step_columns:
                    step_columns.append((learner.snapshot.lesson, step.id))
    lessons = {lesson for lesson, _ in step_columns}
    header = [
        "learner",
        "name",
        "status",
        "joined_at",
        "last_seen",
        "lesson",
        "on_screen",
        "steps_done",
        "steps_total",
        "stuck_step",
        "stuck_headline",
        "hints_used",
        "questions_answered",
        "cluster",
        "tutor_version",
    ] + [f"done:{step}" if len(lessons) == 1 else f"done:{lesson}/{step}" for lesson, step in step_columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for learner in store.learners.values():
        snap = learner.snapshot
        row: list[object] = [
            learner.id,
            learner.name,
            status_of(learner, now).value,
            iso(learner.joined_at),
            iso(learner.last_seen),
        ]
        if snap is None:
            row += [""] * 10
        else:
            row += [
                snap.lesson,
                snap.on_screen,
                sum(step.done for step in snap.steps),
                len(snap.steps),
                snap.stuck.step if snap.stuck else "",
                snap.stuck.headline if snap.stuck else "",
                sum(step.hints_used for step in snap.steps),
                snap.questions_answered,
                snap.cluster.value,
                snap.tutor_version,
            ]
        row += [iso(learner.done_at.get(key)) for key in step_columns]
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
