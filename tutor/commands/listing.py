"""`k8s-tutor list [--json]`: the lessons, their steps and the progress saved on each cluster."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.commands.exit_codes import OK
from tutor.commands.lessons import catalog
from tutor.progress import ProgressStore
from tutor.safe_text import strip_controls


@dataclass(frozen=True)
class ListOptions:
    json: bool = False
    lessons: tuple[Path, ...] = ()


def lesson_rows(lessons: tuple[Path, ...]) -> list[dict[str, Any]]:
    """Every lesson with its steps and saved progress: `list --json`'s rows, and the picker's."""
    found = catalog(lessons)
    store = ProgressStore()
    rows = []
    for lesson in sorted(found.lessons.values(), key=lambda item: item.id):
        progress = store.all_for(lesson.id)
        rows.append(
            {
                "id": lesson.id,
                "title": lesson.title,
                "description": lesson.description,
                "path": str(lesson.path),
                "steps": [{"id": step.id, "title": step.title} for step in lesson.steps],
                "progress": [
                    {
                        "cluster": item.cluster,
                        "completed": [s.id for s in lesson.steps if item.is_done(s.id)],
                        "current": item.current,
                        "updated": item.updated,
                    }
                    for item in progress
                ],
            }
        )
    return rows


def run(options: ListOptions) -> int:
    rows = lesson_rows(options.lessons)
    if options.json:
        print(json.dumps({"lessons": rows}, indent=2))
        return OK
    if not rows:
        print("No lessons found.")
        return OK
    width = max(len(row["id"]) for row in rows)
    for row in rows:
        done = "; ".join(
            f"{item['cluster']}: {len(item['completed'])}/{len(row['steps'])} done" for item in row["progress"]
        )
        # Cluster names come from kubeconfigs: text only.
        print(
            strip_controls(
                f"{row['id']:<{width}}  {row['title']}  ({len(row['steps'])} steps){'  ' + done if done else ''}"
            )
        )
        for index, step in enumerate(row["steps"], 1):
            print(f"{'':<{width}}  {index:>2}. {step['id']}: {step['title']}")
    return OK
