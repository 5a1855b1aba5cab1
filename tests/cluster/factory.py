"""Kubernetes objects as the API serves them, built small for pure tests of checks and diagnosis."""

from __future__ import annotations

import itertools
from typing import Any

_uids = itertools.count(1)


def meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "uid": extra.pop("uid", f"uid-{next(_uids)}"),
        "creationTimestamp": extra.pop("created", "2024-01-01T00:00:00Z"),
        "resourceVersion": "1",
    }
    if namespace:
        data["namespace"] = namespace
    data.update(extra)
    return data


def obj(api: str, kind: str, name: str, namespace: str | None = None, **fields: Any) -> dict[str, Any]:
    metadata = fields.pop("metadata", {})
    return {"apiVersion": api, "kind": kind, "metadata": meta(name, namespace, **metadata), **fields}


def container_status(
    name: str, *, ready: bool = False, waiting: str | None = None, message: str = "", **more: Any
) -> dict[str, Any]:
    state: dict[str, Any] = {"running": {"startedAt": "2024-01-01T00:00:00Z"}}
    if waiting:
        state = {"waiting": {"reason": waiting, "message": message}}
    return {
        "name": name,
        "ready": ready,
        "restartCount": more.pop("restarts", 0),
        "image": "x",
        "imageID": "",
        "state": state,
        **more,
    }


def pod(
    name: str,
    namespace: str = "pacman",
    *,
    labels: dict[str, str] | None = None,
    ready: bool = True,
    phase: str | None = None,
    claims: tuple[str, ...] = (),
    containers: dict[str, str] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    init: dict[str, str] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    **meta_extra: Any,
) -> dict[str, Any]:
    containers = containers or {"main": "example/app:1"}
    spec: dict[str, Any] = {"containers": [{"name": n, "image": i} for n, i in containers.items()]}
    if init:
        spec["initContainers"] = [{"name": n, "image": i} for n, i in init.items()]
    if claims:
        spec["volumes"] = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    cond = conditions if conditions is not None else [{"type": "Ready", "status": "True" if ready else "False"}]
    status: dict[str, Any] = {
        "phase": phase or ("Running" if ready else "Pending"),
        "conditions": cond,
        "containerStatuses": statuses
        if statuses is not None
        else [container_status(n, ready=ready) for n in containers],
    }
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    return obj("v1", "Pod", name, namespace, metadata={"labels": labels or {}, **meta_extra}, spec=spec, status=status)


def storage_class(
    name: str, *, default: str | None = None, provisioner: str = "example.com/p", beta: bool = False, **more: Any
) -> dict[str, Any]:
    annotations = {}
    if default is not None:
        key = (
            "storageclass.beta.kubernetes.io/is-default-class"
            if beta
            else "storageclass.kubernetes.io/is-default-class"
        )
        annotations[key] = default
    return obj(
        "storage.k8s.io/v1",
        "StorageClass",
        name,
        metadata={"annotations": annotations, **more.pop("metadata", {})},
        provisioner=provisioner,
        **more,
    )


def pvc(
    name: str,
    namespace: str = "pacman",
    *,
    phase: str = "Bound",
    storage_class: str | None = None,
    volume: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if phase == "Bound":
        spec["volumeName"] = volume or f"pvc-{name}"
    status: dict[str, Any] = {"phase": phase}
    if phase == "Bound":
        status["capacity"] = {"storage": "1Gi"}
    return obj("v1", "PersistentVolumeClaim", name, namespace, spec=spec, status=status)


def deployment(
    name: str,
    namespace: str = "pacman",
    *,
    replicas: int = 1,
    updated: int | None = None,
    ready: int | None = None,
    available: int | None = None,
    total: int | None = None,
    generation: int = 1,
    observed: int | None = None,
    labels: dict[str, str] | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    labels = labels or {"name": name}
    status: dict[str, Any] = {
        "observedGeneration": generation if observed is None else observed,
        "replicas": replicas if total is None else total,
        "updatedReplicas": replicas if updated is None else updated,
        "readyReplicas": replicas if ready is None else ready,
        "availableReplicas": replicas if available is None else available,
    }
    if conditions:
        status["conditions"] = conditions
    return obj(
        "apps/v1",
        "Deployment",
        name,
        namespace,
        metadata={"generation": generation},
        spec={"replicas": replicas, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}}},
        status=status,
    )


