"""Discovery documents: how kubectl learns which resources exist and what they are called.

kubectl >= 1.30 asks for aggregated discovery (``as=APIGroupDiscoveryList``) first;
answering in the legacy format with ``application/json`` makes it fall back, which is
what an older API server does.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tutor.sandbox.resources import Registry, ResourceType

SUBRESOURCE_INFO: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # name: (group, version, kind, verbs); group/version "" = the parent's
    "status": ("", "", "", ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "log": ("", "", "Pod", ("get",)),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "binding": ("", "", "Binding", ("create",)),
    "finalize": ("", "", "Namespace", ("update",)),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", ("create",)),
    "exec": ("", "", "PodExecOptions", ("create", "get")),
    "attach": ("", "", "PodAttachOptions", ("create", "get")),
    "portforward": ("", "", "PodPortForwardOptions", ("create", "get")),
    "proxy": ("", "", "", ("create", "delete", "get", "patch", "update")),
    "ephemeralcontainers": ("", "", "Pod", ("get", "patch", "update")),
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_doc(registry: Registry, group: str) -> dict[str, Any]:
    versions = registry.versions_of_group(group)
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_doc(registry, g) for g in registry.groups()],
    }


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    if group not in registry.groups():
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(registry, group)}


def _hash(rt: ResourceType) -> str:
    import base64

    digest = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()[:8]
    return base64.b64encode(digest).decode()


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    types = registry.resources_in(group, version)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in sorted(types, key=lambda t: t.plural):
        entry: dict[str, Any] = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
            "storageVersionHash": _hash(rt),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        subs = (("status",) if rt.has_status else ()) + (("scale",) if rt.has_scale else ()) + rt.extra_subresources
        for sub in subs:
            sub_group, sub_version, sub_kind, verbs = SUBRESOURCE_INFO[sub]
            item: dict[str, Any] = {
                "name": f"{rt.plural}/{sub}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub_kind or rt.kind,
                "verbs": list(verbs),
            }
            if sub_group:
                item["group"], item["version"] = sub_group, sub_version
            resources.append(item)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def version_info(git_version: str) -> dict[str, Any]:
    parts = git_version.lstrip("v").split(".")
    major = parts[0] if parts else "1"
    minor = parts[1] if len(parts) > 1 else "31"
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T07:28:49Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }
