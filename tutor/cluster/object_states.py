"""What the object map says of each kind of object, and how it stands (its colour)."""

from __future__ import annotations

from typing import Literal

from tutor.cluster import objects
from tutor.cluster.checks.pods import stuck_state
from tutor.cluster.objects import Obj
from tutor.cluster.relations import Found, Ref, endpoint_pods

Health = Literal["ok", "waiting", "failing", "leaving", "absent"]
"""How a node stands, for colour: ok (Bound, ready), waiting (Pending, 0/1), failing (a stuck
pod, a Lost claim), leaving (Terminating), absent (not created yet)."""


def state_of(kind: str, obj: Obj, found: Found) -> tuple[str, Health]:
    """What the map says of an object, and how it stands."""
    if objects.terminating(obj):
        return "Terminating", "leaving"
    match kind:
        case "pod":
            return _pod_state(obj)
        case "persistentvolumeclaim":
            phase = objects.pvc_phase(obj)
            return phase, "ok" if phase == "Bound" else "failing" if phase == "Lost" else "waiting"
        case "persistentvolume":
            phase = str(objects.status(obj).get("phase") or "Pending")
            health: Health = "ok" if phase in ("Bound", "Available") else "failing" if phase == "Failed" else "waiting"
            return phase, health
        case "storageclass":
            return ("(default)" if objects.is_default_storage_class(obj) else ""), "ok"
        case "deployment" | "replicaset" | "statefulset":
            ready, desired = objects.as_int(objects.status(obj).get("readyReplicas")), desired_replicas(obj)
            return f"{ready}/{desired} ready", "ok" if ready >= desired else "waiting"
        case "daemonset":
            ready = objects.as_int(objects.status(obj).get("numberReady"))
            desired = objects.as_int(objects.status(obj).get("desiredNumberScheduled"))
            return f"{ready}/{desired} ready", "ok" if ready >= desired else "waiting"
        case "service":
            return _service_state(obj, found)
        case "ingress":
            addresses = objects.load_balancer_addresses(obj)
            return (f"address {', '.join(addresses)}", "ok") if addresses else ("no address yet", "waiting")
        case _:
            return "", "ok"


def _pod_state(pod: Obj) -> tuple[str, Health]:
    word = objects.pod_state_word(pod).replace("Running, not ready", "Running")
    statuses = objects.container_statuses(pod)
    total = len(objects.container_images(pod)) or len(statuses)
    ready = sum(1 for item in statuses if item.get("ready") is True)
    state = f"{word} {ready}/{total}"
    if stuck_state(pod) is not None or objects.pod_phase(pod) == "Failed":
        return state, "failing"
    if objects.pod_ready(pod) or objects.pod_phase(pod) == "Succeeded":
        return state, "ok"
    return state, "waiting"


def _service_state(service: Obj, found: Found) -> tuple[str, Health]:
    spec = objects.spec(service)
    kind = str(spec.get("type") or "ClusterIP")
    words = [kind]
    if spec.get("clusterIP") == "None":
        words = ["headless"]
    elif kind == "LoadBalancer":
        addresses = objects.load_balancer_addresses(service)
        words.append(", ".join(addresses) if addresses else "<pending>")
    endpoints = found.get(Ref("endpoints", objects.namespace(service), objects.name(service)))
    if spec.get("selector") and endpoints is not None:
        pods = endpoint_pods(endpoints)
        ready = sum(1 for _, is_ready in pods if is_ready)
        words.append(f"{ready}/{len(pods)} endpoints ready")
        return " ".join(words), "ok" if ready else "waiting"
    return " ".join(words), "ok"


def desired_replicas(obj: Obj) -> int:
    return objects.as_int(objects.spec(obj).get("replicas"), 1)
