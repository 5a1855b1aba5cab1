"""What a failed request says about the server, told to the connection.

A server that answers, but not as a Kubernetes API server that accepts the kubeconfig's
credentials would (401; 403 before anything else succeeded; an HTML page or other
non-JSON body; a reply that is not HTTP at all), is reported to the connection as
`rejected`, with what it answered: it is never shown as connected. A request that did
not reach the API (refused, dropped, timed out) is a connectivity failure: the
connection reads the kubeconfig again, the server may have moved. A 5xx or 429 is the
server's trouble, not the address's.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

from tutor.cluster.connection import ClusterConnection

log = logging.getLogger(__name__)


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
        if not json_answer(err):
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


def json_answer(err: Any) -> bool:
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


def _is_connectivity(err: BaseException) -> bool:
    import urllib3

    return isinstance(err, urllib3.exceptions.HTTPError | OSError | socket.timeout)


def json_object(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except ValueError:
        start = data[:40].decode("utf-8", "replace").strip()
        what = "an HTML page" if start.lower().startswith(("<!doctype html", "<html")) else f"{start!r}"
        raise NotAnApiServer(f"it answered {what}, not JSON") from None
    if not isinstance(body, dict):
        raise NotAnApiServer("it answered JSON that is not an object")
    return body


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
