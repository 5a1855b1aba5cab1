"""What checks and diagnosis read: a view of the cluster made of watched keys.

A `WatchKey` names one list+watch (resource kind, namespace or all, label selector).
Checks declare the keys they read; the watch cache keeps one watch per key, shared by
every check that needs it, and hands checks a `ClusterView` over what it holds.
`StaticView` is the same view over a fixed set of objects: checks and diagnosis are
pure functions of a view, so most of their tests need no cluster at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tutor.cluster import objects
from tutor.cluster.objects import Obj
from tutor.cluster.status import ConnectionStatus
from tutor.lesson import resources, selectors


@dataclass(frozen=True)
class WatchKey:
    kind: str
    """A `tutor.lesson.resources` kind name: pod, statefulset, storageclass..."""
    namespace: str | None = None
    """None: cluster-scoped kinds, or every namespace."""
    selector: str | None = None
    """A label selector in canonical form (`str(selectors.parse(...))`), or None for all."""

    @classmethod
    def of(cls, kind: str, namespace: str | None = None, selector: str | None = None) -> WatchKey:
        found = resources.lookup(kind)
        if found is None:
            raise ValueError(f"unknown kind {kind!r}")
        canonical = str(selectors.parse(selector)) if selector else None
        return cls(found.name, namespace if found.namespaced else None, canonical)

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        labels = f" -l {self.selector}" if self.selector else ""
        found = resources.lookup(self.kind)
        return f"{found.plural if found else self.kind}{where}{labels}"

    def matches(self, obj: Obj) -> bool:
        """Whether `obj` (of this kind) belongs to this key's list."""
        if self.namespace is not None and objects.namespace(obj) != self.namespace:
            return False
        return self.selector is None or selectors.parse(self.selector).matches(objects.labels(obj))


@dataclass(frozen=True)
class Dependency:
    """A key a check reads, and whether its evaluation needs it."""

    key: WatchKey
    names: frozenset[str] | None = None
    """Only changes to objects with these names concern the check (None: any object)."""
    required: bool = True
    """False for keys only diagnosis reads (events, claims): the check can be evaluated without them."""

    def concerns(self, changed_names: Iterable[str] | None) -> bool:
        if self.names is None or changed_names is None:
            return True
        return any(item in self.names for item in changed_names)


class ClusterView(Protocol):
    def objects(self, key: WatchKey) -> Sequence[Obj]:
        """The objects listed under `key` ([] when its type is not served yet)."""

    def synced(self, key: WatchKey) -> bool:
        """Whether `key` has been listed at least once since it was started."""

    def type_missing(self, kind: str) -> bool:
        """The API does not serve this kind (yet): a CRD-based kind before its addon is enabled."""

    def read_now(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """`kind/name` as the API server has it now, past the watches, which may be behind
        (a pod created a moment ago); None when it is not there or the server cannot say.
        One request: for a verdict that would otherwise rest on a name missing from a watch."""

    @property
    def connection(self) -> ConnectionStatus: ...


def find(view: ClusterView, kind: str, namespace: str | None, name: str) -> Obj | None:
    """The object `kind/name`, read from the key `WatchKey.of(kind, namespace)`."""
    key = WatchKey.of(kind, namespace)
    for obj in view.objects(key):
        if objects.name(obj) == name:
            return obj
    return None


_KIND_BY_API_KIND = {kind.kind: kind.name for kind in resources.KINDS}


class StaticView:
    """A view over a fixed list of objects (each with its `kind`), for tests and one-shot evaluation."""

    def __init__(
        self,
        items: Iterable[Obj] = (),
        *,
        missing_types: Iterable[str] = (),
        unsynced: Iterable[WatchKey] = (),
        connection: ConnectionStatus | None = None,
    ) -> None:
        self._by_kind: dict[str, list[Obj]] = {}
        for obj in items:
            kind = _KIND_BY_API_KIND.get(str(obj.get("kind", "")))
            if kind is None:
                raise ValueError(f"StaticView: unknown kind in {obj!r}")
            self._by_kind.setdefault(kind, []).append(obj)
        self._missing = {WatchKey.of(kind).kind for kind in missing_types}
        self._unsynced = set(unsynced)
        self._connection = connection or ConnectionStatus.connected_now()

    def objects(self, key: WatchKey) -> Sequence[Obj]:
        if key.kind in self._missing:
            return []
        return [obj for obj in self._by_kind.get(key.kind, []) if key.matches(obj)]

    def synced(self, key: WatchKey) -> bool:
        return key not in self._unsynced

    def type_missing(self, kind: str) -> bool:
        return kind in self._missing

    def read_now(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return find(self, kind, namespace, name)  # fixed objects: nothing newer to read

    @property
    def connection(self) -> ConnectionStatus:
        return self._connection


def by_name(items: Iterable[Obj]) -> Mapping[str, Obj]:
    return {objects.name(obj): obj for obj in items}
