"""What a fresh ``minikube start -p PROFILE`` cluster contains (``data/baseline.yaml``).

The four namespaces, the node, the control-plane pods, CoreDNS and kube-proxy, the
storage provisioner with its ``standard`` StorageClass (the default), the
``kubernetes`` Service. Addons (ingress, csi-hostpath-driver, volumesnapshots) are not
here: the minikube stand-in creates their objects when they are enabled. The file is
parsed once per process and filled in for each cluster.
"""

from __future__ import annotations

import re
import uuid
from functools import cache
from typing import Any

from tutor.sandbox.admission import DEFAULT_SC_ANNOTATIONS
from tutor.sandbox.datafiles import load_yaml_all
from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import Obj, clone, rfc3339
from tutor.sandbox.store import Store
from tutor.sandbox.versions import (
    DEFAULT_RUNTIME,
    MINIKUBE_COMMIT,
    MINIKUBE_VERSION,
    container_runtime_version,
    runtime_info,
)

STANDARD = "standard"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@cache
def _documents() -> tuple[Obj, ...]:
    """baseline.yaml, then the default-storageclass addon's class, parsed once."""
    return (*load_yaml_all("baseline.yaml"), *load_yaml_all("addons/default-storageclass.yaml"))


def _fill(value: Any, values: dict[str, str]) -> Any:
    """A copy of ``value`` with ``${name}`` placeholders replaced (``uuid``/``hex`` fresh
    each time)."""
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, str) and "${" in value:

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "uuid":
                return str(uuid.uuid4())
            if name == "hex":
                return uuid.uuid4().hex
            return values[name]

        return _PLACEHOLDER.sub(one, value)
    return value


def storage_class_standard() -> Obj:
    standard: Obj = clone(_documents()[-1])
    return standard


def _create(store: Store, obj: Obj) -> Obj | None:
    try:
        return store.create(obj)
    except ApiError as err:
        if err.code == 409:
            return None
        raise


def install(
    store: Store,
    *,
    profile: str,
    kubernetes_version: str,
    node_ip: str,
    api_port: int,
    container_runtime: str = DEFAULT_RUNTIME,
) -> None:
    """Create a fresh minikube cluster's objects (existing ones are left alone)."""
    stamp = rfc3339(store.clock())
    values = {
        "profile": profile,
        "kubernetes_version": kubernetes_version,
        "node_ip": node_ip,
        "api_port": str(api_port),
        "cri_socket": runtime_info(container_runtime)[2],
        "runtime_version": container_runtime_version(container_runtime),
        "updated_at": stamp.replace("-", "_").replace(":", "_").rstrip("Z") + "_0700",
        "now": stamp,
        "node_uid": "",
        "minikube_version": MINIKUBE_VERSION,
        "minikube_commit": MINIKUBE_COMMIT,
    }
    for doc in _documents():
        obj = _fill(doc, values)
        _create(store, obj)
        if obj["kind"] == "Node":
            node = store.peek("nodes", "", profile)
            assert node is not None
            values["node_uid"] = node["metadata"]["uid"]


def mark_standard_default(store: Store) -> None:
    """What ``minikube start`` does with the default-storageclass addon on: ``standard``
    becomes the one default class again, every other class loses the annotation."""
    if store.peek("storageclasses.storage.k8s.io", "", STANDARD) is None:
        _create(store, storage_class_standard())
    for sc in list(store.iter("storageclasses.storage.k8s.io")):
        name = sc["metadata"]["name"]
        wanted = "true" if name == STANDARD else "false"
        annotations = sc["metadata"].get("annotations") or {}
        if name != STANDARD and not any(a in annotations for a in DEFAULT_SC_ANNOTATIONS):
            continue
        if annotations.get(DEFAULT_SC_ANNOTATIONS[0]) == wanted and DEFAULT_SC_ANNOTATIONS[1] not in annotations:
            continue
        patch = {"metadata": {"annotations": {DEFAULT_SC_ANNOTATIONS[0]: wanted, DEFAULT_SC_ANNOTATIONS[1]: None}}}
        store.patch("storageclasses.storage.k8s.io", "", name, patch)
