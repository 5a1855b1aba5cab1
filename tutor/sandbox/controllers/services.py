"""Endpoints for Services with a selector: the ready pods' addresses and target ports."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.common import pod_ready
from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.objects import Obj
from tutor.sandbox.selectors import selector_from_map
from tutor.sandbox.store import WatchEvent


def _target_port(port: Obj, pod: Obj | None) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    if pod is None:
        return None
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p.get("containerPort", 0))
    return None


class EndpointsController(Controller):
    name = "endpoints"
    watches = ("services", "pods")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "services":
            return [(event.namespace, event.name)]
        labels = [o["metadata"].get("labels") or {} for o in (event.obj, event.old) if o is not None]
        keys: list[Key] = []
        for svc in self.store.iter("services", event.namespace):
            selector = (svc.get("spec") or {}).get("selector")
            if selector and any(selector_from_map(selector).matches(lab) for lab in labels):
                keys.append((event.namespace, svc["metadata"]["name"]))
        return keys

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        svc = self.store.peek("services", namespace, name)
        existing = self.store.peek("endpoints", namespace, name)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            if (
                existing is not None
                and svc is None
                and (existing["metadata"].get("labels") or {}).get("endpoints.kubernetes.io/managed-by") != "manual"
            ):
                self.store.delete("endpoints", namespace, name)
            return None
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            return None
        pods = [
            p
            for p in self.store.iter("pods", namespace, selector_from_map(selector))
            if (p.get("status") or {}).get("podIP")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        ready: list[Obj] = []
        unready: list[Obj] = []
        for pod in pods:
            address = {
                "ip": pod["status"]["podIP"],
                "nodeName": (pod.get("spec") or {}).get("nodeName", ""),
                "targetRef": {
                    "kind": "Pod",
                    "namespace": namespace,
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
            }
            if (pod.get("spec") or {}).get("hostname"):
                address["hostname"] = pod["spec"]["hostname"]
            (ready if pod_ready(pod) and not pod["metadata"].get("deletionTimestamp") else unready).append(address)
        sample = pods[0] if pods else None
        ports = []
        for port in (svc.get("spec") or {}).get("ports") or []:
            target = _target_port(port, sample)
            if target is None:
                continue
            entry: Obj = {"port": target, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
        subset: Obj = {}
        if ready:
            subset["addresses"] = sorted(ready, key=lambda a: a["ip"])
        if unready:
            subset["notReadyAddresses"] = sorted(unready, key=lambda a: a["ip"])
        if subset:
            subset["ports"] = ports
        labels = dict(svc["metadata"].get("labels") or {})
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
        }
        if subset:
            body["subsets"] = [subset]
        if existing is None:
            self.store.create(body, resource="endpoints")
        elif existing.get("subsets") != body.get("subsets") or (existing["metadata"].get("labels") or {}) != labels:
            merged = {**existing, "metadata": {**existing["metadata"], "labels": labels}}
            merged.pop("subsets", None)
            if "subsets" in body:
                merged["subsets"] = body["subsets"]
            merged["metadata"].pop("resourceVersion", None)
            self.store.update(merged, resource="endpoints")
        return None
