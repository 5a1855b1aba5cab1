"""The stand-ins for what is not the Kubernetes API: minikube, the workloads, port-forward, tunnel.

A `Sandbox` runs its own (`Sandbox(standins=True)`, the default), and that is the way to
use them: `sb.env()`, `sb.variable_overrides()`, `sb.standins`. `StandIns` attaches to a
cluster host (the core `Sandbox`, or a test's store-only host) and adds, on one asyncio
loop in one thread of its own:

- the control endpoint (`tutor.sandbox.control`) the `minikube` and `kubectl` shims use;
- a Pac-Man server per running game pod (`tutor.sandbox.apps`);
- the ingress controller stand-in (`tutor.sandbox.ingress_router`);
- a shim directory holding `minikube` and `kubectl` commands (`tutor.sandbox.shims`).

`env()` is the environment a child process (the tutor's executor, a test, the learner's
shell) needs to reach all of it; `variable_overrides()` are lesson variables the sandbox
changes (the ingress port, when port 80 cannot be bound). Everything it starts, it stops
in `close()`: sockets, servers, the thread, the temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import threading
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from tutor import provenance
from tutor.sandbox import shims, tempdirs
from tutor.sandbox.apps.manager import AppServers
from tutor.sandbox.apps.mongo import Databases
from tutor.sandbox.control import ControlServer
from tutor.sandbox.control_client import CONTROL_ENV, TOKEN_ENV
from tutor.sandbox.ingress_router import IngressRouter, handled_classes, handles
from tutor.sandbox.minikube.cluster import ClusterHost, Minikube
from tutor.sandbox.objects import is_deleting
from tutor.sandbox.store import Store, WatchEvent

log = logging.getLogger(__name__)

T = TypeVar("T")

INGRESS_PORT_ENV = "K8S_TUTOR_SANDBOX_INGRESS_PORT"
FALLBACK_INGRESS_PORT = 18080
"""Where the tunnel serves the Ingress when 127.0.0.1:80 cannot be bound (not root)."""
EXTENSION = "k8s-tutor-sandbox"
LOOPBACK_IP = "127.0.0.1"


def can_bind(port: int, host: str = LOOPBACK_IP) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_ingress_port(configured: int | None = None) -> tuple[int, str]:
    """The port `minikube tunnel` will serve the Ingress on, decided once at sandbox start.

    80, as on minikube, when this process may bind it; otherwise 18080, or any free port
    if 18080 is taken. A configured port (argument or $K8S_TUTOR_SANDBOX_INGRESS_PORT)
    wins, so tests and a learner's second sandbox do not fight over the same port.
    Returns the port and why: "default", "unprivileged" or "configured".
    """
    if configured is None and os.environ.get(INGRESS_PORT_ENV, "").isdigit():
        configured = int(os.environ[INGRESS_PORT_ENV])
    if configured:
        return configured, "configured"
    if can_bind(80):
        return 80, "default"
    if can_bind(FALLBACK_INGRESS_PORT):
        return FALLBACK_INGRESS_PORT, "unprivileged"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK_IP, 0))
        return int(sock.getsockname()[1]), "unprivileged"


class StandIns:
    """The stand-ins of one sandbox; a context manager, or `start()` then `close()`."""

    def __init__(
        self,
        host: ClusterHost,
        *,
        ingress_port: int | None = None,
        default_version: str | None = None,
        existing_profile: str | None = None,
    ) -> None:
        if getattr(host, "standins", None) is not None:
            warnings.warn(
                "this Sandbox already runs its stand-ins (Sandbox(standins=True), the default): use "
                "sb.env() and sb.variable_overrides() instead of a second StandIns, which doubles every "
                "stand-in server",
                DeprecationWarning,
                stacklevel=2,
            )
        self.host = host
        self.ingress_port, self.ingress_port_reason = choose_ingress_port(ingress_port)
        self.token = secrets.token_urlsafe(24)
        self.default_version = default_version or str(getattr(host, "kubernetes_version", "") or "v1.31.0")
        if existing_profile is None and getattr(host, "running", False):
            # A sandbox made started: as if `minikube start -p PROFILE` had run.
            existing_profile = str(getattr(host, "profile", "minikube"))
        self.minikube = Minikube(
            host,
            default_version=self.default_version,
            existing=existing_profile,
            on_change=self._cluster_changed,
        )
        self.databases = Databases()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="sandbox-standins", daemon=True)
        self._tmp = tempdirs.create("k8s-tutor-standins-")
        self.shim_dir = self._tmp / "bin"
        self.kube_cache_dir = self._tmp / "kube-cache"
        self.apps: AppServers
        self.router: IngressRouter
        self.control: ControlServer
        self._unsubscribe: Callable[[], None] | None = None
        self._changed: asyncio.Event | None = None
        #: How many wait_for calls are waiting for a store change; the store's writers wake
        #: this loop only for them, once per burst of writes.
        self._waiters = 0
        self._signal_lock = threading.Lock()
        self._signal_pending = False
        self._started = False

    @property
    def store(self) -> Store:
        return self.host.store

    # ---- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> StandIns:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()
        try:
            self._call(self._astart())
        except BaseException:
            self.close()
            raise
        self._started = True
        shims.write(self.shim_dir, self.control_url, self.token)
        self._publish_extension()

    def _publish_extension(self) -> None:
        """Put the control URL and the variable overrides in the kubeconfig's sandbox extension."""
        extension = getattr(self.host, "kubeconfig_extension", None)
        if not isinstance(extension, dict):
            return
        extension.update(self.extension_fields())
        write = getattr(self.host, "write_kubeconfig", None)
        if getattr(self.host, "running", False) and callable(write):
            write()

    async def _astart(self) -> None:
        self._changed = asyncio.Event()
        self.apps = AppServers(self.store, self.loop, self.databases, self.cluster_running)
        self.router = IngressRouter(self.store, self.loop, self.apps)
        self.control = ControlServer(self, self.token)
        self._unsubscribe = self.store.subscribe(self._on_event)
        await self.router.start()
        await self.control.start()
        self.apps.start()

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread.is_alive():
            try:
                self._call(self._aclose(), timeout=10)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout=10)
        if not self.loop.is_closed() and not self._thread.is_alive():
            self.loop.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    async def _aclose(self) -> None:
        if self._started or hasattr(self, "control"):
            await self.control.close()
            await self.router.close()
            await self.apps.close()
        await self.loop.shutdown_default_executor()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def cluster_running(self) -> bool:
        return bool(getattr(self.host, "running", True))

    def _cluster_changed(self) -> None:
        if self._thread.is_alive() and hasattr(self, "apps"):
            self.loop.call_soon_threadsafe(self.apps.resync)
            self.loop.call_soon_threadsafe(self.router.refresh)

    def _on_event(self, event: WatchEvent) -> None:
        # Runs on whichever thread wrote to the store, with the store locked: hand over.
        self.apps.on_event(event)
        self.router.on_event(event)
        if self._changed is None or not self._waiters:
            return  # nobody waits: no need to wake this loop for every write to the store
        with self._signal_lock:
            if self._signal_pending:
                return
            self._signal_pending = True
        self.loop.call_soon_threadsafe(self._signal_changed)

    def _signal_changed(self) -> None:
        with self._signal_lock:
            self._signal_pending = False
        if self._changed is not None:
            self._changed.set()

    # ---- what the tutor and the shims need ---------------------------------------

    @property
    def control_url(self) -> str:
        return f"http://{LOOPBACK_IP}:{self.control.port}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for a child process: the sandbox's, plus the shims first on PATH."""
        env = dict(os.environ if base is None else base)
        host_env = getattr(self.host, "kube_env", None)
        if callable(host_env):
            env.update(host_env())
        path = env.get("PATH", os.defpath)
        parts = [p for p in path.split(os.pathsep) if p and p != str(self.shim_dir)]
        env["PATH"] = os.pathsep.join([str(self.shim_dir), *parts])
        env[CONTROL_ENV] = self.control_url
        env[TOKEN_ENV] = self.token
        if not env.get("KUBECACHEDIR"):
            env["KUBECACHEDIR"] = str(self.kube_cache_dir)
        return env

    def variable_overrides(self) -> dict[str, str]:
        """Lesson variables whose sandbox value differs from the lesson's default."""
        return {} if self.ingress_port == 80 else {"ingress_port": str(self.ingress_port)}

    def extension_fields(self) -> dict[str, Any]:
        """What the kubeconfig's `k8s-tutor-sandbox` extension should carry for the stand-ins.

        `binProof` lets the tutor run the stand-ins it finds through a kubeconfig: a
        signature of the folder's path that only this user's k8s-tutor can make
        (`tutor.provenance`); without it, the folder is only a name in a file.
        """
        fields: dict[str, Any] = {
            "control": self.control_url,
            "variables": self.variable_overrides(),
            "bin": str(self.shim_dir),
        }
        proof = provenance.sign(self.shim_dir)
        if proof is not None:
            fields["binProof"] = proof
        return fields

    def info(self) -> dict[str, Any]:
        return {
            "profiles": [p.to_json() for p in self.minikube.profiles.values()],
            "ingress_port": self.ingress_port,
            "ingress_port_reason": self.ingress_port_reason,
            "router_port": self.router.port,
            "kubeconfig": str(getattr(self.host, "kubeconfig", "") or ""),
            "default_version": self.default_version,
        }

    async def wait_for(self, check: Callable[[], tuple[bool, str]], timeout: float) -> tuple[bool, str]:
        """Re-evaluate `check` after each store change until it holds or `timeout` passes."""
        assert self._changed is not None
        deadline = self.loop.time() + timeout
        self._waiters += 1
        try:
            while True:
                self._changed.clear()
                ok, detail = check()
                remaining = deadline - self.loop.time()
                if ok or remaining <= 0:
                    return ok, detail
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
        finally:
            self._waiters -= 1

    # ---- tunnel ------------------------------------------------------------------

    def tunnel_targets(self) -> list[tuple[str, str]]:
        """What a KIC tunnel would forward: the Ingresses, then the LoadBalancer Services."""
        classes, _ = handled_classes(self.store)
        targets = [
            ("ingress", i["metadata"]["name"])
            for i in self.store.list("ingresses.networking.k8s.io")
            if handles(i, classes) and not is_deleting(i)
        ]
        targets += [
            ("service", s["metadata"]["name"])
            for s in self.store.list("services")
            if (s.get("spec") or {}).get("type") == "LoadBalancer"
        ]
        return targets

    def expose_load_balancers(self, exposed: bool) -> None:
        """A running tunnel gives LoadBalancer Services the address 127.0.0.1, as minikube's."""
        for service in self.store.list("services"):
            if (service.get("spec") or {}).get("type") != "LoadBalancer":
                continue
            status = dict(service.get("status") or {})
            wanted = {"ingress": [{"ip": LOOPBACK_IP}]} if exposed else {}
            if (status.get("loadBalancer") or {}) == wanted:
                continue
            if not exposed and (status.get("loadBalancer") or {}).get("ingress") != [{"ip": LOOPBACK_IP}]:
                continue  # someone else's address: not the tunnel's to clear
            status["loadBalancer"] = wanted
            meta = service["metadata"]
            self.store.replace_status("services", meta["namespace"], meta["name"], status)
