"""Requests waiting for the API server's answer, so that another thread can cut them off.

A watcher thread blocked in a request whose response headers never come (an API server
that accepts connections but hangs: a frozen VM, a laptop back from sleep) cannot be
reached through the response object, which does not exist yet. Its read timeout would
end it, but only after many seconds, and shutting down must not wait for that.

So the ApiClient's urllib3 pools are built with connection classes that note which
thread sent a request on them, from `request()` until `getresponse()` returns; `abort`
shuts that connection's socket, and the blocked thread gets a connection error at once.
Once the headers are in, the response is the caller's to interrupt (`Watch.stop()`, or
shutting the response's socket), as before.

Only urllib3's public extension points are used: a pool's `ConnectionCls` and a pool
manager's `pool_classes_by_scheme`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

_lock = threading.Lock()
_waiting: dict[int, Any] = {}
"""Thread id -> the connection it sent a request on and is waiting to hear back from."""


def _begin(conn: Any) -> None:
    with _lock:
        _waiting[threading.get_ident()] = conn


def _end(conn: Any) -> None:
    with _lock:
        if _waiting.get(threading.get_ident()) is conn:
            del _waiting[threading.get_ident()]


def abort(thread_id: int | None) -> bool:
    """Cut off the request `thread_id` is waiting on, if any; True when there was one."""
    if thread_id is None:
        return False
    with _lock:
        conn = _waiting.get(thread_id)
    sock = getattr(conn, "sock", None)
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True


class _Noted:
    """Mixed into urllib3's connection classes: note the waiting thread."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        _begin(self)
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        except BaseException:
            _end(self)
            raise

    def getresponse(self) -> Any:
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            _end(self)


class _NotedHTTPConnection(_Noted, HTTPConnection):
    pass


class _NotedHTTPSConnection(_Noted, HTTPSConnection):
    pass


class _NotedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _NotedHTTPConnection


class _NotedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _NotedHTTPSConnection


def track(pool_manager: PoolManager) -> bool:
    """Make the requests of `pool_manager` (before its first request) abortable.

    Only a manager with urllib3's own pool classes is changed (a SOCKS proxy brings its
    own); False when it was left as it was.
    """
    defaults = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}
    if dict(pool_manager.pool_classes_by_scheme) != defaults:
        return False
    pool_manager.pool_classes_by_scheme = {"http": _NotedHTTPPool, "https": _NotedHTTPSPool}
    return True
