"""Namespace termination: Terminating for a while, then the contents go, then the namespace."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import clone
from tutor.sandbox.store import WatchEvent


class NamespaceController(Controller):
    name = "namespace"
    watches = ("*",)

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self._terminating_since: dict[str, float] = {}

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "namespaces":
            return [("", event.name)] if event.obj["metadata"].get("deletionTimestamp") else []
        namespace = event.namespace
        if not namespace or event.type != "DELETED":
            return []
        ns = self.store.peek("namespaces", "", namespace)
        if ns is not None and ns["metadata"].get("deletionTimestamp"):
            return [("", namespace)]
        return []

    def reconcile(self, key: Key) -> float | None:
        name = key[1]
        ns = self.store.peek("namespaces", "", name)
        if ns is None:
            self._terminating_since.pop(name, None)
            return None
        if not ns["metadata"].get("deletionTimestamp"):
            return None
        now = self.store.clock()
        since = self._terminating_since.setdefault(name, now)
        due = since + self.cluster.delay("namespace_termination")
        if now < due:
            return due - now
        remaining = list(self.store.namespaces_in_use(name))
        for resource, obj in remaining:
            if obj["metadata"].get("deletionTimestamp"):
                continue
            try:
                self.store.delete(resource, name, obj["metadata"]["name"], propagation="Background")
            except ApiError as err:
                if err.code != 404:
                    raise
        if any(True for _ in self.store.namespaces_in_use(name)):
            return None
        finalized = clone(ns)
        finalized["spec"]["finalizers"] = []
        finalized["metadata"].pop("resourceVersion", None)
        self.store.update(finalized, resource="namespaces")
        self._terminating_since.pop(name, None)
        return None
