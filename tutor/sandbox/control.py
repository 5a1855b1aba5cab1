"""The sandbox's control endpoint: how the stand-in commands act on the simulated cluster.

JSON over HTTP on 127.0.0.1, guarded by a per-sandbox token (`X-K8s-Tutor-Sandbox-Token`)
and the same checks as the API server (`tutor.sandbox.access`: its own Host, nothing from a
web page), served on the stand-ins' own asyncio loop. It is not part of the Kubernetes API: it does
what minikube does to its machine (profiles, addons), and what kubelet and a node's
network do for a port-forward or a tunnel, which the sandbox's API server does not serve
(real port-forward needs the SPDY/WebSocket upgrade on `pods/portforward`).

Routes (all POST with a JSON body, except the GETs):
- `GET /v1/info`: profiles, the ingress port, the kubeconfig.
- `/v1/minikube/{start,stop,delete}`, `/v1/minikube/addons/{enable,disable,wait}`.
- `/v1/portforward/resolve`: kubectl's choice of pod and port for `svc/NAME 9090:80`.
- `/v1/portforward/watch`: streams a pod's stand-in ports; ends when the pod stops.
- `/v1/tunnel`: streams for as long as a `minikube tunnel` runs (one per profile).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from tutor.sandbox import access
from tutor.sandbox.control_client import TOKEN_HEADER
from tutor.sandbox.errors import ApiError
from tutor.sandbox.listener import Listener, listen_socket
from tutor.sandbox.minikube.cluster import MinikubeError, UnknownProfile
from tutor.sandbox.objects import Obj, is_deleting, labels_of, parse_time
from tutor.sandbox.store import Store, WatchEvent

if TYPE_CHECKING:
    from tutor.sandbox.apps.manager import AppServers
    from tutor.sandbox.ingress_router import IngressRouter
    from tutor.sandbox.minikube.cluster import ClusterHost, Minikube

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class StandInsState(Protocol):
    """What the control endpoint acts on: the stand-ins (`tutor.sandbox.standins.StandIns`)."""

    host: ClusterHost
    minikube: Minikube
    apps: AppServers
    router: IngressRouter
    loop: asyncio.AbstractEventLoop
    ingress_port: int
    ingress_port_reason: str

    @property
    def store(self) -> Store: ...

    def info(self) -> dict[str, Any]: ...

    def cluster_running(self) -> bool: ...

    async def wait_for(self, check: Callable[[], tuple[bool, str]], timeout: float) -> tuple[bool, str]: ...

    def tunnel_targets(self) -> list[tuple[str, str]]: ...

    def expose_load_balancers(self, exposed: bool) -> None: ...


class _Tunnel:
    """A running `minikube tunnel`: the lock on its profile lives as long as its connection."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.wake = asyncio.Event()
        self.stopped = False

    def gone(self) -> bool:
        """Whether the tunnel process has gone (its connection closed)."""
        transport = self.request.transport
        return transport is None or transport.is_closing()

    def stop(self) -> None:
        self.stopped = True
        self.wake.set()


class Refused(Exception):
    """A request the stand-in refuses, with the message the command prints."""

    def __init__(self, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(value), content_type="application/json")


# ---- port-forward target resolution (what kubectl does client-side) -------------------

_KINDS = {
    **dict.fromkeys(("pod", "pods", "po"), "pods"),
    **dict.fromkeys(("service", "services", "svc"), "services"),
    **dict.fromkeys(
        ("deployment", "deployments", "deploy", "deployment.apps", "deployments.apps"),
        "deployments.apps",
    ),
    **dict.fromkeys(
        ("replicaset", "replicasets", "rs", "replicaset.apps", "replicasets.apps"),
        "replicasets.apps",
    ),
    **dict.fromkeys(
        ("statefulset", "statefulsets", "sts", "statefulset.apps", "statefulsets.apps"),
        "statefulsets.apps",
    ),
    **dict.fromkeys(("daemonset", "daemonsets", "ds"), "daemonsets.apps"),
}
_NOT_FOUND_NAME = {
    "pods": "pods",
    "services": "services",
    "deployments.apps": "deployments.apps",
    "replicasets.apps": "replicasets.apps",
    "statefulsets.apps": "statefulsets.apps",
    "daemonsets.apps": "daemonsets.apps",
}


def _activity(pod: Obj) -> tuple[int, int, int, float]:
    """kubectl's ActivePods order, most active first: scheduled, running, ready, oldest."""
    status = pod.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return (
        1 if (pod.get("spec") or {}).get("nodeName") else 0,
        {"Pending": 0, "Unknown": 1, "Running": 2}.get(str(status.get("phase")), 0),
        1 if ready else 0,
        -(parse_time(pod["metadata"].get("creationTimestamp")) or 0.0),
    )


def _container_port(pod: Obj, name: str) -> int | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return int(port["containerPort"])
    return None


