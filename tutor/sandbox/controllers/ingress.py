"""Ingress status: the node's address once a running controller has taken the Ingress on.

An Ingress gets an address only when its class (or, with ``--watch-ingress-without-class``,
no class) belongs to an ingress controller whose Deployment or DaemonSet is available.
The controller is recognised by its ``--controller-class=<IngressClass spec.controller>``
argument, as ingress-nginx declares it; without one the address stays empty, which is
what the tutor diagnoses as "no ingress controller".
"""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.objects import Obj, annotations_of
from tutor.sandbox.store import WatchEvent


def _args(workload: Obj) -> list[str]:
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    args: list[str] = []
    for c in spec.get("containers") or []:
        args += [str(a) for a in (c.get("args") or []) + (c.get("command") or [])]
    return args


def _available(workload: Obj, resource: str) -> bool:
    status = workload.get("status") or {}
    if resource == "daemonsets.apps":
        return int(status.get("numberAvailable", 0)) > 0
    return int(status.get("availableReplicas", 0)) > 0


class IngressController(Controller):
    name = "ingress"
    watches = (
        "ingresses.networking.k8s.io",
        "ingressclasses.networking.k8s.io",
        "deployments.apps",
        "daemonsets.apps",
    )

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self._first_served: dict[str, float] = {}

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "ingresses.networking.k8s.io":
            return [(event.namespace, event.name)]
        if event.resource in ("deployments.apps", "daemonsets.apps") and not any(
            a.startswith("--controller-class=") for o in (event.obj, event.old) if o for a in _args(o)
        ):
            return []
        return [
            (i["metadata"]["namespace"], i["metadata"]["name"]) for i in self.store.iter("ingresses.networking.k8s.io")
        ]

    def _controllers(self) -> list[tuple[list[str], bool]]:
        found = []
        for resource in ("deployments.apps", "daemonsets.apps"):
            for workload in self.store.iter(resource):
                args = _args(workload)
                if any(a.startswith("--controller-class=") for a in args):
                    found.append((args, _available(workload, resource)))
        return found

    def served(self, ingress: Obj) -> bool:
        class_name = (ingress.get("spec") or {}).get("ingressClassName") or annotations_of(ingress).get(
            "kubernetes.io/ingress.class"
        )
        controllers = [(args, up) for args, up in self._controllers() if up]
        if not class_name:
            return any("--watch-ingress-without-class=true" in args for args, _up in controllers)
        ic = self.store.peek("ingressclasses.networking.k8s.io", "", class_name)
        if ic is None:
            return False
        controller = (ic.get("spec") or {}).get("controller", "")
        return any(f"--controller-class={controller}" in args for args, _up in controllers)

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        ingress = self.store.peek("ingresses.networking.k8s.io", namespace, name)
        if ingress is None:
            self._first_served.pop(f"{namespace}/{name}", None)
            return None
        if ingress["metadata"].get("deletionTimestamp") or not self.served(ingress):
            return None
        uid = ingress["metadata"]["uid"]
        now = self.store.clock()
        if uid not in self._first_served:
            self._first_served[uid] = now
            self.cluster.recorder.record(
                ingress,
                "Normal",
                "Sync",
                "Scheduled for sync",
                component="nginx-ingress-controller",
            )
        due = self._first_served[uid] + self.cluster.delay("ingress_address")
        if now < due:
            return due - now
        status = {"loadBalancer": {"ingress": [{"ip": self.cluster.node_ip}]}}
        self.store.replace_status("ingresses.networking.k8s.io", namespace, name, status)
        return None
