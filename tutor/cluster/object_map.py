"""The live object map: what the lesson builds and how it hangs together, as a small tree.

`build_map(view, subjects, steps)` reads the watch cache (a `ClusterView`) and returns an
`ObjectMap`: immutable nodes (kind, name, state, the step it belongs to, children and
links) that both views draw the same way (`describe`, `describe_link`). It is a pure
function of the view: no request of its own.

Which objects: the lesson's subjects (`tutor.lesson.map_subjects`: what its checks are
about and its front matter's `map:`), then everything related to them (`relations`),
except that a StorageClass does not pull in every volume of its class. A subject not
there yet is drawn as "not created yet".

Where each object goes: under what outlasts it, so that what comes and goes moves while
the rest stays put. A volume hangs under its StorageClass, a claim under its volume (or
under its class while it waits for one), a pod under the claim it mounts (else under its
controller), a ReplicaSet under its Deployment, a Service under the Ingress that routes to
it. So `mongo-0` is drawn under its claim: deleted, it goes Terminating and disappears; the
StatefulSet makes it again, with a new uid, under the same claim. Every other relation is a
link under the object it starts from: a StatefulSet's pods, claims and Service, a Service's
endpoints (ready or not), an Ingress's other Services.

The step an object belongs to: the step the lesson's `map:` gives it; else its maker's (a
controller's object, a StatefulSet's claims, the volume provisioned for a claim); else the
first step whose checks are about it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from tutor.cluster import objects
from tutor.cluster.object_states import Health, desired_replicas, state_of
from tutor.cluster.objects import Obj
from tutor.cluster.relations import Edge, Found, Ref, Relation, edges, ref_of
from tutor.cluster.view import ClusterView, WatchKey
from tutor.lesson import resources, selectors
from tutor.lesson.map_subjects import MapSubject

KIND_REACH: Mapping[str, tuple[str, ...]] = {
    "storageclass": (),
    "persistentvolume": ("storageclass", "persistentvolumeclaim"),
    "persistentvolumeclaim": ("persistentvolume", "storageclass", "pod", "statefulset"),
    "pod": ("persistentvolumeclaim", "replicaset", "statefulset", "service"),
    "replicaset": ("deployment", "pod"),
    "deployment": ("replicaset",),
    "statefulset": ("pod", "persistentvolumeclaim", "service"),
    "daemonset": ("pod",),
    "service": ("endpoints", "pod", "ingress", "statefulset"),
    "ingress": ("service",),
    "endpoints": (),
}
"""Which kinds an object of a kind may be related to: the kinds the map reads for a subject."""

_RANK = {
    kind: index
    for index, kind in enumerate(
        (
            "storageclass",
            "persistentvolume",
            "persistentvolumeclaim",
            "statefulset",
            "deployment",
            "daemonset",
            "replicaset",
            "pod",
            "service",
            "ingress",
        )
    )
}
_PLACES: Mapping[str, tuple[tuple[Relation, str], ...]] = {
    "persistentvolume": (("class", "storageclass"),),
    "persistentvolumeclaim": (("bound", "persistentvolume"), ("class", "storageclass")),
    "pod": (
        ("mounts", "persistentvolumeclaim"),
        ("owns", "statefulset"),
        ("owns", "replicaset"),
        ("owns", "daemonset"),
    ),
    "replicaset": (("owns", "deployment"),),
    "service": (("routes", "ingress"),),
}
"""Where an object of a kind is drawn: under the first of these that relates to it."""
_LINKED: frozenset[Relation] = frozenset({"owns", "claims", "governs", "routes", "endpoint", "mounts"})
"""Relations drawn as links when they are not where the object is drawn."""
_LINK_WORDS: Mapping[Relation, str] = {
    "owns": "owns",
    "claims": "claim",
    "governs": "governing",
    "routes": "routes to",
    "endpoint": "sends to",
    "mounts": "mounted by",
    "bound": "bound to",
    "class": "class of",
}
_PROVISIONED_NAME = re.compile(r"^(pvc-[0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class MapLink:
    """A relation drawn where it starts, to an object drawn elsewhere in the map."""

    relation: Relation
    kind: str
    """The API's Kind: Pod, Service..."""
    namespace: str | None
    name: str
    state: str
    health: Health


