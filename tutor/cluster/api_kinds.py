"""How each kind a lesson may name is listed and watched through the kubernetes client.

`tutor.lesson.resources` knows kinds as kubectl users write them; this table adds the
client API that serves each one. Every call is made with `_preload_content=False` and
parsed as JSON here: the checks read the API's own camelCase fields, and skipping the
client's pydantic models saves their cost on every watch event. A test keeps this
table in step with `resources.KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutor.lesson import resources


@dataclass(frozen=True)
class ApiKind:
    api: str
    """The client class: CoreV1Api, AppsV1Api, ..."""
    snake: str
    """The kind in the client's method names: pod, stateful_set, storage_class."""
    group: str = ""
    version: str = "v1"
    plural: str = ""
    custom: bool = False
    """Served by a CRD: listed through CustomObjectsApi, absent (404) until the CRD exists."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


API_KINDS: dict[str, ApiKind] = {
    "pod": ApiKind("CoreV1Api", "pod"),
    "service": ApiKind("CoreV1Api", "service"),
    "endpoints": ApiKind("CoreV1Api", "endpoints"),
    "configmap": ApiKind("CoreV1Api", "config_map"),
    "secret": ApiKind("CoreV1Api", "secret"),
    "serviceaccount": ApiKind("CoreV1Api", "service_account"),
    "persistentvolumeclaim": ApiKind("CoreV1Api", "persistent_volume_claim"),
    "persistentvolume": ApiKind("CoreV1Api", "persistent_volume"),
    "namespace": ApiKind("CoreV1Api", "namespace"),
    "node": ApiKind("CoreV1Api", "node"),
    "event": ApiKind("CoreV1Api", "event"),
    "deployment": ApiKind("AppsV1Api", "deployment", "apps"),
    "replicaset": ApiKind("AppsV1Api", "replica_set", "apps"),
    "statefulset": ApiKind("AppsV1Api", "stateful_set", "apps"),
    "daemonset": ApiKind("AppsV1Api", "daemon_set", "apps"),
    "job": ApiKind("BatchV1Api", "job", "batch"),
    "storageclass": ApiKind("StorageV1Api", "storage_class", "storage.k8s.io"),
    "csidriver": ApiKind("StorageV1Api", "csi_driver", "storage.k8s.io"),
    "ingress": ApiKind("NetworkingV1Api", "ingress", "networking.k8s.io"),
    "ingressclass": ApiKind("NetworkingV1Api", "ingress_class", "networking.k8s.io"),
    "customresourcedefinition": ApiKind("ApiextensionsV1Api", "custom_resource_definition", "apiextensions.k8s.io"),
    "volumesnapshotclass": ApiKind(
        "CustomObjectsApi", "", "snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", custom=True
    ),
}


def list_call(api_client: Any, kind: str, namespace: str | None) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """The client method that lists `kind` (in `namespace`, or everywhere) and its positional args.

    The same method takes `watch=True`, which is how `Watch.stream` uses it.
    """
    from kubernetes import client

    entry = API_KINDS[kind]
    spec = resources.lookup(kind)
    assert spec is not None
    api = getattr(client, entry.api)(api_client)
    if entry.custom:
        if spec.namespaced and namespace:
            return api.list_namespaced_custom_object, (entry.group, entry.version, namespace, entry.plural)
        return api.list_cluster_custom_object, (entry.group, entry.version, entry.plural)
    if not spec.namespaced:
        return getattr(api, f"list_{entry.snake}"), ()
    if namespace:
        return getattr(api, f"list_namespaced_{entry.snake}"), (namespace,)
    return getattr(api, f"list_{entry.snake}_for_all_namespaces"), ()
