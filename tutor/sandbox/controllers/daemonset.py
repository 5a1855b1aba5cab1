"""DaemonSets: one pod on each node that matches the template's nodeSelector."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.common import (
    owned,
    owner_keys,
    pod_active,
    pod_from_template,
    pod_ready,
)
from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.controllers.statefulset import revision_hash
from tutor.sandbox.objects import Obj, random_suffix
from tutor.sandbox.selectors import selector_from_map
from tutor.sandbox.store import WatchEvent


class DaemonSetController(Controller):
    name = "daemonset"
    watches = ("daemonsets.apps", "pods", "nodes")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods":
            return owner_keys(event, "DaemonSet")
        if event.resource == "nodes":
            return [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in self.store.iter("daemonsets.apps")]
        return [(event.namespace, event.name)]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        ds = self.store.peek("daemonsets.apps", namespace, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return None
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        pod_spec = template.get("spec") or {}
        revision = revision_hash(template)
        nodes = [
            n
            for n in self.store.iter("nodes")
            if not pod_spec.get("nodeSelector")
            or selector_from_map(pod_spec["nodeSelector"]).matches(n["metadata"].get("labels"))
        ]
        pods = [p for p in owned(self.store, ds, "pods") if pod_active(p)]
        by_node: dict[str, Obj] = {}
        for pod in pods:
            node = (pod.get("spec") or {}).get("nodeName", "")
            if node in by_node or node not in {n["metadata"]["name"] for n in nodes}:
                self.store.delete("pods", namespace, pod["metadata"]["name"])
                continue
            by_node[node] = pod
        for node in nodes:
            node_name = node["metadata"]["name"]
            current = by_node.get(node_name)
            if (
                current is not None
                and (current["metadata"].get("labels") or {}).get("controller-revision-hash") != revision
            ):
                self.store.delete("pods", namespace, current["metadata"]["name"])
                continue
            if current is None:
                new = pod_from_template(
                    ds,
                    template,
                    f"{name}-{random_suffix()}",
                    extra_labels={"controller-revision-hash": revision},
                )
                new["spec"]["nodeName"] = node_name
                new["spec"]["affinity"] = {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchFields": [
                                        {
                                            "key": "metadata.name",
                                            "operator": "In",
                                            "values": [node_name],
                                        }
                                    ]
                                }
                            ]
                        }
                    }
                }
                self.store.create(new, resource="pods")
        pods = [p for p in owned(self.store, ds, "pods") if pod_active(p)]
        ready = sum(1 for p in pods if pod_ready(p))
        updated = sum(
            1 for p in pods if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision
        )
        status: Obj = {
            "currentNumberScheduled": len(pods),
            "desiredNumberScheduled": len(nodes),
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": updated,
        }
        if ready:
            status["numberAvailable"] = ready
        if len(nodes) - ready > 0:
            status["numberUnavailable"] = len(nodes) - ready
        self.store.replace_status("daemonsets.apps", namespace, name, status)
        return None