@dataclass(frozen=True)
class MapNode:
    kind: str
    """The API's Kind: StorageClass, PersistentVolumeClaim, Pod..."""
    name: str
    namespace: str | None
    state: str
    """As kubectl would say it: `Bound`, `Running 1/1`, `1/1 ready`, `Terminating`, `(default)`."""
    health: Health
    step: str | None
    """The id of the lesson step it belongs to (see the module's doc), or None."""
    uid: str | None = None
    children: tuple[MapNode, ...] = ()
    links: tuple[MapLink, ...] = ()

    def walk(self, depth: int = 0, parent: MapNode | None = None) -> Iterator[tuple[int, MapNode, MapNode | None]]:
        """This node and those under it, depth first: (depth, node, the node it hangs under)."""
        yield depth, self, parent
        for child in self.children:
            yield from child.walk(depth + 1, self)


@dataclass(frozen=True)
class ObjectMap:
    roots: tuple[MapNode, ...] = ()
    note: str = ""
    """Why the map is not the whole picture (no cluster yet, unreachable, still reading); "" when it is."""
    loading: bool = False
    """Kinds it needs are still being read from a cluster that answers: a moment more completes it."""

    def placed(self) -> Iterator[tuple[int, MapNode, MapNode | None]]:
        """Every node, depth first: (depth, node, the node it hangs under or None)."""
        for root in self.roots:
            yield from root.walk()

    def nodes(self) -> Iterator[MapNode]:
        for _, node, _ in self.placed():
            yield node

    def find(self, kind: str, name: str, namespace: str | None = None) -> MapNode | None:
        for node in self.nodes():
            if node.kind == kind and node.name == name and (namespace is None or node.namespace == namespace):
                return node
        return None

    def parent_of(self, node: MapNode) -> MapNode | None:
        for _, candidate, parent in self.placed():
            if candidate is node:
                return parent
        return None


# --- how a node is written (both views) -------------------------------------------------------


def qualified(kind: str, namespace: str | None, name: str) -> str:
    """`pacman/mongo-0`; a provisioned volume's uuid name cut short (`pvc-3f2a8c1e…`)."""
    if kind == "PersistentVolume":
        short = _PROVISIONED_NAME.match(name)
        name = f"{short.group(1)}…" if short else name
    return f"{namespace}/{name}" if namespace else name


def describe(node: MapNode) -> str:
    """`Pod pacman/mongo-0 Running 1/1`: the node as a line, without its step."""
    return " ".join(part for part in (node.kind, qualified(node.kind, node.namespace, node.name), node.state) if part)


def shows_step(node: MapNode, parent: MapNode | None) -> bool:
    """Whether a view says the node's step: it has one, and it is not the step of the node it
    hangs under (a Deployment's ReplicaSet and pods belong to its step: said once)."""
    return node.step is not None and (parent is None or parent.step != node.step)


def link_words(link: MapLink) -> tuple[str, str]:
    """What a link says, and the state of what it points to: (`sends to Pod pacman/x`, `ready`)."""
    state = ("ready" if link.health == "ok" else "not ready") if link.relation == "endpoint" else link.state
    return f"{_LINK_WORDS[link.relation]} {link.kind} {qualified(link.kind, link.namespace, link.name)}", state


def describe_link(link: MapLink) -> str:
    """`sends to Pod pacman/pacman-7d9f-abcde ready`."""
    return " ".join(part for part in link_words(link) if part)


# --- what the map reads -------------------------------------------------------------------------


def map_keys(subjects: Sequence[MapSubject]) -> set[WatchKey]:
    """The watch keys the map reads: every kind related to a subject's, in its namespace."""
    keys: set[WatchKey] = set()
    for subject in subjects:
        seen: set[str] = set()
        todo = [subject.kind]
        while todo:
            kind = todo.pop()
            if kind in seen:
                continue
            seen.add(kind)
            todo.extend(KIND_REACH.get(kind, ()))
        for kind in seen:
            keys.add(WatchKey.of(kind, subject.namespace))
    return keys


