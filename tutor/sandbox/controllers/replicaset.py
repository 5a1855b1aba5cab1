"""ReplicaSets keep ``spec.replicas`` pods of their template."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.common import (
    create_pod,
    owned,
    owner_keys,
    pod_active,
    pod_from_template,
    pod_ready,
)
from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.objects import Obj, random_suffix
from tutor.sandbox.store import WatchEvent


def _deletion_rank(pod: Obj) -> tuple[int, int, int, str]:
    """Pods deleted first on scale-down: unscheduled, then pending, then unready, newest."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase", "Pending"), 0)
    return (
        1 if spec.get("nodeName") else 0,
        phase_rank,
        1 if pod_ready(pod) else 0,
        # Newer first: invert the timestamp's sort order.
        "".join(chr(0x10FFFF - ord(ch)) for ch in pod["metadata"].get("creationTimestamp", "")),
    )


class ReplicaSetController(Controller):
    name = "replicaset"
    watches = ("replicasets.apps", "pods")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods":
            return owner_keys(event, "ReplicaSet")
        return [(event.namespace, event.name)]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        rs = self.store.peek("replicasets.apps", namespace, name)
        if rs is None:
            return None
        pods = owned(self.store, rs, "pods")
        active = [p for p in pods if pod_active(p)]
        if not rs["metadata"].get("deletionTimestamp"):
            for failed in (p for p in pods if (p.get("status") or {}).get("phase") == "Failed"):
                self.store.delete("pods", namespace, failed["metadata"]["name"])
            wanted = int((rs.get("spec") or {}).get("replicas", 1))
            if len(active) < wanted:
                template = (rs.get("spec") or {}).get("template") or {}
                for _ in range(wanted - len(active)):
                    pod = pod_from_template(rs, template, f"{name}-{random_suffix()}")
                    active.append(create_pod(self.cluster, rs, pod, "replicaset-controller"))
            elif len(active) > wanted:
                doomed = sorted(active, key=_deletion_rank)[: len(active) - wanted]
                for pod in doomed:
                    self.store.delete("pods", namespace, pod["metadata"]["name"])
                    self.cluster.recorder.record(
                        rs,
                        "Normal",
                        "SuccessfulDelete",
                        f"Deleted pod: {pod['metadata']['name']}",
                        component="replicaset-controller",
                    )
                active = [p for p in active if p not in doomed]
        self._update_status(rs, [p for p in owned(self.store, rs, "pods") if pod_active(p)])
        return None

    def _update_status(self, rs: Obj, active: list[Obj]) -> None:
        ready = sum(1 for p in active if pod_ready(p))
        selector_labels = ((rs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        labeled = sum(
            1
            for p in active
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector_labels.items())
        )
        status: Obj = {"replicas": len(active)}
        if labeled:
            status["fullyLabeledReplicas"] = labeled
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        status["observedGeneration"] = rs["metadata"].get("generation", 1)
        self.store.replace_status("replicasets.apps", rs["metadata"]["namespace"], rs["metadata"]["name"], status)
