"""minikube addons, each seen through the objects it creates.

The tutor never asks minikube whether an addon is on (`minikube addons list` is slow,
and the API is what the lesson's next step depends on). An addon counts as enabled
when the objects it installs exist and its workloads are available. The names come
from minikube's addon manifests (notes/facts-day55-minikube-pacman.md §3); a test keeps
this table in step with `tutor.lesson.schema.KNOWN_ADDONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tutor.cluster import objects
from tutor.cluster.objects import Obj, as_int
from tutor.cluster.view import ClusterView, WatchKey, find


@dataclass(frozen=True)
class Part:
    """One object an addon creates, and what it must look like."""

    kind: str
    name: str
    namespace: str | None = None
    ready: str | None = None
    """None: existing is enough; "available": a Deployment with an available replica;
    "pod": a Ready pod."""

    @property
    def key(self) -> WatchKey:
        return WatchKey.of(self.kind, self.namespace)

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.kind}/{self.name}{where}"

    def state(self, view: ClusterView) -> str | None:
        """None when the part is in place, else what is missing, in words."""
        obj = find(view, self.kind, self.namespace, self.name)
        if obj is None:
            if view.type_missing(self.key.kind):
                return f"{self} (the API has no {self.kind} type yet)"
            return f"{self} does not exist"
        if objects.terminating(obj):
            return f"{self} is being deleted"
        if self.ready == "available":
            return _deployment_state(self, obj)
        if self.ready == "pod" and not objects.pod_ready(obj):
            return f"{self} is {objects.pod_state_word(obj)}"
        return None


def _deployment_state(part: Part, obj: Obj) -> str | None:
    status = objects.status(obj)
    wanted = as_int(objects.spec(obj).get("replicas"), 1)
    available = as_int(status.get("availableReplicas"))
    if available >= max(1, wanted) or (wanted > 0 and objects.condition_true(obj, "Available") and available):
        return None
    return f"{part}: {available}/{wanted} available"


ADDON_PARTS: Mapping[str, tuple[Part, ...]] = {
    "ingress": (
        Part("namespace", "ingress-nginx"),
        Part("deployment", "ingress-nginx-controller", "ingress-nginx", ready="available"),
        Part("ingressclass", "nginx"),
    ),
    "csi-hostpath-driver": (
        Part("csidriver", "hostpath.csi.k8s.io"),
        Part("storageclass", "csi-hostpath-sc"),
    ),
    "volumesnapshots": (
        Part("customresourcedefinition", "volumesnapshots.snapshot.storage.k8s.io"),
        Part("customresourcedefinition", "volumesnapshotclasses.snapshot.storage.k8s.io"),
        Part("customresourcedefinition", "volumesnapshotcontents.snapshot.storage.k8s.io"),
        Part("deployment", "snapshot-controller", "kube-system", ready="available"),
    ),
    "default-storageclass": (Part("storageclass", "standard"),),
    "storage-provisioner": (Part("pod", "storage-provisioner", "kube-system", ready="pod"),),
}