def build_map(
    view: ClusterView,
    subjects: Sequence[MapSubject],
    steps: Sequence[str] = (),
    *,
    errors: Callable[[WatchKey], str | None] | None = None,
) -> ObjectMap:
    """The map of `subjects` (names, namespaces and selectors filled in) as `view` shows them now.

    `steps`: the lesson's step ids in order (roots are drawn in the order of their steps).
    `errors`: what keeps a key from being read (the watch cache's `error`)."""
    keys = map_keys(subjects)
    note, loading = _standing(view, keys, errors)
    by_kind: dict[str, list[Obj]] = {}
    for key in sorted(keys, key=str):
        by_kind.setdefault(key.kind, []).extend(view.objects(key))
    found = Found(by_kind)
    related = edges(found)
    seeds, missing, named = _seeds(found, subjects)
    included = _closure(found, related, seeds)
    step_of = _steps(related, subjects, named)
    drawn = _Drawing(found, related, included, step_of)
    roots = [drawn.node(ref) for ref in included if drawn.parent(ref) is None]
    roots.extend(_placeholder(subject) for subject in missing)
    order = {step: index for index, step in enumerate(steps)}

    def placed(node: MapNode) -> tuple[int, int, str, str]:
        kind = _canonical(node.kind)
        step = order.get(node.step, len(order)) if node.step is not None else len(order) + 1
        return step, _RANK.get(kind, len(_RANK)), node.namespace or "", node.name

    return ObjectMap(tuple(sorted(roots, key=placed)), note, loading)


def _standing(
    view: ClusterView, keys: set[WatchKey], errors: Callable[[WatchKey], str | None] | None
) -> tuple[str, bool]:
    """What the map cannot show, in words, and whether it is still being read."""
    status = view.connection
    if status.state in ("no_cluster", "refused", "rejected", "unreachable"):
        return status.message or status.describe(), False
    for key in sorted(keys, key=str):
        problem = errors(key) if errors else None
        if problem:
            return problem, False
    unsynced = sorted((key for key in keys if not view.synced(key)), key=str)
    if status.state == "reconnecting":
        return f"{status.describe()}: the map shows what the cluster showed last", False
    if unsynced:
        return f"reading {unsynced[0]} from the cluster", True
    return "", False


def _seeds(found: Found, subjects: Sequence[MapSubject]) -> tuple[list[Ref], list[MapSubject], dict[Ref, str]]:
    """The subjects' objects, in order; the named ones not there; the first step naming each."""
    seeds: dict[Ref, None] = {}
    missing: dict[tuple[str, str | None, str], MapSubject] = {}
    named: dict[Ref, str] = {}
    for subject in subjects:
        refs: list[Ref]
        if subject.name is not None:
            ref = Ref(subject.kind, _namespace(subject.kind, subject.namespace), subject.name)
            if found.get(ref) is None:
                missing.setdefault((ref.kind, ref.namespace, ref.name), subject)
                continue
            refs = [ref]
        else:
            wanted = selectors.parse(subject.selector or "")
            refs = [
                ref_of(subject.kind, obj)
                for obj in found.of(subject.kind)
                if objects.namespace(obj) == _namespace(subject.kind, subject.namespace)
                and wanted.matches(objects.labels(obj))
            ]
        for ref in refs:
            seeds.setdefault(ref)
            if subject.step is not None and not subject.declared:
                named.setdefault(ref, subject.step)
    return list(seeds), list(missing.values()), named


def _closure(found: Found, related: Sequence[Edge], seeds: Sequence[Ref]) -> list[Ref]:
    """The seeds and everything related to them, but a StorageClass's volumes and claims, and a
    Deployment's old ReplicaSets (scaled to 0, no pods left)."""
    around: dict[Ref, list[Ref]] = {}
    for edge in related:
        if edge.source.kind != "storageclass":
            around.setdefault(edge.source, []).append(edge.target)
        around.setdefault(edge.target, []).append(edge.source)
    has_pods = {edge.source for edge in related if edge.relation == "owns" and edge.target.kind == "pod"}
    included: dict[Ref, None] = {}
    todo = list(seeds)
    while todo:
        ref = todo.pop(0)
        if ref in included:
            continue
        obj = found.get(ref)
        if obj is None:
            continue
        if ref.kind == "replicaset" and ref not in seeds and ref not in has_pods and desired_replicas(obj) == 0:
            continue
        included[ref] = None
        todo.extend(around.get(ref, ()))
    return list(included)


