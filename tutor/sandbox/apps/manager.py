"""Runs the workload stand-ins: an HTTP server on loopback for each running pod that has one.

A pod gets a server while it is Running, not being deleted, and runs an image with a
stand-in (today: the Pac-Man game). Each server listens on its own 127.0.0.1 port,
chosen by the OS, and closes as soon as the pod stops running: that is what makes a
port-forward pinned to the pod lose its connection, as a real one does when the
container dies. The port-forward and ingress stand-ins find a pod's servers here
(`backend`), and can wait for a pod to go away (`watch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web

from tutor.sandbox.apps import pacman
from tutor.sandbox.apps.mongo import Database, Databases, find_database, mongo_hosts, pv_key
from tutor.sandbox.listener import Listener, listen_socket
from tutor.sandbox.objects import Obj, is_deleting
from tutor.sandbox.store import Store, WatchEvent

log = logging.getLogger(__name__)


@dataclass
class PodServers:
    """The stand-in servers of one pod: container port -> loopback port."""

    namespace: str
    name: str
    uid: str
    ports: dict[int, int] = field(default_factory=dict)
    servers: list[tuple[web.AppRunner, Listener]] = field(default_factory=list)


@dataclass(frozen=True)
class Backend:
    namespace: str
    name: str
    uid: str
    running: bool
    ports: dict[int, int]


def has_standin(pod: Obj) -> bool:
    return any(pacman.is_pacman_image(str(c.get("image", ""))) for c in (pod.get("spec") or {}).get("containers") or [])


def _runs(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not is_deleting(pod)


class AppServers:
    """Starts and stops the per-pod servers from store events. Lives on one asyncio loop."""

    def __init__(
        self,
        store: Store,
        loop: asyncio.AbstractEventLoop,
        databases: Databases,
        cluster_running: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        # A stopped cluster runs no container: its pods keep their stored phase, but
        # nothing answers until `minikube start`.
        self.cluster_running = cluster_running
        self.loop = loop
        self.databases = databases
        self._servers: dict[tuple[str, str], PodServers] = {}
        self._changed = asyncio.Condition()
        self._pending: dict[tuple[str, str], Obj | None] = {}
        self._work: asyncio.Task[None] | None = None
        self._closed = False

    # Store callbacks run on the writer's thread with the store locked: only hand over.
    def on_event(self, event: WatchEvent) -> None:
        if event.resource == "pods":
            key = (event.namespace, event.name)
            obj = None if event.type == "DELETED" else event.obj
            # Only a pod with a stand-in, or one that had servers, is work for this loop:
            # waking it for every other pod's event would cost the writer a thread switch.
            if (obj is not None and has_standin(obj)) or key in self._servers or key in self._pending:
                self.loop.call_soon_threadsafe(self._queue, key, obj)
        elif event.resource == "persistentvolumes" and event.type == "DELETED":
            # Reclaim policy Delete: the volume's data goes with it.
            self.databases.forget(pv_key(event.name))

    def _runs(self, pod: Obj) -> bool:
        return self.cluster_running() and _runs(pod)

    def resync(self) -> None:
        """Look at every pod again: the cluster was stopped or started."""
        self.start()

    def start(self) -> None:
        for pod in self.store.list("pods"):
            self._queue((pod["metadata"]["namespace"], pod["metadata"]["name"]), pod)

    def _queue(self, key: tuple[str, str], pod: Obj | None) -> None:
        if self._closed:
            return
        self._pending[key] = pod
        if self._work is None or self._work.done():
            self._work = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            key, pod = next(iter(self._pending.items()))
            del self._pending[key]
            try:
                await self._reconcile(key, pod)
            except Exception:
                log.exception("stand-in servers for pod %s/%s", *key)

    async def _reconcile(self, key: tuple[str, str], pod: Obj | None) -> None:
        current = self._servers.get(key)
        wanted = pod is not None and self._runs(pod) and bool(self._apps_of(pod))
        if current is not None and (not wanted or pod is None or current.uid != pod["metadata"]["uid"]):
            await self._stop(key)
            current = None
        if wanted and current is None and pod is not None:
            await self._start(key, pod)
        async with self._changed:
            self._changed.notify_all()

    def _apps_of(self, pod: Obj) -> list[tuple[int, web.Application]]:
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        apps = []
        for container in (pod.get("spec") or {}).get("containers") or []:
            if pacman.is_pacman_image(str(container.get("image", ""))):
                hosts, url = mongo_hosts(container)

                def lookup(hosts: list[str] = hosts) -> Database:
                    return find_database(self.store, self.databases, namespace, hosts)

                apps.append((pacman.listen_port(container), pacman.make_app(name, lookup, url)))
        return apps

    async def _start(self, key: tuple[str, str], pod: Obj) -> None:
        servers = PodServers(key[0], key[1], pod["metadata"]["uid"])
        for container_port, app in self._apps_of(pod):
            if container_port in servers.ports:
                continue
            # A short shutdown: a container being killed does not wait for its clients.
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
            await runner.setup()
            assert runner.server is not None
            listener = Listener(listen_socket(), runner.server)
            servers.ports[container_port] = listener.port
            servers.servers.append((runner, listener))
        self._servers[key] = servers
        log.debug("stand-in for pod %s/%s on %s", key[0], key[1], servers.ports)

    async def _stop(self, key: tuple[str, str]) -> None:
        servers = self._servers.pop(key, None)
        if servers is None:
            return
        # Every port stops at once; then idle keep-alive connections close at once, and a
        # request in flight gets the runner's 0.1 s, as a container being killed.
        for _runner, listener in servers.servers:
            listener.shut()
        for runner, listener in servers.servers:
            await listener.close(runner.cleanup)

    def backend(self, namespace: str, name: str) -> Backend | None:
        """The pod's servers now; None when the pod does not exist."""
        pod = self.store.get("pods", namespace, name)
        if pod is None:
            return None
        servers = self._servers.get((namespace, name))
        uid = pod["metadata"]["uid"]
        ports = dict(servers.ports) if servers is not None and servers.uid == uid else {}
        return Backend(namespace, name, uid, self._runs(pod), ports)

    async def watch(self, namespace: str, name: str, uid: str) -> AsyncIterator[dict[int, int]]:
        """Yield the pod's port map whenever it changes; return once that pod stops running."""
        last: dict[int, int] | None = None
        while not self._closed:
            pod = self.store.get("pods", namespace, name)
            if pod is None or pod["metadata"]["uid"] != uid or not self._runs(pod):
                return
            servers = self._servers.get((namespace, name))
            ports = dict(servers.ports) if servers is not None and servers.uid == uid else {}
            # A game pod's server starts just after the pod runs: wait for it rather
            # than report a pod with nothing listening.
            starting = not ports and has_standin(pod)
            if ports != last and not starting:
                last = ports
                yield ports
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=1.0)

    async def close(self) -> None:
        self._closed = True
        if self._work is not None:
            self._work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._work
        for key in list(self._servers):
            await self._stop(key)
        async with self._changed:
            self._changed.notify_all()
