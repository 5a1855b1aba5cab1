"""Recent Events of the objects a check is about: warnings first, then the newest."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.cluster import objects
from tutor.cluster.diagnosis.case import Case, event_line, event_time
from tutor.cluster.results import Finding

MAX_LINES = 5
MAX_OBJECTS = 3


def recent_events(case: Case) -> Iterator[Finding]:
    named: list[tuple[str, str | None, str]] = [(s.kind, s.namespace, s.name) for s in case.subjects if s.namespace]
    named += [("persistentvolumeclaim", objects.namespace(pvc), objects.name(pvc)) for pvc in case.claims()]
    shown = 0
    seen = set()
    for kind, ns, name in named:
        if (ns, name) in seen or shown >= MAX_OBJECTS:
            continue
        seen.add((ns, name))
        events = case.events_for(ns, name)
        if not events:
            continue
        # Newest first, then warnings ahead of normal events (a stable sort keeps the age order).
        events = sorted(events, key=event_time, reverse=True)
        events.sort(key=lambda event: event.get("type") != "Warning")
        warnings = sum(1 for event in events if event.get("type") == "Warning")
        count = f"{warnings} warning{'s' if warnings != 1 else ''}" if warnings else "no warnings"
        shown += 1
        yield Finding(
            "recent_events",
            f"events of {kind} {name} ({count})",
            tuple(event_line(event) for event in events[:MAX_LINES]),
            f"kubectl get events -n {ns} --field-selector involvedObject.name={name}",
        )
