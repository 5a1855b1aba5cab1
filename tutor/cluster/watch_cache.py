"""The watch cache: one list+watch per `WatchKey` the active checks need, shared by all of them.

Each key has a `Watcher`: a daemon thread that lists the key's objects, then watches
from the list's resourceVersion (with bookmarks), and keeps the objects in memory. What
goes wrong is recovered the way client-go's reflector does it:

- 410 Gone (the server no longer has events that old): list again, and report the
  difference with the old list as changes, since the events in between are lost;
- a dropped connection, connection refused, a 5xx, a timeout: back off (0.2 s doubling
  to 5 s, jittered), let the connection re-read the kubeconfig (the server may have
  moved), list again;
- 404 on the whole type (a CRD-based kind before its addon is installed): the key holds
  no objects and the type is marked missing; the list is retried every few seconds
  (sooner when a CustomResourceDefinition changes), since there is nothing to watch.

Nothing here polls the cluster's state: while idle, the requests are the open watches
themselves, renewed every WATCH_SECONDS, and one liveness request (`GET /version`) every
HEARTBEAT_EVERY seconds while any key is watched. A quiet watch says nothing about a
server that stopped answering (a frozen VM keeps its connections open), so the liveness
request is what notices it, within HEARTBEAT_EVERY + HEARTBEAT_TIMEOUT seconds.

A server that answers, but not as a Kubernetes API server that accepts the kubeconfig's
credentials would (401; 403 before anything else succeeded; an HTML page or other
non-JSON body; a reply that is not HTTP at all), is reported to the connection as
`rejected`, with what it answered: it is never shown as connected.

Every blocking call is bounded (`timeout_seconds` on the server, `_request_timeout` on
the client) and `stop()` shuts the socket of the request in flight (`Watch.stop()` once
the response has begun, `inflight.abort` while the headers are awaited), so `close()`
returns within about a second even when the server hangs.

`on_change(key, names)` is called from the watcher threads; `names` is the set of
object names that changed, or None when everything may have (first list, type gone).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tutor.cluster import objects
from tutor.cluster.api_kinds import list_call
from tutor.cluster.connection import CONNECT_TIMEOUT, ClusterConnection
from tutor.cluster.objects import Obj
from tutor.cluster.status import ConnectionStatus
from tutor.cluster.view import WatchKey

log = logging.getLogger(__name__)

WATCH_SECONDS = 240
"""Server-side lifetime of one watch request; client-go uses 5-10 minutes."""
LIST_READ_TIMEOUT = 15.0
BACKOFF_START = 0.2
BACKOFF_MAX = 5.0
MISSING_TYPE_RETRY = (2.0, 15.0)
"""A type the API does not serve is listed again after 2 s, doubling to 15 s."""
JOIN_TIMEOUT = 1.5
HEARTBEAT_EVERY = 3.0
HEARTBEAT_TIMEOUT = 4.0

ChangeListener = Callable[[WatchKey, frozenset[str] | None], None]


class Gone(Exception):
    """410: the resourceVersion is too old; list again."""


class TypeMissing(Exception):
    """404 on the collection: the API does not serve this kind (yet)."""


class NotAnApiServer(Exception):
    """The server answered something a Kubernetes API server never sends."""


def report_error(connection: ClusterConnection, err: BaseException, where: str) -> str | None:
    """Tell the connection what a failed request says about the server; returns a lasting
    problem of this request's own (a 403 on one kind, for instance), if any."""
    from kubernetes.client.exceptions import ApiException

    server = connection.info.server if connection.info else "the server"
    if isinstance(err, NotAnApiServer):
        connection.report_rejected(f"{server} is not a Kubernetes API server: {err}")
        return f"cannot list {where}: {err}"
    elif isinstance(err, ApiException):
        status = err.status or 0
        text = f"HTTP {status} {err.reason or ''}".strip()
        if not _json_answer(err):
            connection.report_rejected(f"{server} is not a Kubernetes API server: it answered {text} {_body_kind(err)}")
            return f"cannot list {where}: {text}"
        elif status == 401:
            connection.report_rejected(
                f"{server} does not accept the kubeconfig's credentials ({text}): log in again, or check the user "
                "of this context"
            )
            return f"cannot list {where}: {text}"
        elif status >= 500 or status == 429:
            connection.report_failure(f"{text} on {where}", connectivity=False)
        elif status == 403:
            # Forbidden to everything is a cluster that refuses the tutor; to one kind, a gap in RBAC.
            connection.report_forbidden(f"{server} refuses the kubeconfig's user ({text} on {where})")
            return f"cannot list {where}: {text}"
        else:
            connection.report_success()
            return f"cannot list {where}: {text}"
    elif _not_http(err):
        connection.report_rejected(f"{server} does not answer as an HTTP(S) API server does ({_short_error(err)})")
    elif _is_connectivity(err):
        connection.report_failure(_short_error(err))
    else:
        log.warning("a request for %s failed unexpectedly", where, exc_info=err)
        connection.report_failure(f"{type(err).__name__}: {err}", connectivity=False)
    return None


