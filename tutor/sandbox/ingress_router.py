"""The ingress controller stand-in: routes HTTP by the Ingress rules, as ingress-nginx does.

It listens on one loopback port for the life of the sandbox (`minikube tunnel` relays
127.0.0.1:80 to it), but accepts connections only while the `ingress` addon's
controller pod is running; otherwise connections are reset, as a node port with nothing
behind it would. Each request is matched like ingress-nginx matches it:

- the Ingresses it handles: class `nginx` (by `ingressClassName`, the legacy
  annotation, or no class at all, since minikube runs the controller with
  `--watch-ingress-without-class=true`);
- the `Host` header (without port) against each rule's host (`*.example.com` matches
  one label), falling back to rules without a host;
- the path: `Exact` must be equal, `Prefix` matches whole path elements, and
  `ImplementationSpecific` is a plain prefix; the longest match wins;
- then an Ingress's `defaultBackend`, and otherwise nginx's own 404 page.

The chosen Service's ready pods are used in turn; a pod's traffic goes to its stand-in
server (`tutor.sandbox.apps`). No ready pod: 503; a pod with no stand-in: 502.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from tutor.sandbox.apps.manager import AppServers
from tutor.sandbox.listener import Listener, listen_socket
from tutor.sandbox.minikube.addons import INGRESS_CONTROLLER_LABELS, INGRESS_NS
from tutor.sandbox.objects import Obj, annotations_of, condition, is_deleting, labels_of
from tutor.sandbox.store import Store, WatchEvent

log = logging.getLogger(__name__)

CONTROLLER = "k8s.io/ingress-nginx"

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


def nginx_page(status: int, reason: str) -> web.Response:
    body = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} "
        f"{reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return web.Response(status=status, text=body, content_type="text/html", headers={"Server": "nginx"})


@dataclass(frozen=True)
class Route:
    ingress: str  # namespace/name
    namespace: str
    service: str
    port: int | str


def _ready(pod: Obj) -> bool:
    ready = condition(pod, "Ready")
    return (
        (pod.get("status") or {}).get("phase") == "Running"
        and ready is not None
        and ready.get("status") == "True"
        and not is_deleting(pod)
    )


def handled_classes(store: Store) -> tuple[set[str], bool]:
    """The IngressClass names served by ingress-nginx, and whether one of them is the default."""
    names, default = set(), False
    for ic in store.list("ingressclasses.networking.k8s.io"):
        if (ic.get("spec") or {}).get("controller") == CONTROLLER:
            names.add(ic["metadata"]["name"])
            if annotations_of(ic).get("ingressclass.kubernetes.io/is-default-class") == "true":
                default = True
    return names, default


def handles(ingress: Obj, classes: set[str]) -> bool:
    cls = (ingress.get("spec") or {}).get("ingressClassName") or annotations_of(ingress).get(
        "kubernetes.io/ingress.class"
    )
    if cls:
        return cls in classes
    return True  # --watch-ingress-without-class=true


def _host_matches(rule_host: str, host: str) -> bool:
    if rule_host.startswith("*."):
        suffix = rule_host[1:]
        return host.endswith(suffix) and "." not in host[: -len(suffix)] and len(host) > len(suffix)
    return rule_host == host


def _path_match(path_type: str, rule_path: str, path: str) -> int:
    """Length of the match of `rule_path` on `path`, or -1. Exact beats Prefix on ties."""
    rule_path = rule_path or "/"
    if path_type == "Exact":
        return len(rule_path) * 2 + 1 if path == rule_path else -1
    if path_type == "Prefix":
        base = rule_path.rstrip("/")
        if not base or path == base or path.startswith(base + "/"):
            return len(base) * 2
        return -1
    return len(rule_path) * 2 if path.startswith(rule_path) else -1


def _backend(ingress: Obj, backend: Obj) -> Route | None:
    service = backend.get("service") or {}
    if not service.get("name"):
        return None
    port = service.get("port") or {}
    return Route(
        f"{ingress['metadata']['namespace']}/{ingress['metadata']['name']}",
        ingress["metadata"]["namespace"],
        service["name"],
        port.get("number") or port.get("name") or 80,
    )


def route(ingresses: list[Obj], host: str, path: str) -> Route | None:
    """The backend ingress-nginx would pick for `host` and `path`, or None (its 404)."""
    host = host.lower()
    best: tuple[int, int, Route] | None = None  # (host specificity, path score, route)
    for ingress in ingresses:
        for rule in (ingress.get("spec") or {}).get("rules") or []:
            rule_host = str(rule.get("host") or "").lower()
            if rule_host and not _host_matches(rule_host, host):
                continue
            specificity = 2 if rule_host == host else 1 if rule_host else 0
            for p in (rule.get("http") or {}).get("paths") or []:
                score = _path_match(
                    str(p.get("pathType") or "ImplementationSpecific"),
                    str(p.get("path") or "/"),
                    path,
                )
                if score < 0:
                    continue
                r = _backend(ingress, p.get("backend") or {})
                if r is not None and (best is None or (specificity, score) > best[:2]):
                    best = (specificity, score, r)
    if best is not None:
        return best[2]
    for ingress in ingresses:
        default = (ingress.get("spec") or {}).get("defaultBackend")
        if default:
            return _backend(ingress, default)
    return None


class IngressRouter:
    """The controller stand-in. `port` is fixed at start; `up` follows the controller pod."""

    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop, apps: AppServers) -> None:
        self.store = store
        self.cluster_running = apps.cluster_running
        self.loop = loop
        self.apps = apps
        self.port = 0
        self.up = False
        self._listener: Listener | None = None
        self._web: web.Server | None = None
        self._session: aiohttp.ClientSession | None = None
        self._turn = itertools.count()

    async def start(self) -> None:
        self._web = web.Server(self._handle, access_log=None)
        # While the controller pod is not ready, connections are reset, not politely closed.
        self._listener = Listener(listen_socket(), self._web, accepting=lambda: self.up)
        self.port = self._listener.port
        self._session = aiohttp.ClientSession(auto_decompress=False, trust_env=False)
        self.up = self._controller_running()

    def on_event(self, event: WatchEvent) -> None:
        if event.resource == "pods" and event.namespace == INGRESS_NS:
            self.loop.call_soon_threadsafe(self.refresh)

    def refresh(self) -> None:
        self.up = self._controller_running()

    def _controller_running(self) -> bool:
        if not self.cluster_running():
            return False
        selector = ",".join(f"{k}={v}" for k, v in INGRESS_CONTROLLER_LABELS.items())
        return any(_ready(p) for p in self.store.list("pods", INGRESS_NS, label_selector=selector))

    def ingresses(self) -> list[Obj]:
        classes, _ = handled_classes(self.store)
        return [i for i in self.store.list("ingresses.networking.k8s.io") if handles(i, classes) and not is_deleting(i)]

    def _endpoint(self, r: Route) -> tuple[int | None, str]:
        """(loopback port of a ready pod's server, or None; the error page to give otherwise)."""
        service = self.store.get("services", r.namespace, r.service)
        if service is None:
            return None, "503"
        spec = service.get("spec") or {}
        target: Any = None
        for p in spec.get("ports") or []:
            if p.get("port") == r.port or p.get("name") == r.port:
                target = p.get("targetPort", p.get("port"))
                break
        if target is None:
            return None, "503"
        selector = spec.get("selector") or {}
        pods = [
            p
            for p in self.store.list("pods", r.namespace)
            if selector and all(labels_of(p).get(k) == v for k, v in selector.items()) and _ready(p)
        ]
        if not pods:
            return None, "503"
        pod = pods[next(self._turn) % len(pods)]
        container_port = target
        if isinstance(target, str) and not target.isdigit():
            container_port = next(
                (
                    cp.get("containerPort")
                    for c in (pod.get("spec") or {}).get("containers") or []
                    for cp in c.get("ports") or []
                    if cp.get("name") == target
                ),
                None,
            )
        backend = self.apps.backend(r.namespace, pod["metadata"]["name"])
        if backend is None or container_port is None:
            return None, "502"
        port = backend.ports.get(int(container_port))
        return (port, "") if port else (None, "502")

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        host = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").startswith("[") else request.host
        r = route(self.ingresses(), host, request.path)
        if r is None:
            return nginx_page(404, "Not Found")
        port, error = self._endpoint(r)
        if port is None:
            return (
                nginx_page(503, "Service Temporarily Unavailable") if error == "503" else nginx_page(502, "Bad Gateway")
            )
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        peer = request.remote or "127.0.0.1"
        headers.update(
            {
                "X-Request-ID": os.urandom(16).hex(),
                "X-Real-IP": peer,
                "X-Forwarded-For": peer,
                "X-Forwarded-Host": request.host,
                "X-Forwarded-Proto": "http",
                "X-Forwarded-Scheme": "http",
                "X-Scheme": "http",
            }
        )
        body = await request.read()
        try:
            async with self._session.request(
                request.method,
                f"http://127.0.0.1:{port}{request.path_qs}",
                headers=headers,
                data=body or None,
                allow_redirects=False,
            ) as upstream:
                payload = await upstream.read()
                out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
                out_headers["Server"] = "nginx"
                return web.Response(status=upstream.status, body=payload, headers=out_headers)
        except (aiohttp.ClientError, OSError) as exc:
            log.debug("ingress backend %s: %s", r, exc)
            return nginx_page(502, "Bad Gateway")

    async def close(self) -> None:
        web_server = self._web

        async def shutdown() -> None:
            if web_server is not None:
                await web_server.shutdown(0)

        if self._listener is not None:
            await self._listener.close(shutdown)
        elif web_server is not None:
            await shutdown()
        if self._session is not None:
            await self._session.close()
