"""Helpers the workload controllers share: owned pods, readiness, pod creation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.sandbox.objects import Obj, clone, controller_of, owner_ref
from tutor.sandbox.store import Store, WatchEvent

if TYPE_CHECKING:
    from tutor.sandbox.controllers.runtime import Cluster


def owner_keys(event: WatchEvent, kind: str) -> list[tuple[str, str]]:
    """(namespace, name) of the ``kind`` controller owning the event's object, before or after."""
    keys = []
    for obj in (event.obj, event.old):
        if obj is None:
            continue
        ref = controller_of(obj)
        if ref is not None and ref.get("kind") == kind:
            key = (event.namespace, str(ref.get("name")))
            if key not in keys:
                keys.append(key)
    return keys


def owned(store: Store, owner: Obj, resource: str) -> list[Obj]:
    """Stored objects of ``resource`` whose controller is ``owner`` (uid match)."""
    uid = owner["metadata"]["uid"]
    result = []
    for res, ns, name in store.dependents(uid):
        if res != resource:
            continue
        obj = store.peek(res, ns, name)
        if obj is not None and (controller_of(obj) or {}).get("uid") == uid:
            result.append(obj)
    return result


def pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def pod_active(pod: Obj) -> bool:
    """Not being deleted and not finished: a pod that counts as a replica."""
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded",
        "Failed",
    )


def pod_from_template(
    owner: Obj, template: Obj, name: str | None, *, extra_labels: dict[str, str] | None = None
) -> Obj:
    meta = template.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    labels.update(extra_labels or {})
    pod_meta: Obj = {
        "namespace": owner["metadata"]["namespace"],
        "labels": labels,
        "ownerReferences": [owner_ref(owner)],
    }
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = owner["metadata"]["name"] + "-"
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": clone(template.get("spec") or {}),
    }


def create_pod(cluster: Cluster, owner: Obj, pod: Obj, component: str) -> Obj:
    """Create an owner's pod and record ``SuccessfulCreate`` on the owner, as its controller does."""
    created = cluster.store.create(pod, resource="pods")
    cluster.recorder.record(
        owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}", component=component
    )
    return created


def resolve_int_or_percent(value: object, total: int, *, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        try:
            pct = int(text[:-1])
        except ValueError:
            return 0
        scaled = pct * total
        return -(-scaled // 100) if round_up else scaled // 100
    try:
        return int(text)
    except ValueError:
        return 0