def _json_answer(err: Any) -> bool:
    headers = getattr(err, "headers", None) or {}
    kind = str(headers.get("Content-Type") or headers.get("content-type") or "")
    if kind:
        return "json" in kind or "protobuf" in kind
    body = err.body if isinstance(getattr(err, "body", None), str | bytes) else b""
    try:
        return isinstance(json.loads(body or b"{}"), dict)
    except ValueError:
        return False


def _body_kind(err: Any) -> str:
    headers = getattr(err, "headers", None) or {}
    kind = str(headers.get("Content-Type") or headers.get("content-type") or "").split(";")[0].strip()
    return f"with {kind}" if kind else "with a body that is not JSON"


def _not_http(err: BaseException) -> bool:
    """A reply that is not HTTP (garbage on the port), or TLS spoken to a server that does not."""
    import ssl
    from http.client import BadStatusLine

    seen: set[int] = set()
    stack: list[Any] = [err]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, BadStatusLine | ssl.SSLError):
            return True
        stack.extend(
            [item.__cause__, item.__context__, *(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))]
        )
        stack.append(
            getattr(item, "reason", None) if isinstance(getattr(item, "reason", None), BaseException) else None
        )
    return False


class Backoff:
    def __init__(self, start: float = BACKOFF_START, limit: float = BACKOFF_MAX) -> None:
        self.start, self.limit = start, limit
        self.current = start

    def next(self) -> float:
        delay = self.current * random.uniform(0.8, 1.2)
        self.current = min(self.limit, self.current * 2)
        return delay

    def reset(self) -> None:
        self.current = self.start


def _raw_watch() -> Any:
    from kubernetes import watch

    class RawWatch(watch.Watch):
        """Events as the API's own JSON: no pydantic model per event."""

        def get_return_type(self, func: Any) -> str:
            return ""

    return RawWatch()  # type: ignore[no-untyped-call]


def _is_connectivity(err: BaseException) -> bool:
    import urllib3

    return isinstance(err, urllib3.exceptions.HTTPError | OSError | socket.timeout)


