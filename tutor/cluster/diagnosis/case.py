"""What diagnosis looks at: the check's subjects and the objects around them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tutor.cluster import objects
from tutor.cluster.objects import Obj
from tutor.cluster.results import Subject
from tutor.cluster.view import ClusterView, WatchKey, find


@dataclass(frozen=True)
class Case:
    view: ClusterView
    subjects: tuple[Subject, ...]
    check_kind: str = ""
    wanted_default: str | None = None
    """For default_storageclass: the class the lesson makes the default."""
    profile: str | None = None
    """The minikube profile, for `minikube -p PROFILE ...` in commands."""
    namespaces: tuple[str, ...] = field(default=())
    """Namespaces the check works in (its subjects' and its own)."""

    def get(self, subject: Subject) -> Obj | None:
        try:
            return find(self.view, subject.kind, subject.namespace, subject.name)
        except ValueError:
            return None

    def subject_objects(self, kind: str) -> Iterator[tuple[Subject, Obj]]:
        for subject in self.subjects:
            if subject.kind == kind:
                obj = self.get(subject)
                if obj is not None:
                    yield subject, obj

    def pods(self) -> list[Obj]:
        return [obj for _, obj in self.subject_objects("pod")]

    def claims(self) -> list[Obj]:
        """Claims among the subjects, and the claims the subject pods mount."""
        found: dict[tuple[str | None, str], Obj] = {}
        for _, pvc in self.subject_objects("persistentvolumeclaim"):
            found[(objects.namespace(pvc), objects.name(pvc))] = pvc
        for pod in self.pods():
            ns = objects.namespace(pod)
            for claim in objects.pod_claims(pod):
                mounted = find(self.view, "pvc", ns, claim)
                if mounted is not None:
                    found[(ns, claim)] = mounted
        return list(found.values())

    def storage_classes(self) -> list[Obj]:
        return list(self.view.objects(WatchKey.of("storageclass")))

    def events_for(self, namespace: str | None, name: str) -> list[Obj]:
        if namespace is None:
            return []
        events = self.view.objects(WatchKey.of("event", namespace))
        return [event for event in events if _involved(event).get("name") == name]

    def minikube(self, args: str) -> str:
        profile = f" -p {self.profile}" if self.profile else ""
        return f"minikube{profile} {args}"


def _involved(event: Obj) -> dict[str, str]:
    value = event.get("involvedObject") or event.get("regarding")
    return value if isinstance(value, dict) else {}


def event_time(event: Obj) -> str:
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or objects.meta(event).get("creationTimestamp")
        or ""
    )


def event_line(event: Obj) -> str:
    """Like `kubectl get events`: TYPE REASON (AGE, xCOUNT): MESSAGE."""
    count = objects.as_int(event.get("count"), 1)
    times = f", x{count}" if count > 1 else ""
    age = objects.ago(objects.parse_time(event_time(event)))
    message = " ".join(str(event.get("message", "")).split())
    return f"{event.get('type', 'Normal')} {event.get('reason', '?')} ({age} ago{times}): {message}"
