"""How Kubernetes objects hang together, read from what the objects themselves record.

Generic Kubernetes knowledge, no lesson's: a controller's `ownerReferences` (Deployment ->
ReplicaSet -> Pod, StatefulSet -> Pod), a StatefulSet's claims (`volumeClaimTemplates`:
`TEMPLATE-STATEFULSET-ORDINAL`) and its governing Service (`serviceName`), a pod's claims
(`volumes[].persistentVolumeClaim`), a claim's volume (`volumeName`, the volume's
`claimRef`), a volume's or a waiting claim's StorageClass, an Ingress's backends, and a
Service's endpoints (the `Endpoints` object, ready and not ready).

Each relation is an `Edge` from the object that lasts or decides (the owner, the class,
the volume, the claim, the Service) to the one that depends on it. Owners are matched by
uid, as the garbage collector does: a pod left from an earlier StatefulSet of the same
name is not its pod.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tutor.cluster import objects
from tutor.cluster.objects import Obj

Relation = Literal["owns", "claims", "bound", "class", "mounts", "governs", "routes", "endpoint"]
"""owns: a controller's object (ownerReferences); claims: a StatefulSet's claim from its
templates; bound: a volume and the claim it is bound to; class: the StorageClass of a volume,
or of a claim with no volume yet; mounts: a claim and a pod that mounts it; governs: a
StatefulSet's Service (its pods' DNS names); routes: an Ingress and a Service it sends to;
endpoint: a Service and a pod behind it."""

OWNER_KINDS = {"ReplicaSet": "replicaset", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}
"""Controllers whose pods the map follows, by the Kind an owner reference names."""


@dataclass(frozen=True, order=True)
class Ref:
    """An object: its kind (a `tutor.lesson.resources` name), namespace and name."""

    kind: str
    namespace: str | None
    name: str


@dataclass(frozen=True)
class Edge:
    source: Ref
    target: Ref
    relation: Relation
    ready: bool | None = None
    """For an endpoint: whether the Service sends traffic to the pod (it is ready)."""


def ref_of(kind: str, obj: Obj) -> Ref:
    return Ref(kind, objects.namespace(obj), objects.name(obj))


class Found:
    """The objects read, by kind, with a lookup by name."""

    def __init__(self, by_kind: Mapping[str, Sequence[Obj]]) -> None:
        self.by_kind = by_kind
        self._index = {ref_of(kind, obj): obj for kind, items in by_kind.items() for obj in items}

    def get(self, ref: Ref) -> Obj | None:
        return self._index.get(ref)

    def of(self, kind: str) -> Sequence[Obj]:
        return self.by_kind.get(kind, ())

    def refs(self) -> Iterable[Ref]:
        return self._index.keys()

    def owner(self, obj: Obj) -> Ref | None:
        """The object's controller, if it was read and is the same object (by uid)."""
        found = objects.controller_ref(obj)
        if found is None:
            return None
        kind, name, uid = found
        canonical = OWNER_KINDS.get(kind) or ("deployment" if kind == "Deployment" else None)
        if canonical is None:
            return None
        ref = Ref(canonical, objects.namespace(obj), name)
        owner = self.get(ref)
        return ref if owner is not None and objects.uid(owner) == uid else None


