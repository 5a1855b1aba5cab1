"""What the lesson picker shows of each lesson; built by the CLI, which already has the catalog."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LessonChoice:
    id: str
    title: str
    description: str
    steps: int
    progress: tuple[str, ...] = ()
    """One line per cluster with saved progress, e.g. "mc-demo: 3 of 11 steps done"."""
