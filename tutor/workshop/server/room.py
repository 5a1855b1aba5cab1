"""What the board shows: each learner's status, the room's totals, and the live feed.

The JSON built here is the API's (version 1, documented in docs/workshop.md); the board,
`workshop status` and scripts read the same objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tutor.workshop.notices import Notice
from tutor.workshop.server.store import Learner, Store

API_VERSION = 1
AWAY_AFTER = 60.0
"""Seconds without a word from a learner's tutor (it asks for notices every 25 s) before
the board says the learner is away."""
RECENT_NOTICES = 20
FEED_BACKLOG = 2000
"""Events a board may fall behind by before its stream is cut (it reconnects and gets the room anew)."""


class Status(StrEnum):
    JOINED = "joined"
    """Joined, no snapshot yet."""
    WORKING = "working"
    STUCK = "stuck"
    DONE = "done"
    AWAY = "away"


def status_of(learner: Learner, now: float) -> Status:
    snapshot = learner.snapshot
    if snapshot is not None and snapshot.done:
        return Status.DONE
    if now - learner.last_seen > AWAY_AFTER:
        return Status.AWAY
    if snapshot is None:
        return Status.JOINED
    if snapshot.stuck is not None:
        return Status.STUCK
    return Status.WORKING


def stuck_since(learner: Learner) -> float | None:
    """When the learner's stuck step stopped passing, on the server's clock."""
    if learner.snapshot is None or learner.snapshot.stuck is None or learner.received_at is None:
        return None
    return learner.received_at - learner.snapshot.stuck.for_seconds


def learner_json(learner: Learner, now: float) -> dict[str, Any]:
    snapshot = learner.snapshot
    lesson = snapshot.lesson if snapshot else None
    return {
        "id": learner.id,
        "name": learner.name,
        "status": status_of(learner, now).value,
        "joined_at": learner.joined_at,
        "last_seen": learner.last_seen,
        "received_at": learner.received_at,
        "stuck_since": stuck_since(learner),
        "done_at": {step: at for (of, step), at in learner.done_at.items() if of == lesson},
        "snapshot": snapshot.to_json() if snapshot else None,
    }


def totals_json(store: Store, now: float) -> dict[str, Any]:
    """The room in numbers, naming no one: what learners may see."""
    counts = dict.fromkeys(Status, 0)
    lessons: dict[str, dict[str, Any]] = {}
    for learner in store.learners.values():
        counts[status_of(learner, now)] += 1
        snapshot = learner.snapshot
        if snapshot is None:
            continue
        entry = lessons.setdefault(
            snapshot.lesson,
            {"id": snapshot.lesson, "title": snapshot.lesson_title, "learners": 0, "done": 0, "steps": {}},
        )
        entry["learners"] += 1
        entry["done"] += snapshot.done
        for step in snapshot.steps:
            row = entry["steps"].setdefault(step.id, {"id": step.id, "title": step.title, "done": 0})
            row["done"] += step.done
    return {
        "learners": len(store.learners),
        **{status.value: counts[status] for status in Status},
        "lessons": [{**entry, "steps": list(entry["steps"].values())} for entry in lessons.values()],
    }


def room_json(store: Store, now: float) -> dict[str, Any]:
    return {
        "api": API_VERSION,
        "workshop": {"name": store.name, "created_at": store.created_at},
        "server_time": now,
        "away_after": AWAY_AFTER,
        "learners": [learner_json(learner, now) for learner in store.learners.values()],
        "notices": [notice.to_json() for notice in store.notices[-RECENT_NOTICES:]],
        "totals": totals_json(store, now),
    }


def presence_json(store: Store, now: float) -> dict[str, Any]:
    return {"server_time": now, "last_seen": {learner.id: learner.last_seen for learner in store.learners.values()}}


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@dataclass(eq=False)
class Subscriber:
    """One board's stream: events queue up here until its handler writes them."""

    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(FEED_BACKLOG))
    overflowed: bool = False

    def offer(self, message: bytes | None) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True


class Feed:
    """The live side of the room: boards' event streams, and learners waiting for notices."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self._posted = asyncio.Event()
        self.closing = False

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, event: str, data: dict[str, Any]) -> None:
        if not self.subscribers:
            return
        message = sse(event, data)
        for subscriber in self.subscribers:
            subscriber.offer(message)

    def notice_posted(self, notice: Notice) -> None:
        self.publish("notice", notice.to_json())
        posted, self._posted = self._posted, asyncio.Event()
        posted.set()

    async def wait_for_notice(self, timeout: float) -> None:
        """Until a notice is posted, the server closes, or `timeout` seconds pass."""
        if self.closing:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._posted.wait(), timeout)

    def close(self) -> None:
        self.closing = True
        self._posted.set()
        for subscriber in self.subscribers:
            subscriber.offer(None)