def statefulset(
    name: str,
    namespace: str = "pacman",
    *,
    replicas: int = 1,
    ready: int | None = None,
    updated: int | None = None,
    revisions: tuple[str, str] = ("r1", "r1"),
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = labels or {"name": name}
    return obj(
        "apps/v1",
        "StatefulSet",
        name,
        namespace,
        metadata={"generation": 1},
        spec={"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels}},
        status={
            "observedGeneration": 1,
            "replicas": replicas,
            "readyReplicas": replicas if ready is None else ready,
            "updatedReplicas": replicas if updated is None else updated,
            "currentRevision": revisions[0],
            "updateRevision": revisions[1],
        },
    )


def daemonset(
    name: str, namespace: str = "kube-system", *, desired: int = 1, updated: int = 1, available: int = 1
) -> dict[str, Any]:
    return obj(
        "apps/v1",
        "DaemonSet",
        name,
        namespace,
        metadata={"generation": 1},
        spec={"selector": {"matchLabels": {"name": name}}},
        status={
            "observedGeneration": 1,
            "desiredNumberScheduled": desired,
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
        },
    )


def ingress(
    name: str, namespace: str = "pacman", *, address: str | None = None, ingress_class: str | None = "nginx"
) -> dict[str, Any]:
    spec: dict[str, Any] = {"rules": [{"host": "pacman.com"}]}
    if ingress_class:
        spec["ingressClassName"] = ingress_class
    status = {"loadBalancer": {"ingress": [{"ip": address}]}} if address else {"loadBalancer": {}}
    return obj("networking.k8s.io/v1", "Ingress", name, namespace, spec=spec, status=status)


def ingress_class(
    name: str = "nginx", *, default: bool = True, controller: str = "k8s.io/ingress-nginx"
) -> dict[str, Any]:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else {}
    return obj(
        "networking.k8s.io/v1",
        "IngressClass",
        name,
        metadata={"annotations": annotations},
        spec={"controller": controller},
    )


def service(
    name: str, namespace: str = "pacman", *, type_: str = "ClusterIP", address: str | None = None
) -> dict[str, Any]:
    status = {"loadBalancer": {"ingress": [{"ip": address}]}} if address else {"loadBalancer": {}}
    return obj("v1", "Service", name, namespace, spec={"type": type_, "ports": [{"port": 80}]}, status=status)


def namespace(name: str, *, terminating: bool = False) -> dict[str, Any]:
    extra = {"deletionTimestamp": "2024-01-01T00:01:00Z"} if terminating else {}
    return obj("v1", "Namespace", name, metadata=extra, status={"phase": "Terminating" if terminating else "Active"})


def node(name: str = "mc-demo", ip: str = "127.0.0.2") -> dict[str, Any]:
    return obj(
        "v1",
        "Node",
        name,
        status={"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]},
    )


def event(
    name: str,
    reason: str,
    message: str,
    *,
    namespace: str = "pacman",
    kind: str = "Pod",
    type_: str = "Normal",
    at: str = "2024-01-01T00:00:10Z",
    count: int = 1,
    uid: str | None = None,
) -> dict[str, Any]:
    involved = {"kind": kind, "name": name, "namespace": namespace, **({"uid": uid} if uid else {})}
    return obj(
        "v1",
        "Event",
        f"{name}.{next(_uids)}",
        namespace,
        involvedObject=involved,
        reason=reason,
        message=message,
        type=type_,
        lastTimestamp=at,
        count=count,
    )


def crd(name: str) -> dict[str, Any]:
    return obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)


def csidriver(name: str) -> dict[str, Any]:
    return obj("storage.k8s.io/v1", "CSIDriver", name, spec={})
