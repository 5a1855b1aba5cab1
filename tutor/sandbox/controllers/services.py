"""Endpoints and EndpointSlices of the Services with a selector, from their pods.

One reconcile writes both, from the same pods, so they always agree:

- the EndpointSlice ``<service>-<suffix>`` (``discovery.k8s.io/v1``, labels
  ``kubernetes.io/service-name`` and ``endpointslice.kubernetes.io/managed-by``, owned
  by the Service) lists every pod with an IP, with ``ready``/``serving``/``terminating``
  conditions: kubectl 1.31's ``describe service`` and ``describe ingress`` read these;
- the Endpoints object ``<service>`` lists the ready pods under ``addresses`` and the
  others under ``notReadyAddresses``; pods being deleted are left out, as the endpoints
  controller leaves them out.

``publishNotReadyAddresses`` counts every pod as ready. A Service without a selector is
left alone: its Endpoints are the user's.
"""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.common import pod_ready
from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.objects import Obj, owner_ref
from tutor.sandbox.selectors import selector_from_map
from tutor.sandbox.store import WatchEvent

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER = "endpointslice-controller.k8s.io"


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


def _where(pod: Obj) -> Obj:
    """An endpoint's node, pod reference and (for a StatefulSet's pod) hostname."""
    spec = pod.get("spec") or {}
    meta = pod["metadata"]
    where: Obj = {
        "nodeName": spec.get("nodeName", ""),
        "targetRef": {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
    }
    if spec.get("hostname"):
        where["hostname"] = spec["hostname"]
    return where


def _address_key(pod: Obj) -> tuple[int, ...]:
    return tuple(int(part) for part in pod["status"]["podIP"].split("."))


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
        spec = svc.get("spec") or {}
        selector = spec.get("selector")
        if not selector or spec.get("type") == "ExternalName":
            return None
        publish = bool(spec.get("publishNotReadyAddresses"))
        pods = sorted(
            (
                p
                for p in self.store.iter("pods", namespace, selector_from_map(selector))
                if (p.get("status") or {}).get("podIP")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            ),
            key=_address_key,
        )
        sample = next((p for p in pods if not p["metadata"].get("deletionTimestamp")), pods[0] if pods else None)
        ports = []
        for port in spec.get("ports") or []:
            target = _target_port(port, sample)
            if target is None:
                continue
            entry: Obj = {"port": target, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
        self._endpoints(svc, existing, pods, ports, publish)
        self._slice(svc, pods, ports, publish)
        return None

    # ---- Endpoints ---------------------------------------------------------------------

    def _endpoints(self, svc: Obj, existing: Obj | None, pods: list[Obj], ports: list[Obj], publish: bool) -> None:
        namespace, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        ready: list[Obj] = []
        unready: list[Obj] = []
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp") and not publish:
                continue
            address = {"ip": pod["status"]["podIP"], **_where(pod)}
            (ready if publish or pod_ready(pod) else unready).append(address)
        subset: Obj = {}
        if ready:
            subset["addresses"] = ready
        if unready:
            subset["notReadyAddresses"] = unready
        if subset:
            subset["ports"] = [{k: v for k, v in p.items()} for p in ports]
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

    # ---- EndpointSlice -------------------------------------------------------------------

    def _slice(self, svc: Obj, pods: list[Obj], ports: list[Obj], publish: bool) -> None:
        namespace, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        endpoints = []
        for pod in pods:
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            serving = publish or pod_ready(pod)
            endpoint: Obj = {
                "addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": serving and not terminating, "serving": serving, "terminating": terminating},
                **_where(pod),
            }
            endpoints.append(endpoint)
        slice_ports = [
            {"name": p.get("name", ""), "port": p["port"], "protocol": p["protocol"]}
            for p in ports
            if p.get("protocol", "TCP") in ("TCP", "UDP", "SCTP")
        ]
        labels = {
            **{k: v for k, v in (svc["metadata"].get("labels") or {}).items() if k not in (SERVICE_NAME, MANAGED_BY)},
            SERVICE_NAME: name,
            MANAGED_BY: CONTROLLER,
        }
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        mine = [
            s
            for s in self.store.iter("endpointslices.discovery.k8s.io", namespace, f"{SERVICE_NAME}={name}")
            if (s["metadata"].get("labels") or {}).get(MANAGED_BY) == CONTROLLER
        ]
        desired: Obj = {"addressType": "IPv4", "endpoints": endpoints or None, "ports": slice_ports or None}
        if not mine:
            self.store.create(
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "generateName": f"{name}-",
                        "namespace": namespace,
                        "labels": labels,
                        "ownerReferences": [owner_ref(svc)],
                    },
                    **desired,
                },
                resource="endpointslices.discovery.k8s.io",
            )
            return
        current, *extra = mine
        for stale in extra:
            self.store.delete("endpointslices.discovery.k8s.io", namespace, stale["metadata"]["name"])
        if any(current.get(k) != v for k, v in desired.items()) or (current["metadata"].get("labels") or {}) != labels:
            updated = {**current, **desired, "metadata": {**current["metadata"], "labels": labels}}
            updated["metadata"].pop("resourceVersion", None)
            self.store.update(updated, resource="endpointslices.discovery.k8s.io")
