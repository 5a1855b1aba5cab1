"""The sandbox's object store: every API object, one global resourceVersion, an event log.

The API server, the controllers and the stand-ins (the minikube stand-in creating an
addon's objects, a test arranging a scene) all read and write through this API. It is
safe to call from any thread; every call is atomic.

Objects are plain JSON-like dicts, exactly as the API serves them. Resource types are
named by their *key* (``pods``, ``deployments.apps``, ``storageclasses.storage.k8s.io``);
cluster-scoped objects have the namespace ``""``. Reads return copies, so a caller may
change what it got and write it back::

    pod = store.get("pods", "pacman", "mongo-0")           # a dict, or None
    store.create({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "c", "namespace": "default"}, "data": {}})
    store.patch("storageclasses.storage.k8s.io", "", "standard",
                {"metadata": {"labels": {"team": "storage"}}})
    store.replace_status("pods", "pacman", "mongo-0", {...})   # no write when unchanged
    store.delete("pods", "pacman", "mongo-0")
    unsubscribe = store.subscribe(lambda event: ...)        # after every commit, in order

Every write bumps the one global resourceVersion and appends a :class:`WatchEvent` to a
bounded log, which is what HTTP watches replay from (410 Gone once a requested version
has left the log). Errors are :class:`~tutor.sandbox.errors.ApiError`, the same ones the
HTTP API answers with (NotFound, AlreadyExists, Conflict, Invalid, Forbidden).

Semantics kept from the real API server, because kubectl and the client rely on them:
uid, creationTimestamp, generation (bumped on spec changes of kinds with a status
subresource), ``generateName``; main-resource writes keep the stored status and status
writes keep the stored spec; namespaced objects need an existing, non-terminating
namespace to be created; deletion honours finalizers, graceful pod deletion and the
propagation policies (the garbage collector controller does the cascading).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.sandbox import errors
from tutor.sandbox.objects import Obj, clone, random_suffix, rfc3339
from tutor.sandbox.objects import clone_obj as _copy
from tutor.sandbox.resources import Registry, ResourceType
from tutor.sandbox.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)

if TYPE_CHECKING:
    from tutor.sandbox.admission import Admission

log = logging.getLogger(__name__)

ObjKey = tuple[str, str, str]  # (resource key, namespace, name)

DEFAULT_EVENT_LOG = 20_000


@dataclass(frozen=True)
class WatchEvent:
    """One committed change. ``obj`` is the object as stored then; never mutate it."""

    rv: int
    type: str  # "ADDED", "MODIFIED" or "DELETED"
    resource: str
    obj: Obj
    #: The object before this change (None for ADDED), so a selector-filtered watch
    #: can turn "stopped matching" into DELETED as the real server does.
    old: Obj | None = None

    @property
    def namespace(self) -> str:
        return str(self.obj.get("metadata", {}).get("namespace") or "")

    @property
    def name(self) -> str:
        return str(self.obj.get("metadata", {}).get("name") or "")


Subscriber = Callable[[WatchEvent], None]
# Aliases: inside Store, ``list`` names the method.
ObjList = list[Obj]
KeyList = list[ObjKey]
EventList = list[WatchEvent]


# Kinds with a status subresource whose metadata.generation the real server leaves unset.
_NO_GENERATION = frozenset({"pods", "namespaces", "nodes", "persistentvolumeclaims", "persistentvolumes", "services"})


def tracks_generation(rt: ResourceType) -> bool:
    return (rt.has_status or rt.custom) and rt.key not in _NO_GENERATION


def _spec_part(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class Store:
    """All objects of one simulated cluster. See the module docstring for the contract."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        event_log_size: int = DEFAULT_EVENT_LOG,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry or Registry()
        self.clock = clock
        self._lock = threading.RLock()
        self._objects: dict[str, dict[str, dict[str, Obj]]] = {}
        self._by_uid: dict[str, ObjKey] = {}
        self._dependents: dict[str, set[ObjKey]] = {}
        self._rv = 0
        self._log: list[WatchEvent] = []
        self._log_first_rv = 1
        self._log_size = event_log_size
        self._subscribers: list[Subscriber] = []
        self._pending: deque[WatchEvent] = deque()
        self._notifying = False
        #: Writes per object since the store was made, for the hot-loop detector.
        self.writes: Counter[ObjKey] = Counter()
        self.admission: Admission | None = None

    # ---- reads -------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        """The newest resourceVersion: bumped by every write."""
        return self._rv

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        """A copy of the object, or None."""
        with self._lock:
            obj = self._peek(resource, namespace, name)
            return _copy(obj) if obj is not None else None

    def read(self, resource: str, namespace: str, name: str) -> Obj:
        """A copy of the object; raises a 404 ApiError when it does not exist."""
        obj = self.get(resource, namespace, name)
        if obj is None:
            rt = self.registry.require(resource)
            raise errors.not_found(rt.plural, rt.group, name)
        return obj

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | FieldSelector | None = None,
    ) -> ObjList:
        """Copies of the matching objects, sorted by namespace and name.

        ``namespace=None`` means every namespace. Selectors take the query-string syntax
        (``"name=mongo"``, ``"status.phase=Running"``) or parsed selectors.
        """
        with self._lock:
            return [clone(o) for o in self.iter(resource, namespace, label_selector, field_selector)]

    def list_with_version(
        self,
        resource: str,
        namespace: str | None = None,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | FieldSelector | None = None,
    ) -> tuple[ObjList, int]:
        """The stored (uncopied, read-only) matching objects and the version they are at."""
        with self._lock:
            return list(self.iter(resource, namespace, label_selector, field_selector)), self._rv

    def iter(
        self,
        resource: str,
        namespace: str | None = None,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | FieldSelector | None = None,
    ) -> Iterator[Obj]:
        """The stored objects themselves, uncopied: for controllers that only read.

        Call it while holding :meth:`locked` or consume it at once; never mutate.
        """
        labels = (
            parse_label_selector(label_selector)
            if isinstance(label_selector, str) or label_selector is None
            else label_selector
        )
        fields = (
            parse_field_selector(field_selector, resource)
            if isinstance(field_selector, str) or field_selector is None
            else field_selector
        )
        by_ns = self._objects.get(resource)
        if not by_ns:
            return iter(())
        if namespace is None or (namespace == "" and not self._namespaced(resource)):
            spaces = [by_ns[ns] for ns in sorted(by_ns)]
        else:
            spaces = [by_ns.get(namespace, {})]
        name = fields.value_of("metadata.name")
        result: list[Obj] = []
        for space in spaces:
            if name is not None:
                candidates = [space[name]] if name in space else []
            else:
                candidates = [space[n] for n in sorted(space)]
            for obj in candidates:
                if not labels.empty and not labels.matches(obj["metadata"].get("labels")):
                    continue
                if not fields.empty and not fields.matches(obj):
                    continue
                result.append(obj)
        return iter(result)

    def peek(self, resource: str, namespace: str, name: str) -> Obj | None:
        """The stored object itself, uncopied (read-only), or None."""
        return self._peek(resource, namespace, name)

    def by_uid(self, uid: str) -> Obj | None:
        """The stored object (read-only) with this uid, or None."""
        with self._lock:
            key = self._by_uid.get(uid)
            return self._peek(*key) if key else None

    def key_of_uid(self, uid: str) -> ObjKey | None:
        return self._by_uid.get(uid)

    def dependents(self, owner_uid: str) -> KeyList:
        """Keys of the objects that name ``owner_uid`` in their ownerReferences."""
        with self._lock:
            return sorted(self._dependents.get(owner_uid, ()))

    def namespaces_in_use(self, namespace: str) -> Iterator[tuple[str, Obj]]:
        """(resource key, stored object) of everything in a namespace."""
        with self._lock:
            found = [
                (resource, obj)
                for resource, by_ns in self._objects.items()
                for obj in by_ns.get(namespace, {}).values()
            ]
        return iter(found)

    def count(self, resource: str | None = None) -> int:
        with self._lock:
            if resource is None:
                return len(self._by_uid)
            return sum(len(space) for space in self._objects.get(resource, {}).values())

    def locked(self) -> threading.RLock:
        """The store's lock, for a caller that needs several reads to be consistent."""
        return self._lock

    # ---- writes ------------------------------------------------------------------

    def create(self, obj: Obj, *, resource: str | None = None, dry_run: bool = False) -> Obj:
        """Store a new object (a copy of ``obj``) and return what was stored.

        ``metadata.namespace`` places a namespaced object (``default`` when missing).
        Defaults and admission (cluster IPs, the default StorageClass...) apply, as when
        the object comes through the API; ``status`` is kept as given.
        """
        with self._lock:
            rt = self._resource_type(obj, resource)
            new = clone(obj)
            new["apiVersion"], new["kind"] = rt.api_version, rt.kind
            meta = new.setdefault("metadata", {})
            if rt.namespaced:
                meta["namespace"] = meta.get("namespace") or "default"
            else:
                meta.pop("namespace", None)
            namespace = meta.get("namespace", "")
            if not meta.get("name") and meta.get("generateName"):
                for _ in range(20):
                    candidate = meta["generateName"] + random_suffix()
                    if self._peek(rt.key, namespace, candidate) is None:
                        meta["name"] = candidate
                        break
            name = meta.get("name") or ""
            if not name:
                raise errors.invalid(
                    rt.kind,
                    rt.group,
                    "",
                    [("metadata.name", "Required value: name or generateName is required")],
                )
            if rt.namespaced:
                self._check_namespace_for_create(rt, namespace, name)
            if self._peek(rt.key, namespace, name) is not None:
                raise errors.already_exists(rt.plural, rt.group, name)
            for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(field, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = rfc3339(self.clock())
            if tracks_generation(rt):
                meta["generation"] = 1
            if self.admission is not None:
                self.admission.on_create(rt, new)
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return _copy(new)
            self._commit("ADDED", rt, new)
            return _copy(new)

    def update(
        self,
        obj: Obj,
        *,
        resource: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
        owned: bool = False,
    ) -> Obj:
        """Replace an object (PUT semantics) and return what was stored.

        A ``metadata.resourceVersion`` in ``obj`` must be the stored one (409 Conflict
        otherwise); leave it out to overwrite unconditionally. With ``subresource=None``
        the stored status is kept (for kinds with a status subresource); with
        ``subresource="status"`` only the status is taken from ``obj``. ``owned``: ``obj``
        is the caller's own copy (a patch's result), kept rather than copied.
        """
        with self._lock:
            rt = self._resource_type(obj, resource)
            meta = obj.get("metadata") or {}
            namespace = (meta.get("namespace") or "default") if rt.namespaced else ""
            name = meta.get("name") or ""
            old = self._peek(rt.key, namespace, name)
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            expected = meta.get("resourceVersion")
            if expected and str(expected) != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, rt.group, name)
            uid = meta.get("uid")
            if uid and uid != old["metadata"]["uid"]:
                raise errors.conflict(
                    rt.plural,
                    rt.group,
                    name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: {old['metadata']['uid']}",
                )
            if subresource == "status":
                new = clone(old)
                if "status" in obj:
                    new["status"] = clone(obj["status"])
                else:
                    new.pop("status", None)
            else:
                new = obj if owned else clone(obj)
                new["apiVersion"], new["kind"] = rt.api_version, rt.kind
                new_meta = new.setdefault("metadata", {})
                for field in (
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "generation",
                ):
                    if field in old["metadata"]:
                        new_meta[field] = old["metadata"][field]
                    else:
                        new_meta.pop(field, None)
                if rt.namespaced:
                    new_meta["namespace"] = namespace
                if rt.has_status:
                    if "status" in old:
                        new["status"] = clone(old["status"])
                    else:
                        new.pop("status", None)
            if tracks_generation(rt) and _spec_part(new) != _spec_part(old):
                new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
            if self.admission is not None:
                self.admission.on_update(rt, old, new, subresource)
            if dry_run:
                return _copy(new)
            if self._equal_ignoring_rv(old, new):
                return _copy(old)
            if self._ready_to_vanish(rt, new):
                self._remove(rt, new)
            else:
                self._commit("MODIFIED", rt, new)
            return _copy(new)

    def update_status(self, obj: Obj, *, resource: str | None = None) -> Obj:
        """``update(obj, subresource="status")``."""
        return self.update(obj, resource=resource, subresource="status")

    def replace_status(self, resource: str, namespace: str, name: str, status: Obj) -> Obj | None:
        """Set an object's whole status; no write (and no event) when it is unchanged.

        The converging write controllers use: build the desired status, hand it here.
        Returns the stored object, or None when it no longer exists.
        """
        with self._lock:
            old = self._peek(resource, namespace, name)
            if old is None:
                return None
            if old.get("status") == status:
                return old
            rt = self.registry.require(resource)
            new = dict(old)
            new["status"] = clone(status)
            new["metadata"] = dict(old["metadata"])
            if self.admission is not None:
                self.admission.on_update(rt, old, new, "status")
            self._commit("MODIFIED", rt, new)
            return new

    def patch(
        self,
        resource: str,
        namespace: str,
        name: str,
        patch: Any,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
        check: Callable[[Obj], None] | None = None,
    ) -> Obj:
        """Apply a patch atomically and return the stored result.

        ``patch_type``: ``"merge"`` (RFC 7386), ``"json"`` (RFC 6902, a list of
        operations) or ``"strategic"`` (Kubernetes' strategic merge patch). ``check`` sees
        the patched object before anything is stored (the API's field validation) and may
        raise to refuse it.
        """
        from tutor.sandbox import patch as patching

        with self._lock:
            old = self._peek(resource, namespace, name)
            rt = self.registry.require(resource)
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            patched = patching.apply_patch(old, patch, patch_type)
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not produce an object")
            if check is not None:
                check(patched)
            patched.setdefault("metadata", {})
            patched["metadata"]["name"] = name
            if rt.namespaced:
                patched["metadata"]["namespace"] = namespace
            if str(patched["metadata"].get("resourceVersion", "")) == old["metadata"]["resourceVersion"]:
                patched["metadata"].pop("resourceVersion", None)
            return self.update(patched, resource=resource, subresource=subresource, dry_run=dry_run, owned=True)

    def patch_status(self, resource: str, namespace: str, name: str, status_patch: Obj) -> Obj:
        """Merge-patch (RFC 7386) an object's status."""
        return self.patch(resource, namespace, name, {"status": status_patch}, subresource="status")

    def delete(
        self,
        resource: str,
        namespace: str,
        name: str,
        *,
        propagation: str | None = None,
        grace_period: int | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete an object; return it as deleted, or as marked for deletion.

        Objects with finalizers, pods on a node (graceful termination; ``grace_period=0``
        forces) and namespaces are marked with a deletionTimestamp and disappear once
        their controllers are done. ``propagation`` is ``Background`` (default),
        ``Foreground`` or ``Orphan``; the garbage collector handles the dependents.
        ``uid``/``resource_version`` are preconditions (409 Conflict when they differ).
        """
        with self._lock:
            rt = self.registry.require(resource)
            namespace = namespace if rt.namespaced else ""
            old = self._peek(resource, namespace, name)
            if old is None:
                raise errors.not_found(rt.plural, rt.group, name)
            meta = old["metadata"]
            if uid and uid != meta["uid"]:
                raise errors.conflict(
                    rt.plural,
                    rt.group,
                    name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta['uid']}",
                )
            if resource_version and resource_version != meta["resourceVersion"]:
                raise errors.conflict(
                    rt.plural,
                    rt.group,
                    name,
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{resource_version}, ResourceVersion in object meta: "
                    f"{meta['resourceVersion']}",
                )
            new = clone(old)
            new_meta = new["metadata"]
            finalizers = list(new_meta.get("finalizers") or [])
            if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            elif propagation == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            graceful = False
            grace = 0
            if rt.key == "pods":
                spec = old.get("spec") or {}
                phase = (old.get("status") or {}).get("phase")
                default_grace = int(spec.get("terminationGracePeriodSeconds", 30))
                grace = default_grace if grace_period is None else max(0, int(grace_period))
                graceful = bool(spec.get("nodeName")) and grace > 0 and phase not in ("Succeeded", "Failed")
                if meta.get("deletionTimestamp") and grace_period is not None and grace == 0:
                    graceful = False
            if rt.key == "namespaces":
                graceful = bool((old.get("spec") or {}).get("finalizers"))
                if graceful:
                    new.setdefault("status", {})["phase"] = "Terminating"
            if dry_run:
                return _copy(new)
            if meta.get("deletionTimestamp") and not (rt.key == "pods" and not graceful and grace_period == 0):
                if finalizers != list(meta.get("finalizers") or []):
                    new_meta["finalizers"] = finalizers
                    self._commit("MODIFIED", rt, new)
                return _copy(self._peek(resource, namespace, name) or new)
            if finalizers or graceful:
                new_meta["deletionTimestamp"] = rfc3339(self.clock() + grace)
                new_meta["deletionGracePeriodSeconds"] = grace
                if finalizers:
                    new_meta["finalizers"] = finalizers
                if tracks_generation(rt):
                    new_meta["generation"] = int(new_meta.get("generation", 1)) + 1
                self._commit("MODIFIED", rt, new)
                return _copy(new)
            new_meta.setdefault("deletionTimestamp", rfc3339(self.clock()))
            new_meta["deletionGracePeriodSeconds"] = 0
            self._remove(rt, new)
            return _copy(new)

    def remove_finalizer(self, resource: str, namespace: str, name: str, finalizer: str) -> None:
        """Drop one finalizer (a no-op when absent); the object goes once none remain."""
        with self._lock:
            old = self._peek(resource, namespace, name)
            if old is None or finalizer not in (old["metadata"].get("finalizers") or []):
                return
            new = clone(old)
            rest = [f for f in new["metadata"]["finalizers"] if f != finalizer]
            if rest:
                new["metadata"]["finalizers"] = rest
            else:
                del new["metadata"]["finalizers"]
            rt = self.registry.require(resource)
            if self._ready_to_vanish(rt, new):
                self._remove(rt, new)
            else:
                self._commit("MODIFIED", rt, new)

    # ---- events ------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` after every commit, in resourceVersion order.

        Callbacks run on the writing thread while the store is locked: keep them short
        and never block. A write made from a callback is fine: its event is delivered
        after the current one has reached every subscriber. Returns an unsubscribe.
        """
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def events_since(self, rv: int) -> EventList:
        """The logged events after ``rv``; a 410 ApiError when they have left the log."""
        with self._lock:
            if rv >= self._rv:
                return []
            if rv < self._log_first_rv - 1:
                raise errors.gone(f"too old resource version: {rv} ({self._log_first_rv - 1})")
            return self._log[rv - self._log_first_rv + 1 :]

    def logged_events(self) -> EventList:
        """Every event still in the log, oldest first (every version of every object)."""
        with self._lock:
            return list(self._log)

    def wipe(self) -> int:
        """Remove every object at once, whatever its finalizers and grace period say, as
        deleting the cluster does (``minikube delete``). Returns how many went.

        Each removal is an ordinary ``DELETED`` event for the subscribers (admission frees
        what the object held); the resourceVersion keeps counting, so a watch resumed from
        before sees the deletions rather than versions that went back in time.
        """
        removed = 0
        with self._lock:
            for resource in list(self._objects):
                rt = self.registry.get(resource)
                for namespace in list(self._objects.get(resource, {})):
                    for name in list(self._objects.get(resource, {}).get(namespace, {})):
                        stored = self._objects[resource][namespace][name]
                        if rt is None:  # a custom resource whose type went first: no event
                            del self._objects[resource][namespace][name]
                            self._by_uid.pop(stored["metadata"].get("uid", ""), None)
                        else:
                            self._remove(rt, clone(stored))
                        removed += 1
            self._objects.clear()
            self._dependents.clear()
            self._by_uid.clear()
        return removed

    def compact(self) -> None:
        """Forget the event log: a watch resuming from any older version gets 410 Gone."""
        with self._lock:
            self._log = []
            self._log_first_rv = self._rv + 1

    # ---- internals ---------------------------------------------------------------

    def _namespaced(self, resource: str) -> bool:
        rt = self.registry.get(resource)
        return rt.namespaced if rt else True

    def _peek(self, resource: str, namespace: str, name: str) -> Obj | None:
        return self._objects.get(resource, {}).get(namespace, {}).get(name)

    def _resource_type(self, obj: Obj, resource: str | None) -> ResourceType:
        if resource is not None:
            return self.registry.require(resource)
        rt = self.registry.by_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        if rt is None:
            raise errors.bad_request(f'no matches for kind "{obj.get("kind")}" in version "{obj.get("apiVersion")}"')
        return rt

    def _check_namespace_for_create(self, rt: ResourceType, namespace: str, name: str) -> None:
        ns = self._peek("namespaces", "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                rt.plural,
                rt.group,
                name,
                f"unable to create new content in namespace {namespace} because it is being terminated",
            )

    @staticmethod
    def _equal_ignoring_rv(old: Obj, new: Obj) -> bool:
        if old.keys() != new.keys():
            return False
        for k, v in new.items():
            if k == "metadata":
                a = {m: x for m, x in old["metadata"].items() if m != "resourceVersion"}
                b = {m: x for m, x in v.items() if m != "resourceVersion"}
                if a != b:
                    return False
            elif old[k] != v:
                return False
        return True

    @staticmethod
    def _ready_to_vanish(rt: ResourceType, obj: Obj) -> bool:
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return False
        if rt.key == "namespaces" and (obj.get("spec") or {}).get("finalizers"):
            return False
        return not int(meta.get("deletionGracePeriodSeconds") or 0)

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _commit(self, event_type: str, rt: ResourceType, obj: Obj) -> None:
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        key = (rt.key, namespace, name)
        old = self._peek(*key)
        rv = self._next_rv()
        meta["resourceVersion"] = str(rv)
        self._objects.setdefault(rt.key, {}).setdefault(namespace, {})[name] = obj
        self._by_uid[meta["uid"]] = key
        self._reindex_owners(key, old, obj)
        self.writes[key] += 1
        self._emit(WatchEvent(rv, event_type, rt.key, obj, old))

    def _remove(self, rt: ResourceType, obj: Obj) -> None:
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        key = (rt.key, namespace, name)
        old = self._peek(*key)
        if old is None:
            return
        rv = self._next_rv()
        meta["resourceVersion"] = str(rv)
        space = self._objects[rt.key][namespace]
        del space[name]
        if not space:
            del self._objects[rt.key][namespace]
        self._by_uid.pop(meta["uid"], None)
        self._reindex_owners(key, old, None)
        self.writes[key] += 1
        if self.admission is not None:
            self.admission.on_removed(rt, obj)
        self._emit(WatchEvent(rv, "DELETED", rt.key, obj, old))

    def _reindex_owners(self, key: ObjKey, old: Obj | None, new: Obj | None) -> None:
        def owners(o: Obj | None) -> set[str]:
            if o is None:
                return set()
            return {ref.get("uid", "") for ref in o["metadata"].get("ownerReferences") or []}

        before, after = owners(old), owners(new)
        for uid in before - after:
            deps = self._dependents.get(uid)
            if deps is not None:
                deps.discard(key)
                if not deps:
                    del self._dependents[uid]
        for uid in after - before:
            self._dependents.setdefault(uid, set()).add(key)

    def _emit(self, event: WatchEvent) -> None:
        self._log.append(event)
        if len(self._log) > self._log_size * 2:
            drop = len(self._log) - self._log_size
            del self._log[:drop]
            self._log_first_rv += drop
        self._pending.append(event)
        if self._notifying:
            return
        self._notifying = True
        try:
            while self._pending:
                ev = self._pending.popleft()
                for callback in list(self._subscribers):
                    try:
                        callback(ev)
                    except Exception:
                        log.exception("store subscriber failed on %s %s", ev.type, ev.resource)
        finally:
            self._notifying = False