def edges(found: Found) -> list[Edge]:
    """Every relation between the objects read, each once, in a stable order."""
    result: dict[tuple[Ref, Ref, str], Edge] = {}

    def add(edge: Edge) -> None:
        result.setdefault((edge.source, edge.target, edge.relation), edge)

    for kind in ("pod", "replicaset"):
        for obj in found.of(kind):
            owner = found.owner(obj)
            if owner is not None:
                add(Edge(owner, ref_of(kind, obj), "owns"))
    for pod in found.of("pod"):
        for claim_name in objects.pod_claims(pod):
            source = Ref("persistentvolumeclaim", objects.namespace(pod), claim_name)
            if found.get(source) is not None:
                add(Edge(source, ref_of("pod", pod), "mounts"))
    defaults = objects.default_storage_classes(found.of("storageclass"))
    for pvc in found.of("persistentvolumeclaim"):
        volume = Ref("persistentvolume", None, str(objects.spec(pvc).get("volumeName") or ""))
        if volume.name and found.get(volume) is not None:
            add(Edge(volume, ref_of("persistentvolumeclaim", pvc), "bound"))
            continue
        wanted = objects.pvc_class(pvc)
        wanted = wanted if wanted is not None else (defaults[-1] if defaults else None)
        if wanted and found.get(Ref("storageclass", None, wanted)) is not None:
            add(Edge(Ref("storageclass", None, wanted), ref_of("persistentvolumeclaim", pvc), "class"))
    for pv in found.of("persistentvolume"):
        claim = _claim_of(found, pv)
        if claim is not None:
            add(Edge(ref_of("persistentvolume", pv), claim, "bound"))
        class_name = objects.spec(pv).get("storageClassName")
        if class_name and found.get(Ref("storageclass", None, str(class_name))) is not None:
            add(Edge(Ref("storageclass", None, str(class_name)), ref_of("persistentvolume", pv), "class"))
    for sts in found.of("statefulset"):
        _statefulset_edges(found, sts, add)
    for ingress in found.of("ingress"):
        for backend in backends(ingress):
            target = Ref("service", objects.namespace(ingress), backend)
            if found.get(target) is not None:
                add(Edge(ref_of("ingress", ingress), target, "routes"))
    for endpoints in found.of("endpoints"):
        service = Ref("service", objects.namespace(endpoints), objects.name(endpoints))
        if found.get(service) is None:
            continue
        for pod_name, ready in endpoint_pods(endpoints):
            target = Ref("pod", objects.namespace(endpoints), pod_name)
            if found.get(target) is not None:
                add(Edge(service, target, "endpoint", ready))
    return sorted(result.values(), key=lambda edge: (edge.source, edge.target, edge.relation))


def _claim_of(found: Found, pv: Obj) -> Ref | None:
    claim_ref = objects.spec(pv).get("claimRef")
    if not isinstance(claim_ref, Mapping) or not claim_ref.get("name"):
        return None
    ref = Ref("persistentvolumeclaim", str(claim_ref.get("namespace") or "") or None, str(claim_ref["name"]))
    claim = found.get(ref)
    if claim is None or (claim_ref.get("uid") and objects.uid(claim) != claim_ref.get("uid")):
        return None  # a claim of that name made since: not the one the volume was bound to
    return ref


def _statefulset_edges(found: Found, sts: Obj, add: Callable[[Edge], None]) -> None:
    source = ref_of("statefulset", sts)
    service = objects.spec(sts).get("serviceName")
    if service and found.get(Ref("service", source.namespace, str(service))) is not None:
        add(Edge(source, Ref("service", source.namespace, str(service)), "governs"))
    for template in claim_templates(sts):
        pattern = re.compile(rf"^{re.escape(template)}-{re.escape(source.name)}-\d+$")
        for pvc in found.of("persistentvolumeclaim"):
            if objects.namespace(pvc) == source.namespace and pattern.match(objects.name(pvc)):
                add(Edge(source, ref_of("persistentvolumeclaim", pvc), "claims"))


def claim_templates(sts: Obj) -> list[str]:
    """The names of a StatefulSet's `volumeClaimTemplates`."""
    templates = objects.spec(sts).get("volumeClaimTemplates")
    names = []
    for template in templates if isinstance(templates, list) else []:
        if isinstance(template, Mapping):
            name = objects.name(template)
            if name:
                names.append(name)
    return names


def backends(ingress: Obj) -> list[str]:
    """The Services an Ingress sends to: its rules' paths and its default backend, in order."""
    spec = objects.spec(ingress)
    found: list[str] = []
    candidates: list[Any] = [spec.get("defaultBackend")]
    for rule in spec.get("rules") or []:
        http = rule.get("http") if isinstance(rule, Mapping) else None
        for path in (http.get("paths") or []) if isinstance(http, Mapping) else []:
            if isinstance(path, Mapping):
                candidates.append(path.get("backend"))
    for backend in candidates:
        service = backend.get("service") if isinstance(backend, Mapping) else None
        name = service.get("name") if isinstance(service, Mapping) else None
        if name and str(name) not in found:
            found.append(str(name))
    return found


def endpoint_pods(endpoints: Obj) -> list[tuple[str, bool]]:
    """The pods an `Endpoints` object lists, and whether each is ready (`addresses`) or not
    (`notReadyAddresses`)."""
    pods: dict[str, bool] = {}
    for subset in endpoints.get("subsets") or []:
        if not isinstance(subset, Mapping):
            continue
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for address in subset.get(key) or []:
                target = address.get("targetRef") if isinstance(address, Mapping) else None
                if isinstance(target, Mapping) and target.get("kind") == "Pod" and target.get("name"):
                    pods[str(target["name"])] = pods.get(str(target["name"]), False) or ready
    return sorted(pods.items())
