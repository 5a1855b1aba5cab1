"""Reading Kubernetes objects as the API serves them: plain JSON dicts, camelCase keys.

The cluster layer never turns objects into the client's models: a watch event is
parsed once into a dict, and checks and diagnosis read fields by the same paths a
lesson author writes (`status.loadBalancer.ingress[0].ip`). Every reader here
tolerates missing fields, since a half-created object is the normal case while a
learner works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

Obj = Mapping[str, Any]

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    # Still honoured by Kubernetes (IsDefaultAnnotation checks both).
    "storageclass.beta.kubernetes.io/is-default-class",
)
DEFAULT_INGRESS_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"

_MISSING = object()


def get_path(obj: Any, parts: Sequence[str | int]) -> Any:
    """The value at `parts` (from `parse_field_path`), or `MISSING` when any step is absent."""
    current = obj
    for part in parts:
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                return _MISSING
            current = current[part]
        else:
            if not isinstance(current, Mapping) or part not in current:
                return _MISSING
            current = current[part]
    return current


def is_missing(value: Any) -> bool:
    return value is _MISSING


def meta(obj: Obj) -> Mapping[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def name(obj: Obj) -> str:
    return str(meta(obj).get("name", ""))


def namespace(obj: Obj) -> str | None:
    value = meta(obj).get("namespace")
    return str(value) if value else None


def uid(obj: Obj) -> str | None:
    value = meta(obj).get("uid")
    return str(value) if value else None


def labels(obj: Obj) -> Mapping[str, str]:
    value = meta(obj).get("labels")
    return value if isinstance(value, Mapping) else {}


def annotations_of(obj: Obj) -> Mapping[str, str]:
    value = meta(obj).get("annotations")
    return value if isinstance(value, Mapping) else {}


def resource_version(obj: Obj) -> str | None:
    value = meta(obj).get("resourceVersion")
    return str(value) if value else None


def controller_ref(obj: Obj) -> tuple[str, str, str] | None:
    """(kind, name, uid) of the object's controller, from `ownerReferences`; None without one."""
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, Mapping) and ref.get("controller"):
            return str(ref.get("kind", "")), str(ref.get("name", "")), str(ref.get("uid", ""))
    return None


def terminating(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def spec(obj: Obj) -> Mapping[str, Any]:
    value = obj.get("spec")
    return value if isinstance(value, Mapping) else {}


def status(obj: Obj) -> Mapping[str, Any]:
    value = obj.get("status")
    return value if isinstance(value, Mapping) else {}


def as_int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp from the API (`2024-05-01T10:00:00Z`), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def created(obj: Obj) -> datetime | None:
    return parse_time(meta(obj).get("creationTimestamp"))


def conditions(obj: Obj) -> list[Mapping[str, Any]]:
    value = status(obj).get("conditions")
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def condition(obj: Obj, kind: str) -> Mapping[str, Any] | None:
    for item in conditions(obj):
        if item.get("type") == kind:
            return item
    return None


def condition_true(obj: Obj, kind: str) -> bool:
    found = condition(obj, kind)
    return found is not None and found.get("status") == "True"


# --- pods ---------------------------------------------------------------------------


def pod_ready(pod: Obj) -> bool:
    return condition_true(pod, "Ready")


def pod_phase(pod: Obj) -> str:
    return str(status(pod).get("phase") or "Pending")


def pod_finished(pod: Obj) -> bool:
    """Succeeded or Failed: a Job's leftover or an evicted pod, not a replica that counts."""
    return pod_phase(pod) in ("Succeeded", "Failed")


def container_statuses(pod: Obj, *, init: bool = False) -> list[Mapping[str, Any]]:
    value = status(pod).get("initContainerStatuses" if init else "containerStatuses")
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def container_images(pod: Obj, *, init: bool = False) -> dict[str, str]:
    """Container name -> image, from the pod's spec."""
    value = spec(pod).get("initContainers" if init else "containers")
    result: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping) and item.get("name"):
                result[str(item["name"])] = str(item.get("image", ""))
    return result