class Watcher:
    """One list+watch, in its own daemon thread."""

    def __init__(self, key: WatchKey, connection: ClusterConnection, on_change: ChangeListener) -> None:
        self.key = key
        self.connection = connection
        self.on_change = on_change
        self._lock = threading.Lock()
        self._objects: dict[tuple[str | None, str], Obj] = {}
        self._synced = False
        self._missing = False
        self.error: str | None = None
        """A lasting problem with this key (e.g. 403 Forbidden), for the learner."""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._watch: Any = None
        self._response: Any = None
        self.requests = 0
        """Lists and watches sent (for tests and the benchmark)."""
        self._thread = threading.Thread(target=self._run, name=f"k8s-tutor watch {key}", daemon=True)

    # --- read side (any thread) ---------------------------------------------------------

    def objects(self) -> list[Obj]:
        with self._lock:
            return list(self._objects.values())

    @property
    def synced(self) -> bool:
        with self._lock:
            return self._synced

    @property
    def missing(self) -> bool:
        with self._lock:
            return self._missing

    # --- control --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and unblock any read in progress; returns at once."""
        self._stop.set()
        self._wake.set()
        self._interrupt()

    def _interrupt(self) -> None:
        from tutor.cluster import inflight  # with urllib3, loaded by the client long before

        # Waiting for the headers (a hung server): only the connection can be cut.
        inflight.abort(self._thread.ident)
        current = self._watch
        if current is not None:
            current.stop()
        response = self._response
        if response is not None:
            _shutdown(response)

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end (see `_join`)."""
        return _join(self._thread, timeout, lambda: self._interrupt() if self._stop.is_set() else None)

    def retry_now(self) -> None:
        """Cut a backoff or missing-type wait short (e.g. a CRD just appeared)."""
        self._wake.set()

    # --- the thread -----------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _run(self) -> None:
        backoff = Backoff()
        missing_backoff = Backoff(*MISSING_TYPE_RETRY)
        while not self._stop.is_set():
            api_client = self.connection.client()
            if api_client is None:
                self._sleep(backoff.next())
                continue
            try:
                resource_version = self._list(api_client)
                self.error = None
                self.connection.report_success()
                backoff.reset()
                missing_backoff.reset()
                self._watch_from(api_client, resource_version)
            except Gone:
                continue
            except TypeMissing:
                self._mark_missing()
                self._sleep(missing_backoff.next())
            except Exception as err:
                if self._stop.is_set():
                    break
                self._failed(err)
                self._sleep(backoff.next())

    def _failed(self, err: Exception) -> None:
        problem = report_error(self.connection, err, str(self.key))
        if problem is not None and problem != self.error:
            self.error = problem
            # The checks on this key are judged again: they now wait for this reason.
            self.on_change(self.key, None)

    def _list(self, api_client: Any) -> str:
        from kubernetes.client.exceptions import ApiException

        func, args = list_call(api_client, self.key.kind, self.key.namespace)
        kwargs: dict[str, Any] = {"_preload_content": False, "_request_timeout": (CONNECT_TIMEOUT, LIST_READ_TIMEOUT)}
        if self.key.selector:
            kwargs["label_selector"] = self.key.selector
        self.requests += 1
        try:
            response = func(*args, **kwargs)
        except ApiException as err:
            if err.status == 404 and _json_answer(err):
                raise TypeMissing from None
            raise
        self._response = response
        try:
            if self._stop.is_set():
                raise InterruptedError
            body = _json_object(response.data)
        finally:
            self._response = None
            response.release_conn()
        items = [item for item in body.get("items") or [] if isinstance(item, dict)]
        self._replace(items)
        return str((body.get("metadata") or {}).get("resourceVersion") or "")

    def _replace(self, items: Sequence[Obj]) -> None:
        fresh = {(objects.namespace(obj), objects.name(obj)): obj for obj in items}
        with self._lock:
            old = self._objects
            first = not self._synced or self._missing
            self._objects = fresh
            self._synced = True
            self._missing = False
            self.error = None
        if first:
            self.on_change(self.key, None)
            return
        changed = {
            key[1]
            for key in old.keys() | fresh.keys()
            if key not in old
            or key not in fresh
            or objects.resource_version(old[key]) != objects.resource_version(fresh[key])
        }
        if changed:
            self.on_change(self.key, frozenset(changed))

    def _mark_missing(self) -> None:
        with self._lock:
            was = (self._missing, bool(self._objects), self._synced)
            self._objects = {}
            self._missing = True
            self._synced = True
        if was != (True, False, True):
            self.on_change(self.key, None)

    def _watch_from(self, api_client: Any, resource_version: str) -> None:
        from kubernetes.client.exceptions import ApiException

        func, args = list_call(api_client, self.key.kind, self.key.namespace)
        while not self._stop.is_set():
            stream = _raw_watch()
            self._watch = stream
            if self._stop.is_set():
                break
            kwargs: dict[str, Any] = {
                "resource_version": resource_version,
                "timeout_seconds": WATCH_SECONDS,
                "allow_watch_bookmarks": True,
                # The read timeout outlives the server's own timeout: a connection that
                # went silent (a laptop that slept) is noticed, a quiet watch is not cut.
                "_request_timeout": (CONNECT_TIMEOUT, WATCH_SECONDS + 15),
            }
            if self.key.selector:
                kwargs["label_selector"] = self.key.selector
            self.requests += 1
            try:
                for event in stream.stream(func, *args, **kwargs):
                    resource_version = self._apply(event) or resource_version
                    if self._stop.is_set():
                        break
            except ApiException as err:
                if err.status == 410:
                    raise Gone from None
                if err.status == 404:
                    raise TypeMissing from None
                raise
            finally:
                self._watch = None
            # The server ended the watch (timeout_seconds): go on from where it stopped.

    def _apply(self, event: Any) -> str | None:
        if not isinstance(event, dict):
            return None
        kind = event.get("type")
        obj = event.get("raw_object") or event.get("object")
        if not isinstance(obj, dict):
            return None
        version = objects.resource_version(obj)
        if kind == "BOOKMARK":
            return version
        name = objects.name(obj)
        where = (objects.namespace(obj), name)
        with self._lock:
            if kind == "DELETED":
                self._objects.pop(where, None)
            elif kind in ("ADDED", "MODIFIED"):
                self._objects[where] = obj
            else:
                return version
        self.on_change(self.key, frozenset({name}))
        return version


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except ValueError:
        start = data[:40].decode("utf-8", "replace").strip()
        what = "an HTML page" if start.lower().startswith(("<!doctype html", "<html")) else f"{start!r}"
        raise NotAnApiServer(f"it answered {what}, not JSON") from None
    if not isinstance(body, dict):
        raise NotAnApiServer("it answered JSON that is not an object")
    return body


class Heartbeat:
    """One `GET /version` every HEARTBEAT_EVERY seconds: notices a server that stopped answering."""

    def __init__(self, connection: ClusterConnection) -> None:
        self.connection = connection
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="k8s-tutor liveness", daemon=True)
        self.requests = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        from tutor.cluster import inflight

        self._stop.set()
        inflight.abort(self._thread.ident)

    def join(self, timeout: float) -> bool:
        return _join(self._thread, timeout, self.stop)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            api_client = self.connection.client()
            if api_client is None:
                continue
            # Only now: the client's module is loaded (by the connection, under its lock); two
            # threads loading it at once can see it half-initialised.
            from kubernetes import client

            self.requests += 1
            try:
                response: Any = client.VersionApi(api_client).get_code(
                    _preload_content=False, _request_timeout=(CONNECT_TIMEOUT, HEARTBEAT_TIMEOUT)
                )
                try:
                    _json_object(response.data)
                finally:
                    response.release_conn()
            except Exception as err:
                if not self._stop.is_set():
                    report_error(self.connection, err, "/version")
                continue
            self.connection.report_alive()


def _join(thread: threading.Thread, timeout: float, interrupt: Callable[[], None]) -> bool:
    """Wait for `thread` to end. A request that was being sent when it was stopped had no
    socket to shut yet, so `interrupt` is repeated until the thread is gone."""
    deadline = time.monotonic() + timeout
    while thread.is_alive():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        thread.join(min(0.05, remaining))
        if thread.is_alive():
            interrupt()
    return True


def _shutdown(response: Any) -> None:
    """Unblock a thread reading `response` (a urllib3 response) by shutting its socket."""
    connection = getattr(response, "connection", None) or getattr(response, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _short_error(err: BaseException) -> str:
    text = str(err)
    for marker in (
        "Connection refused",
        "Connection reset",
        "timed out",
        "Response ended prematurely",
        "Remote end closed",
    ):
        if marker.lower() in text.lower():
            return marker.lower() if marker != "timed out" else "timed out"
    return text.splitlines()[0][:200] if text else type(err).__name__


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
