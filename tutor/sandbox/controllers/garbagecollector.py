"""Owner-reference garbage collection: background, foreground and orphan deletion."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.errors import ApiError
from tutor.sandbox.store import WatchEvent

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


class GarbageCollector(Controller):
    """Keys: ("dependent", resource, namespace, name) and ("owner", resource, namespace, name)."""

    name = "garbagecollector"
    watches = ("*",)

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        keys: list[Key] = []
        meta = event.obj["metadata"]
        if event.type == "DELETED":
            for resource, ns, name in self.store.dependents(meta["uid"]):
                keys.append(("dependent", resource, ns, name))
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp") and (FOREGROUND in finalizers or ORPHAN in finalizers):
            keys.append(("owner", event.resource, event.namespace, event.name))
        refs = meta.get("ownerReferences") or []
        if event.type == "ADDED" and refs:
            keys.append(("dependent", event.resource, event.namespace, event.name))
        if event.type == "DELETED" or meta.get("deletionTimestamp"):
            # A dependent went away: its owner may be waiting for it (foreground deletion).
            for ref in refs:
                owner_key = self.store.key_of_uid(ref.get("uid", ""))
                if owner_key is not None:
                    keys.append(("owner", *owner_key))
        return keys

    def reconcile(self, key: Key) -> float | None:
        role, resource, namespace, name = key
        obj = self.store.peek(resource, namespace, name)
        if obj is None:
            return None
        if role == "owner":
            return self._owner(resource, namespace, name)
        refs = obj["metadata"].get("ownerReferences") or []
        if not refs:
            return None
        alive = [r for r in refs if self.store.key_of_uid(r.get("uid", "")) is not None]
        if not alive:
            if not obj["metadata"].get("deletionTimestamp"):
                try:
                    self.store.delete(resource, namespace, name, propagation="Background")
                except ApiError as err:
                    if err.code != 404:
                        raise
        elif len(alive) < len(refs):
            self.store.patch(resource, namespace, name, {"metadata": {"ownerReferences": alive}})
        return None

    def _owner(self, resource: str, namespace: str, name: str) -> float | None:
        owner = self.store.peek(resource, namespace, name)
        if owner is None or not owner["metadata"].get("deletionTimestamp"):
            return None
        uid = owner["metadata"]["uid"]
        finalizers = owner["metadata"].get("finalizers") or []
        dependents = self.store.dependents(uid)
        if ORPHAN in finalizers:
            for dep_resource, dep_ns, dep_name in dependents:
                dep = self.store.peek(dep_resource, dep_ns, dep_name)
                if dep is None:
                    continue
                kept = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                self.store.patch(dep_resource, dep_ns, dep_name, {"metadata": {"ownerReferences": kept or None}})
            self.store.remove_finalizer(resource, namespace, name, ORPHAN)
            return None
        if FOREGROUND in finalizers:
            for dep_resource, dep_ns, dep_name in dependents:
                dep = self.store.peek(dep_resource, dep_ns, dep_name)
                if dep is None or dep["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.store.delete(dep_resource, dep_ns, dep_name, propagation="Foreground")
                except ApiError as err:
                    if err.code != 404:
                        raise
            if not self.store.dependents(uid):
                self.store.remove_finalizer(resource, namespace, name, FOREGROUND)
        return None
