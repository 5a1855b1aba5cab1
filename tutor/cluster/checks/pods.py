"""Words about pods shared by the pod-related checks: progress lines and error states."""

from __future__ import annotations

from collections.abc import Sequence

from tutor.cluster import objects
from tutor.cluster.objects import Obj
from tutor.cluster.view import ClusterView, WatchKey

STUCK_STATES = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "Error",
    }
)
"""Container states that waiting will not mend: the learner must change something."""


def stuck_state(pod: Obj) -> str | None:
    """The pod's stuck state word (`ImagePullBackOff`, `Init:CrashLoopBackOff`), or None."""
    word = objects.pod_state_word(pod)
    base = word.removeprefix("Init:")
    return word if base in STUCK_STATES else None


def claim_notes(view: ClusterView, pod: Obj) -> list[str]:
    """`PVC mongo-data-mongo-0 Pending` for each claim of the pod that is not Bound."""
    ns = objects.namespace(pod)
    if ns is None:
        return []
    claims = {objects.name(pvc): pvc for pvc in view.objects(WatchKey.of("pvc", ns))}
    notes = []
    for claim in objects.pod_claims(pod):
        pvc = claims.get(claim)
        if pvc is None:
            notes.append(f"PVC {claim} missing")
        elif objects.pvc_phase(pvc) != "Bound":
            notes.append(f"PVC {claim} {objects.pvc_phase(pvc)}")
    return notes


def pod_progress(view: ClusterView, pod: Obj) -> str:
    """`mongo-0 Pending, PVC mongo-data-mongo-0 Pending` / `mongo-0 ContainerCreating`."""
    parts = [f"{objects.name(pod)} {objects.pod_state_word(pod)}", *claim_notes(view, pod)]
    return ", ".join(parts)


def progress_line(view: ClusterView, not_ready: Sequence[Obj], limit: int = 3) -> str:
    shown = [pod_progress(view, pod) for pod in sorted(not_ready, key=objects.name)[:limit]]
    more = len(not_ready) - limit
    if more > 0:
        shown.append(f"and {more} more")
    return "; ".join(shown)


def pod_lines(pods: Sequence[Obj]) -> list[str]:
    """Like `kubectl get pods`: NAME READY STATUS RESTARTS."""
    lines = []
    for pod in sorted(pods, key=objects.name):
        statuses = objects.container_statuses(pod)
        ready = sum(1 for item in statuses if item.get("ready"))
        total = len(objects.container_images(pod)) or len(statuses)
        restarts = sum(objects.as_int(item.get("restartCount")) for item in statuses)
        lines.append(f"{objects.name(pod)}  {ready}/{total}  {objects.pod_state_word(pod)}  restarts {restarts}")
    return lines
