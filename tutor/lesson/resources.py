"""The Kubernetes object kinds a lesson may name, as kubectl users write them.

Checks refer to objects as `KIND/NAME` (`statefulset/mongo`, `sc/standard`), with the
names and short names kubectl accepts. This table is pure data: the cluster layer adds
how to reach each kind through the API, and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceKind:
    name: str
    """Canonical name: kubectl's singular resource name."""
    kind: str
    """The API's Kind, as in a manifest."""
    namespaced: bool
    aliases: tuple[str, ...] = ()

    @property
    def plural(self) -> str:
        """`storageclasses`, `pods`: the first alias that extends the name, else the name itself."""
        return next((a for a in self.aliases if a.startswith(self.name) and a != self.name), self.name)


KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("pod", "Pod", True, ("pods", "po")),
    ResourceKind("service", "Service", True, ("services", "svc")),
    ResourceKind("endpoints", "Endpoints", True, ("ep",)),
    ResourceKind("configmap", "ConfigMap", True, ("configmaps", "cm")),
    ResourceKind("secret", "Secret", True, ("secrets",)),
    ResourceKind("serviceaccount", "ServiceAccount", True, ("serviceaccounts", "sa")),
    ResourceKind("persistentvolumeclaim", "PersistentVolumeClaim", True, ("persistentvolumeclaims", "pvc")),
    ResourceKind("persistentvolume", "PersistentVolume", False, ("persistentvolumes", "pv")),
    ResourceKind("namespace", "Namespace", False, ("namespaces", "ns")),
    ResourceKind("node", "Node", False, ("nodes", "no")),
    ResourceKind("event", "Event", True, ("events", "ev")),
    ResourceKind("deployment", "Deployment", True, ("deployments", "deploy")),
    ResourceKind("replicaset", "ReplicaSet", True, ("replicasets", "rs")),
    ResourceKind("statefulset", "StatefulSet", True, ("statefulsets", "sts")),
    ResourceKind("daemonset", "DaemonSet", True, ("daemonsets", "ds")),
    ResourceKind("job", "Job", True, ("jobs",)),
    ResourceKind("storageclass", "StorageClass", False, ("storageclasses", "sc")),
    ResourceKind("csidriver", "CSIDriver", False, ("csidrivers",)),
    ResourceKind("ingress", "Ingress", True, ("ingresses", "ing")),
    ResourceKind("ingressclass", "IngressClass", False, ("ingressclasses",)),
    ResourceKind("volumesnapshotclass", "VolumeSnapshotClass", False, ("volumesnapshotclasses", "vsclass")),
    ResourceKind(
        "customresourcedefinition",
        "CustomResourceDefinition",
        False,
        ("customresourcedefinitions", "crd", "crds"),
    ),
)

_BY_ALIAS: dict[str, ResourceKind] = {}
for _kind in KINDS:
    for _alias in (_kind.name, _kind.kind.lower(), *_kind.aliases):
        _BY_ALIAS[_alias] = _kind


def lookup(name: str) -> ResourceKind | None:
    """The kind for any name kubectl would accept (`sts`, `statefulsets`, `StatefulSet`)."""
    return _BY_ALIAS.get(name.lower())


@dataclass(frozen=True)
class ObjectRef:
    kind: ResourceKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.name}/{self.name}"


class BadObjectRef(ValueError):
    pass


def parse_ref(text: str) -> ObjectRef:
    """`statefulset/mongo` -> ObjectRef; raises BadObjectRef with a message for the author."""
    kind_name, sep, name = text.partition("/")
    if not sep or not kind_name or not name or "/" in name:
        raise BadObjectRef(f"'{text}' is not KIND/NAME (for example statefulset/mongo)")
    kind = lookup(kind_name)
    if kind is None:
        known = ", ".join(k.name for k in KINDS)
        raise BadObjectRef(f"unknown kind '{kind_name}' in '{text}'; known kinds: {known}")
    return ObjectRef(kind, name)
