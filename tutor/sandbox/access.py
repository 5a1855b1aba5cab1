"""Who may talk to the sandbox's servers: its own clients only, on its own address.

The API server and the control endpoint listen on 127.0.0.1, where every local program
and every web page the learner opens can reach them. Three checks keep them to the
sandbox's own clients (kubectl, the kubernetes client, the stand-ins), in this order:

1. The ``Host`` header must name the server's own loopback address and port. A web page
   that rebinds its own domain name to 127.0.0.1 (DNS rebinding) sends its domain here.
2. Nothing a web page makes a browser send: an ``Origin`` header other than the server's
   own origin, a ``Sec-Fetch-Site`` of another site (every request a page makes to another
   origin carries one of them), or a body of a type a page may post without asking first
   (``text/plain``, form data). A learner who types an API address into the browser
   (through ``kubectl proxy``) sends ``Sec-Fetch-Site: none`` and no Origin, and is
   answered. The server's own origin (``https://127.0.0.1:PORT``) is what WebSocket
   clients such as the kubernetes client's ``stream()`` send; only a page the server
   itself served could send it, and it serves none.
3. The credential (the caller checks it: a bearer token for the API, a token header for
   the control endpoint), which no other local user can read: it lives in files only the
   learner may read (the kubeconfig, the shims).

Standard library only: the control endpoint's module imports it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

LOOPBACK_NAMES = ("127.0.0.1", "localhost")
BROWSER_BODY_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
"""The body types a web page may send to another origin without a preflight request."""


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: an HTTP status, a Kubernetes Status reason and a message."""

    status: int
    reason: str
    message: str


def own_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values a client of a server on 127.0.0.1:``port`` sends."""
    return frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)


def own_origins(port: int) -> frozenset[str]:
    """The ``Origin`` values of pages the server on 127.0.0.1:``port`` would itself serve."""
    return frozenset(f"{scheme}://{host}" for scheme in ("http", "https") for host in own_hosts(port))


def refusal(headers: Mapping[str, str], port: int) -> Refusal | None:
    """Why a request with these headers, made to our server on ``port``, is refused; or None."""
    host = headers.get("Host", "")
    if host.lower() not in own_hosts(port):
        return Refusal(
            403,
            "Forbidden",
            f"the k8s-tutor sandbox answers only requests for 127.0.0.1:{port}, not for host {host!r}",
        )
    origin = headers.get("Origin")
    foreign = origin is not None and origin.lower() not in own_origins(port)
    if foreign or headers.get("Sec-Fetch-Site", "none").lower() not in ("none", "same-origin"):
        return Refusal(
            403,
            "Forbidden",
            "the k8s-tutor sandbox does not answer requests made by web pages (the request has an Origin header)",
        )
    content_type = headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type in BROWSER_BODY_TYPES:
        return Refusal(
            415,
            "UnsupportedMediaType",
            f"the k8s-tutor sandbox does not accept {content_type} bodies",
        )
    return None


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret matches nothing."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization: Bearer TOKEN`` header, or ""."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
