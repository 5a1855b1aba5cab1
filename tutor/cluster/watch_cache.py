"""The watch cache: one list+watch per `WatchKey` the active checks need, shared by all of them.

`WatchCache` keeps a `Watcher` (`watcher.py`: the list+watch loop and its recovery) for
each key in use, starts and stops them as the keys change, runs the liveness request while
any is watched, and answers the checks' reads (`ClusterView`) from what the watchers hold.
Changes reach `on_change(key, names)` from the watcher threads; a new
CustomResourceDefinition first wakes the watchers waiting for a type the API did not serve.

`close()` returns within about a second even when the server hangs: each watcher shuts
its request's socket (see `watcher.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from tutor.cluster import objects
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.objects import Obj
from tutor.cluster.status import ConnectionStatus
from tutor.cluster.view import WatchKey
from tutor.cluster.watcher import ChangeListener, Heartbeat, Watcher

JOIN_TIMEOUT = 1.5


class WatchCache:
    """The set of watchers for the keys in use; a `ClusterView` over what they hold."""

    def __init__(self, connection: ClusterConnection, on_change: ChangeListener) -> None:
        self._connection = connection
        self._on_change = on_change
        self._lock = threading.Lock()
        self._watchers: dict[WatchKey, Watcher] = {}
        self._stopping: list[Watcher] = []
        self._heartbeat: Heartbeat | None = None
        self._closed = False

    def set_keys(self, keys: Iterable[WatchKey]) -> None:
        """Watch exactly `keys`: start the new ones, stop the ones no longer needed."""
        wanted = set(keys)
        with self._lock:
            if self._closed:
                return
            for key in list(self._watchers):
                if key not in wanted:
                    watcher = self._watchers.pop(key)
                    watcher.stop()
                    self._stopping.append(watcher)
            for key in sorted(wanted - self._watchers.keys(), key=str):
                watcher = Watcher(key, self._connection, self._changed)
                self._watchers[key] = watcher
                watcher.start()
            if self._watchers and self._heartbeat is None:
                self._heartbeat = Heartbeat(self._connection)
                self._heartbeat.start()
            self._stopping = [w for w in self._stopping if not w.join(0)]
            for watcher in self._stopping:
                watcher.stop()  # again: see Watcher.join

    @property
    def keys(self) -> set[WatchKey]:
        with self._lock:
            return set(self._watchers)

    def _changed(self, key: WatchKey, names: frozenset[str] | None) -> None:
        if key.kind == "customresourcedefinition":
            # A new CRD may be the type another key is waiting for.
            with self._lock:
                waiting = [w for w in self._watchers.values() if w.missing]
            for watcher in waiting:
                watcher.retry_now()
        self._on_change(key, names)

    def _watcher(self, key: WatchKey) -> Watcher | None:
        with self._lock:
            return self._watchers.get(key)

    # --- ClusterView -------------------------------------------------------------------

    def objects(self, key: WatchKey) -> Sequence[Obj]:
        """The objects of `key`; for a key not watched itself, what the watched keys of
        the same kind hold of it (diagnosis looks up pods by name that a check watches
        through a label selector: the pods it is about are all there)."""
        watcher = self._watcher(key)
        if watcher is not None:
            return watcher.objects()
        with self._lock:
            covering = [
                w for k, w in self._watchers.items() if k.kind == key.kind and k.namespace in (None, key.namespace)
            ]
        found: dict[tuple[str | None, str], Obj] = {}
        for other in covering:
            for obj in other.objects():
                if key.matches(obj):
                    found[(objects.namespace(obj), objects.name(obj))] = obj
        return list(found.values())

    def synced(self, key: WatchKey) -> bool:
        watcher = self._watcher(key)
        return watcher.synced if watcher else False

    def type_missing(self, kind: str) -> bool:
        with self._lock:
            return any(w.missing for k, w in self._watchers.items() if k.kind == kind)

    def read_now(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._connection.read_now(kind, namespace, name)

    def error(self, key: WatchKey) -> str | None:
        watcher = self._watcher(key)
        return watcher.error if watcher else None

    @property
    def connection(self) -> ConnectionStatus:
        return self._connection.status

    def requests_sent(self) -> int:
        with self._lock:
            return sum(w.requests for w in (*self._watchers.values(), *self._stopping))

    def close(self, timeout: float = JOIN_TIMEOUT) -> list[str]:
        """Stop every watcher; returns the names of threads still running after `timeout`."""
        with self._lock:
            self._closed = True
            watchers = [*self._watchers.values(), *self._stopping]
            self._watchers = {}
            self._stopping = []
            heartbeat, self._heartbeat = self._heartbeat, None
        for watcher in watchers:
            watcher.stop()
        if heartbeat is not None:
            heartbeat.stop()
        stuck = []
        for watcher in watchers:
            if not watcher.join(timeout):
                stuck.append(str(watcher.key))
        if heartbeat is not None and not heartbeat.join(timeout):
            stuck.append("liveness")
        return stuck
