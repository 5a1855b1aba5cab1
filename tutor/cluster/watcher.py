"""One list+watch per `WatchKey`, in its own thread, and the liveness request beside them.

A `Watcher` lists the key's objects, then watches from the list's resourceVersion (with
bookmarks), and keeps the objects in memory. What goes wrong is recovered the way
client-go's reflector does it:

- 410 Gone (the server no longer has events that old): list again, and report the
  difference with the old list as changes, since the events in between are lost;
- a dropped connection, connection refused, a 5xx, a timeout: back off (0.2 s doubling
  to 5 s, jittered), let the connection re-read the kubeconfig (the server may have
  moved), list again;
- 404 on the whole type (a CRD-based kind before its addon is installed): the key holds
  no objects and the type is marked missing; the list is retried every few seconds
  (sooner when a CustomResourceDefinition changes), since there is nothing to watch.

Nothing here polls the cluster's state: while idle, the requests are the open watches
themselves, renewed every WATCH_SECONDS, and one liveness request (`Heartbeat`, `GET
/version`) every HEARTBEAT_EVERY seconds while any key is watched. A quiet watch says
nothing about a server that stopped answering (a frozen VM keeps its connections open),
so the liveness request is what notices it, within HEARTBEAT_EVERY + HEARTBEAT_TIMEOUT
seconds. What a failed request says about the server is `request_errors`' to tell.

Every blocking call is bounded (`timeout_seconds` on the server, `_request_timeout` on
the client) and `stop()` shuts the socket of the request in flight (`Watch.stop()` once
the response has begun, `inflight.abort` while the headers are awaited), so a watcher
ends within about a second even when the server hangs.

`on_change(key, names)` is called from the watcher threads; `names` is the set of
object names that changed, or None when everything may have (first list, type gone).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tutor.cluster import objects
from tutor.cluster.api_kinds import list_call
from tutor.cluster.connection import CONNECT_TIMEOUT, ClusterConnection
from tutor.cluster.objects import Obj
from tutor.cluster.request_errors import json_answer, json_object, report_error
from tutor.cluster.view import WatchKey

WATCH_SECONDS = 240
"""Server-side lifetime of one watch request; client-go uses 5-10 minutes."""
LIST_READ_TIMEOUT = 15.0
BACKOFF_START = 0.2
BACKOFF_MAX = 5.0
MISSING_TYPE_RETRY = (2.0, 15.0)
"""A type the API does not serve is listed again after 2 s, doubling to 15 s."""
HEARTBEAT_EVERY = 3.0
HEARTBEAT_TIMEOUT = 4.0

ChangeListener = Callable[[WatchKey, frozenset[str] | None], None]


class Gone(Exception):
    """410: the resourceVersion is too old; list again."""


class TypeMissing(Exception):
    """404 on the collection: the API does not serve this kind (yet)."""


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
            if err.status == 404 and json_answer(err):
                raise TypeMissing from None
            raise
        self._response = response
        try:
            if self._stop.is_set():
                raise InterruptedError
            body = json_object(response.data)
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
                    json_object(response.data)
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