def _steps(related: Sequence[Edge], subjects: Sequence[MapSubject], named: Mapping[Ref, str]) -> dict[Ref, str]:
    """The step each object belongs to: the author's, its maker's, or the first check's."""
    declared: dict[Ref, str] = {}
    for subject in subjects:
        if subject.declared and subject.step is not None and subject.name is not None:
            ref = Ref(subject.kind, _namespace(subject.kind, subject.namespace), subject.name)
            declared.setdefault(ref, subject.step)
    makers: dict[Ref, Ref] = {}
    for edge in related:
        if edge.relation in ("owns", "claims"):
            makers.setdefault(edge.target, edge.source)
        elif edge.relation == "bound":
            makers.setdefault(edge.source, edge.target)  # the volume provisioned for the claim
    result: dict[Ref, str] = {}

    def step(ref: Ref, seen: frozenset[Ref]) -> str | None:
        if ref in result:
            return result[ref]
        found = declared.get(ref)
        maker = makers.get(ref)
        if found is None and maker is not None and maker not in seen:
            found = step(maker, seen | {ref})
        found = found or named.get(ref)
        if found is not None:
            result[ref] = found
        return found

    for ref in {*declared, *makers, *named}:
        step(ref, frozenset())
    return result


class _Drawing:
    """The included objects as nodes: where each goes, and what it links to."""

    def __init__(self, found: Found, related: Sequence[Edge], included: Sequence[Ref], step_of: Mapping[Ref, str]):
        self.found = found
        self.included = set(included)
        self.step_of = step_of
        self.into: dict[Ref, list[Edge]] = {}
        self.out: dict[Ref, list[Edge]] = {}
        for edge in related:
            if edge.source in self.included and edge.target in self.included:
                self.into.setdefault(edge.target, []).append(edge)
                self.out.setdefault(edge.source, []).append(edge)
        self._parents = {ref: self._place(ref) for ref in included}

    def parent(self, ref: Ref) -> Edge | None:
        return self._parents.get(ref)

    def _place(self, ref: Ref) -> Edge | None:
        for relation, kind in _PLACES.get(ref.kind, ()):
            for edge in self.into.get(ref, ()):
                if edge.relation == relation and edge.source.kind == kind:
                    return edge
        return None

    def node(self, ref: Ref) -> MapNode:
        obj = self.found.get(ref)
        assert obj is not None
        state, health = state_of(ref.kind, obj, self.found)
        children = sorted(
            (edge.target for edge in self.out.get(ref, ()) if self._parents.get(edge.target) == edge),
            key=lambda child: (_RANK.get(child.kind, len(_RANK)), child.namespace or "", child.name),
        )
        links = [
            self._link(edge)
            for edge in self.out.get(ref, ())
            if edge.relation in _LINKED and self._parents.get(edge.target) != edge
        ]
        return MapNode(
            _api_kind(ref.kind),
            ref.name,
            ref.namespace,
            state,
            health,
            self.step_of.get(ref),
            objects.uid(obj),
            tuple(self.node(child) for child in children),
            tuple(sorted(links, key=lambda link: (list(_LINK_WORDS).index(link.relation), link.name))),
        )

    def _link(self, edge: Edge) -> MapLink:
        obj = self.found.get(edge.target)
        assert obj is not None
        state, health = state_of(edge.target.kind, obj, self.found)
        if edge.relation == "endpoint":
            health = "ok" if edge.ready else "waiting"
        target = edge.target
        return MapLink(edge.relation, _api_kind(target.kind), target.namespace, target.name, state, health)


def _placeholder(subject: MapSubject) -> MapNode:
    assert subject.name is not None
    return MapNode(
        _api_kind(subject.kind),
        subject.name,
        _namespace(subject.kind, subject.namespace),
        "not created yet",
        "absent",
        subject.step,
    )


def _namespace(kind: str, namespace: str | None) -> str | None:
    found = resources.lookup(kind)
    return namespace if found is not None and found.namespaced else None


def _api_kind(kind: str) -> str:
    found = resources.lookup(kind)
    return found.kind if found else kind


def _canonical(api_kind: str) -> str:
    found = resources.lookup(api_kind)
    return found.name if found else api_kind