def pod_claims(pod: Obj) -> list[str]:
    """Names of the PersistentVolumeClaims the pod mounts."""
    claims = []
    volumes = spec(pod).get("volumes")
    for volume in volumes if isinstance(volumes, list) else []:
        if isinstance(volume, Mapping):
            source = volume.get("persistentVolumeClaim")
            if isinstance(source, Mapping) and source.get("claimName"):
                claims.append(str(source["claimName"]))
    return claims


def pod_state_word(pod: Obj) -> str:
    """What `kubectl get pods` shows in STATUS, roughly: the most telling reason."""
    if terminating(pod):
        return "Terminating"
    init_total = len(container_images(pod, init=True))
    for index, item in enumerate(container_statuses(pod, init=True)):
        state = item.get("state") if isinstance(item.get("state"), Mapping) else {}
        waiting = state.get("waiting") if isinstance(state, Mapping) else None
        terminated = state.get("terminated") if isinstance(state, Mapping) else None
        if isinstance(terminated, Mapping) and as_int(terminated.get("exitCode")) == 0:
            continue
        if isinstance(waiting, Mapping) and waiting.get("reason") not in (None, "PodInitializing"):
            return f"Init:{waiting['reason']}"
        if isinstance(terminated, Mapping):
            return f"Init:{terminated.get('reason') or 'Error'}"
        return f"Init:{index}/{init_total}"
    for item in container_statuses(pod):
        state = item.get("state")
        if isinstance(state, Mapping):
            waiting = state.get("waiting")
            if isinstance(waiting, Mapping) and waiting.get("reason"):
                return str(waiting["reason"])
            terminated = state.get("terminated")
            if isinstance(terminated, Mapping) and terminated.get("reason"):
                return str(terminated["reason"])
    phase = pod_phase(pod)
    if phase == "Running" and not pod_ready(pod):
        return "Running, not ready"
    return phase


# --- storage ------------------------------------------------------------------------


def is_default_storage_class(sc: Obj) -> bool:
    notes = annotations_of(sc)
    return any(notes.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def default_marking(sc: Obj) -> str | None:
    """The value of the (GA, else beta) default-class annotation as written, or None if absent."""
    notes = annotations_of(sc)
    for key in DEFAULT_CLASS_ANNOTATIONS:
        if key in notes:
            return str(notes[key])
    return None


def default_storage_classes(classes: Iterable[Obj]) -> list[str]:
    return sorted(name(sc) for sc in classes if is_default_storage_class(sc))


def pvc_phase(pvc: Obj) -> str:
    return str(status(pvc).get("phase") or "Pending")


def pvc_class(pvc: Obj) -> str | None:
    value = spec(pvc).get("storageClassName")
    return str(value) if value is not None else None


# --- workloads and networking -------------------------------------------------------


def match_labels(obj: Obj) -> Mapping[str, str] | None:
    """A workload's `spec.selector.matchLabels` (None when it uses expressions or has none)."""
    selector = spec(obj).get("selector")
    if not isinstance(selector, Mapping) or selector.get("matchExpressions"):
        return None
    value = selector.get("matchLabels")
    return value if isinstance(value, Mapping) and value else None


def selects(selector: Mapping[str, str], obj: Obj) -> bool:
    own = labels(obj)
    return all(own.get(key) == value for key, value in selector.items())


def load_balancer_addresses(obj: Obj) -> list[str]:
    """`status.loadBalancer.ingress[*].ip|hostname` of a Service or an Ingress."""
    balancer = status(obj).get("loadBalancer")
    entries = balancer.get("ingress") if isinstance(balancer, Mapping) else None
    result = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping):
            address = entry.get("ip") or entry.get("hostname")
            if address:
                result.append(str(address))
    return result


def node_internal_ip(node: Obj) -> str | None:
    addresses = status(node).get("addresses")
    for entry in addresses if isinstance(addresses, list) else []:
        if isinstance(entry, Mapping) and entry.get("type") == "InternalIP" and entry.get("address"):
            return str(entry["address"])
    return None


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """`12s`, `3m`, `2h`: kubectl's AGE column, for evidence lines."""
    if when is None:
        return "?"
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
