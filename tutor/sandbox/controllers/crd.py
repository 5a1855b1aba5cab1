"""CustomResourceDefinitions: served as soon as they are created, removed with their objects."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import Obj, merge_conditions, rfc3339
from tutor.sandbox.resources import ALL_VERBS, ResourceType
from tutor.sandbox.store import WatchEvent

CRD = "customresourcedefinitions.apiextensions.k8s.io"


def resource_type_of(crd: Obj) -> tuple[ResourceType, tuple[str, ...]] | None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not versions or not names.get("plural") or not names.get("kind"):
        return None
    storage = next((v for v in versions if v.get("storage")), versions[0])
    subresources = storage.get("subresources") or {}
    rt = ResourceType(
        group=str(spec.get("group", "")),
        version=str(storage["name"]),
        plural=str(names["plural"]),
        singular=str(names.get("singular") or str(names["kind"]).lower()),
        kind=str(names["kind"]),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        verbs=ALL_VERBS,
        has_status="status" in subresources,
        has_scale="scale" in subresources,
        custom=True,
    )
    others = tuple(str(v["name"]) for v in versions if v is not storage)
    return rt, others


class CrdController(Controller):
    name = "customresourcedefinition"
    watches = (CRD,)

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        return [("", event.name, event.type)]

    def reconcile(self, key: Key) -> float | None:
        name = key[1]
        crd = self.store.peek(CRD, "", name)
        registry = self.store.registry
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            key_name = name  # "<plural>.<group>" is both the CRD's name and the resource key
            if registry.get(key_name) is not None and registry.require(key_name).custom:
                for obj in list(registry_objects(self, key_name)):
                    with contextlib.suppress(ApiError):
                        self.store.delete(key_name, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                if crd is None:
                    registry.remove(key_name)
            if (
                crd is not None
                and "customresourcecleanup.apiextensions.k8s.io" in (crd["metadata"].get("finalizers") or [])
                and not any(True for _ in self.store.iter(name))
            ):
                self.store.remove_finalizer(CRD, "", name, "customresourcecleanup.apiextensions.k8s.io")
            return None
        parsed = resource_type_of(crd)
        if parsed is None:
            return None
        rt, others = parsed
        registry.add(rt, extra_versions=others)
        if "customresourcecleanup.apiextensions.k8s.io" not in (crd["metadata"].get("finalizers") or []):
            self.store.patch(
                CRD,
                "",
                name,
                {"metadata": {"finalizers": ["customresourcecleanup.apiextensions.k8s.io"]}},
                patch_type="strategic",
            )
        now = rfc3339(self.store.clock())
        names = (crd.get("spec") or {}).get("names") or {}
        conditions = [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ]
        for c in conditions:
            c["lastTransitionTime"] = now
        old = crd.get("status") or {}
        status = {
            "acceptedNames": {k: v for k, v in names.items()},
            "conditions": merge_conditions(old.get("conditions"), conditions, now),
            "storedVersions": [rt.version],
        }
        self.store.replace_status(CRD, "", name, status)
        return None


def registry_objects(controller: Controller, key: str) -> list[Obj]:
    return list(controller.store.iter(key))