def translate_ports(kind: str, obj: Obj | None, pod: Obj, ports: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """(local, remote) pairs with the remote as a pod port, kubectl's way."""
    out = []
    pod_name = pod["metadata"]["name"]
    for local_text, remote in ports:
        if kind == "services" and obj is not None:
            svc_name = obj["metadata"]["name"]
            svc_ports = (obj.get("spec") or {}).get("ports") or []
            if remote.isdigit():
                number = int(remote)
            else:
                match = next((p for p in svc_ports if p.get("name") == remote), None)
                if match is None:
                    raise Refused(f"Service '{svc_name}' does not have a named port '{remote}'")
                number = int(match["port"])
                if local_text == remote:
                    local_text = str(number)
            svc_port = next((p for p in svc_ports if int(p.get("port", 0)) == number), None)
            if svc_port is None:
                raise Refused(f"Service {svc_name} does not have a service port {number}")
            target = svc_port.get("targetPort", number)
            if isinstance(target, int) or str(target).isdigit():
                container = int(target) or number
            else:
                found = _container_port(pod, str(target))
                if found is None:
                    raise Refused(f"Pod '{pod_name}' does not have a named port '{target}'")
                container = found
        else:
            if remote.isdigit():
                container = int(remote)
            else:
                found = _container_port(pod, remote)
                if found is None:
                    raise Refused(f"Pod '{pod_name}' does not have a named port '{remote}'")
                container = found
                if local_text == remote:
                    local_text = str(found)
        out.append((int(local_text) if local_text else container, container))
    return out


class ControlServer:
    """The aiohttp app of the control endpoint; all state lives in `StandIns`."""

    def __init__(self, standins: StandInsState, token: str) -> None:
        self.si = standins
        self.token = token
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._listener: Listener | None = None
        self._tunnels: dict[str, _Tunnel] = {}

    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard], client_max_size=1 << 20)
        app.router.add_get("/v1/info", self._info)
        app.router.add_post("/v1/minikube/start", self._blocking(self._start))
        app.router.add_post("/v1/minikube/stop", self._blocking(self._stop))
        app.router.add_post("/v1/minikube/delete", self._blocking(self._delete))
        app.router.add_post("/v1/minikube/addons/enable", self._blocking(self._enable))
        app.router.add_post("/v1/minikube/addons/disable", self._blocking(self._disable))
        app.router.add_post("/v1/minikube/addons/wait", self._wait_addon)
        app.router.add_post("/v1/portforward/resolve", self._resolve)
        app.router.add_post("/v1/portforward/watch", self._watch_pod)
        app.router.add_post("/v1/tunnel", self._tunnel)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        assert self._runner.server is not None
        self._listener = Listener(listen_socket(), self._runner.server)
        self.port = self._listener.port

    async def close(self) -> None:
        for tunnel in self._tunnels.values():
            tunnel.stop()
        if self._listener is not None:
            await self._listener.close(self._runner.cleanup if self._runner is not None else None)
        elif self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        stranger = access.refusal(request.headers, self.port)
        if stranger is not None:
            return _json({"message": f"sandbox: {stranger.message}"}, stranger.status)
        if not access.same_secret(request.headers.get(TOKEN_HEADER, ""), self.token):
            return _json({"message": "sandbox: wrong or missing control token"}, 403)
        try:
            return await handler(request)
        except Refused as refused:
            return _json({"message": refused.message, **refused.extra}, refused.status)
        except MinikubeError as error:
            return _json(
                {"message": error.message, "reason": error.reason, "exit_code": error.exit_code},
                409,
            )
        except ApiError as error:
            return _json({"message": str(error)}, 500)
        except UnknownProfile as error:
            return _json({"message": f"profile {error.args[0]} not found", "not_found": True}, 404)
        except (KeyError, ValueError, TypeError) as error:
            # A request the shims never send: say what is wrong instead of a 500 traceback.
            return _json({"message": f"sandbox: malformed control request: {error!r}"}, 400)

    def _blocking(self, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
        """Run a minikube operation off the loop: starting a cluster can take a while."""

        async def handler(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            loop = asyncio.get_running_loop()
            return _json(await loop.run_in_executor(None, fn, body))

        return handler

    # ---- minikube ----------------------------------------------------------------

    async def _info(self, request: web.Request) -> web.Response:
        return _json(self.si.info())

    def _start(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.si.minikube.start(
            str(body["profile"]),
            kubernetes_version=body.get("kubernetes_version"),
            container_runtime=body.get("container_runtime"),
            apiserver_port=body.get("apiserver_port"),
            addons=list(body.get("addons") or []),
        )

    def _stop(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.si.minikube.stop(str(body["profile"]))

    def _delete(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.si.minikube.delete(str(body["profile"]))

    def _enable(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.si.minikube.enable(str(body["profile"]), str(body["addon"]))

    def _disable(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.si.minikube.disable(str(body["profile"]), str(body["addon"]))

    async def _wait_addon(self, request: web.Request) -> web.Response:
        body = await request.json()
        addon, timeout = str(body["addon"]), float(body.get("timeout", 360))
        ready, waiting = await self.si.wait_for(lambda: self.si.minikube.addon_pods_ready(addon), timeout)
        return _json({"ready": ready, "waiting": waiting})

    # ---- port-forward ------------------------------------------------------------

    async def _resolve(self, request: web.Request) -> web.Response:
        body = await request.json()
        namespace, target = str(body["namespace"]), str(body["target"])
        ports = [(str(a), str(b)) for a, b in body["ports"]]
        timeout = float(body.get("timeout", 60))
        store = self.si.store
        if not self.si.cluster_running():
            server = str(getattr(self.si.host, "server_url", "http://127.0.0.1")).split("//", 1)[-1]
            raise Refused(
                f"The connection to the server {server} was refused - did you specify the right host or port?",
                plain=True,
            )
        kind_text, _, name = target.rpartition("/") if "/" in target else ("pod", "", target)
        kind = _KINDS.get(kind_text.lower())
        if kind is None:
            if store.registry.get(kind_text.lower()) is None and kind_text.lower() not in (
                "configmap",
                "cm",
                "secret",
            ):
                raise Refused(f'the server doesn\'t have a resource type "{kind_text}"')
            raise Refused(f"cannot attach to {kind_text}: selector for {kind_text} not implemented")
        obj = store.get(kind, namespace, name)
        if obj is None:
            raise Refused(
                f'Error from server (NotFound): {_NOT_FOUND_NAME[kind]} "{name}" not found',
                plain=True,
            )

        def pick() -> tuple[bool, str]:
            candidates = self._candidates(kind, namespace, obj)
            if not candidates:
                return False, "none"
            best = max(candidates, key=_activity)
            phase = (best.get("status") or {}).get("phase") or "Pending"
            return phase == "Running", phase

        running, phase = await self.si.wait_for(pick, timeout)
        if not running:
            if phase == "none":
                raise Refused("timed out waiting for the condition")
            raise Refused(f"unable to forward port because pod is not running. Current status={phase}")
        pod = max(self._candidates(kind, namespace, obj), key=_activity)
        pairs = translate_ports(kind, obj if kind == "services" else None, pod, ports)
        return _json(
            {
                "pod": {
                    "namespace": namespace,
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
                "ports": pairs,
            }
        )

    def _candidates(self, kind: str, namespace: str, obj: Obj) -> list[Obj]:
        store = self.si.store
        if kind == "pods":
            pod = store.get("pods", namespace, obj["metadata"]["name"])
            return [pod] if pod is not None and not is_deleting(pod) else []
        spec = obj.get("spec") or {}
        selector = spec.get("selector") or {}
        if kind != "services":
            selector = selector.get("matchLabels") or {}
        if not selector:
            return []
        return [
            p
            for p in store.list("pods", namespace)
            if all(labels_of(p).get(k) == v for k, v in selector.items()) and not is_deleting(p)
        ]

    async def _watch_pod(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        response = web.StreamResponse()
        response.content_type = "application/x-ndjson"
        try:
            await response.prepare(request)  # the port-forward may be gone already
            async for ports in self.si.apps.watch(str(body["namespace"]), str(body["name"]), str(body["uid"])):
                await response.write(json.dumps({"ports": {str(k): v for k, v in ports.items()}}).encode() + b"\n")
            await response.write(b'{"gone": true}\n')
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    # ---- tunnel ------------------------------------------------------------------

    async def _tunnel(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        profile = str(body["profile"])
        held = self._tunnels.get(profile)
        if held is not None:
            if not held.gone():
                raise Refused(
                    "Another tunnel process is already running, terminate the existing instance to start a new one",
                    409,
                )
            # Its process has ended and its handler has not noticed yet (it looks every 0.5 s):
            # the lock goes with the process, as minikube's lock file does.
            held.stop()
        tunnel = _Tunnel(request)
        self._tunnels[profile] = tunnel
        changed = tunnel.wake

        def on_event(event: WatchEvent) -> None:
            if event.resource in ("services", "ingresses.networking.k8s.io"):
                self.si.loop.call_soon_threadsafe(changed.set)

        unsubscribe = self.si.store.subscribe(on_event)
        response = web.StreamResponse()
        response.content_type = "application/x-ndjson"
        announced: set[tuple[str, str]] = set()
        try:
            await response.prepare(request)
            await response.write(
                json.dumps(
                    {
                        "ingress_port": self.si.ingress_port,
                        "reason": self.si.ingress_port_reason,
                        "router_port": self.si.router.port,
                    }
                ).encode()
                + b"\n"
            )
            while not tunnel.stopped:
                changed.clear()
                for kind, name in self.si.tunnel_targets():
                    if (kind, name) not in announced:
                        announced.add((kind, name))
                        await response.write(json.dumps({kind: name}).encode() + b"\n")
                self.si.expose_load_balancers(True)
                if tunnel.gone():
                    break
                try:
                    await asyncio.wait_for(changed.wait(), timeout=0.5)
                except TimeoutError:
                    # A heartbeat: writing is how a dead tunnel process is noticed.
                    await response.write(b"\n")
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            unsubscribe()
            if self._tunnels.get(profile) is tunnel:
                del self._tunnels[profile]
            if profile not in self._tunnels:
                # Not when a new tunnel took over: its addresses stay.
                await asyncio.get_running_loop().run_in_executor(None, self.si.expose_load_balancers, False)
        return response
