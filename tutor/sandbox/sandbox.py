"""The simulated cluster as one object: store, API server, controllers, on a private loop,
and (by default) the stand-ins for minikube, the game, port-forward and the tunnel."""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from tutor.sandbox import baseline, kubeconfig, tempdirs
from tutor.sandbox.admission import Admission
from tutor.sandbox.certificate import ServerCertificate, make_server_certificate, server_context
from tutor.sandbox.clock import Clock
from tutor.sandbox.controllers.crd import CrdController
from tutor.sandbox.controllers.cronjob import CronJobController
from tutor.sandbox.controllers.daemonset import DaemonSetController
from tutor.sandbox.controllers.deployment import DeploymentController
from tutor.sandbox.controllers.garbagecollector import GarbageCollector
from tutor.sandbox.controllers.ingress import IngressController
from tutor.sandbox.controllers.job import JobController
from tutor.sandbox.controllers.kubelet import Kubelet
from tutor.sandbox.controllers.namespace import NamespaceController
from tutor.sandbox.controllers.replicaset import ReplicaSetController
from tutor.sandbox.controllers.runtime import Cluster, Controller, Manager
from tutor.sandbox.controllers.scheduler import Scheduler
from tutor.sandbox.controllers.serviceaccounts import ServiceAccountController
from tutor.sandbox.controllers.services import EndpointsController
from tutor.sandbox.controllers.statefulset import StatefulSetController
from tutor.sandbox.controllers.volumes import VolumeController
from tutor.sandbox.delays import Delays
from tutor.sandbox.events import EventRecorder
from tutor.sandbox.faults import Faults
from tutor.sandbox.identity import ISSUER, Credentials
from tutor.sandbox.images import normalize_image
from tutor.sandbox.podlogs import PodLogs
from tutor.sandbox.requestlog import RequestLog
from tutor.sandbox.resources import Registry
from tutor.sandbox.server import ApiServer, LogProvider
from tutor.sandbox.standins import StandIns
from tutor.sandbox.store import DEFAULT_EVENT_LOG, Store
from tutor.sandbox.versions import DEFAULT_RUNTIME

T = TypeVar("T")

DEFAULT_VERSION = "v1.31.0"
NODE_IP = "127.0.0.1"


class Sandbox:
    """A simulated minikube cluster on 127.0.0.1, in a background thread.

    ``Sandbox(started=True)`` is a running cluster (``minikube start`` done);
    ``started=False`` is "minikube installed, no cluster": the API port is closed until
    :meth:`start_cluster`. Use it as a context manager, or call :meth:`close`.

    ``standins=True`` (the default) also runs the stand-ins (:attr:`standins`): the
    ``minikube`` and ``kubectl`` shims, the control endpoint they use, the game servers,
    the ingress stand-in and the tunnel's bookkeeping; :meth:`env` then gives a child
    process all of it, and :meth:`variable_overrides` the lesson variables the sandbox
    changes. ``standins=False`` is the bare core: the API server and the controllers.
    """

    def __init__(
        self,
        *,
        delays: Delays | None = None,
        profile: str = "minikube",
        started: bool = True,
        kubernetes_version: str = DEFAULT_VERSION,
        container_runtime: str = DEFAULT_RUNTIME,
        state_dir: Path | str | None = None,
        port: int = 0,
        standins: bool = True,
        ingress_port: int | None = None,
        bookmark_interval: float = 10.0,
        event_log_size: int = DEFAULT_EVENT_LOG,
        clock: Clock | None = None,
    ) -> None:
        self.delays = delays or Delays.instant()
        #: What the cluster's time is: wall time, or a test's ManualClock (see clock.py).
        self.clock: Clock = clock or time.time
        self.profile = profile
        self.kubernetes_version = kubernetes_version
        #: The node's container runtime, as `minikube start --container-runtime` sets it.
        self.container_runtime = container_runtime
        self.node_ip = NODE_IP
        self._own_state_dir = state_dir is None
        self.state_dir = Path(state_dir) if state_dir is not None else tempdirs.create("k8s-tutor-sandbox-")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = self.state_dir / "kubeconfig"
        #: Extra data for the kubeconfig extension (the stand-ins add a control URL...).
        self.kubeconfig_extension: dict[str, Any] = {}
        self.registry = Registry()
        self.store = Store(self.registry, event_log_size=event_log_size, clock=self.clock)
        self.requests = RequestLog()
        #: The API's secrets: the kubeconfig's bearer token, the service account token key.
        self.credentials = Credentials(self.clock)
        self._tls: tuple[ServerCertificate, ssl.SSLContext] | None = None
        self.faults = Faults(normalize_image, self.clock)
        self.faults.on_image_change(self._image_rules_changed)
        self._build_cluster()
        self.server = ApiServer(
            self.store,
            kubernetes_version=kubernetes_version,
            request_log=self.requests,
            credentials=self.credentials,
            faults=self.faults,
            bookmark_interval=bookmark_interval,
        )
        self.server.pod_logs = PodLogs(lambda: self.kubelet, self.clock)
        # A refused attach is a session that ended: the kubelet of the cluster now running.
        self.server.on_attach_ended = lambda namespace, pod, container: self.kubelet.attach_ended(
            namespace, pod, container
        )
        #: The stand-ins (None with ``standins=False``): for tools and tests that look inside
        #: (``shim_dir``, ``ingress_port``, ``apps``, ``databases``...).
        self.standins: StandIns | None = None
        self._port = port
        self._installed = False
        self._running = False
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="k8s-tutor-sandbox", daemon=True)
        self._thread.start()
        try:
            self.call(self.manager.start)
            if started:
                self.start_cluster()
            if standins:
                # After the start: a started sandbox is a profile the minikube stand-in knows.
                own = StandIns(self, ingress_port=ingress_port)
                own.start()
                self.standins = own
        except BaseException:
            self.close()
            raise

    def _build_cluster(self) -> None:
        """What a cluster runs on top of the store: admission, the event recorder, the
        controllers and their manager (paused until the cluster starts). A deleted cluster's
        successor gets new ones, so that nothing the old one remembered carries over."""
        self.store.admission = Admission(self.store)
        self.recorder = EventRecorder(self.store, self.profile)
        self.cluster = Cluster(
            self.store,
            self.delays,
            self.recorder,
            self.faults,
            node_name=self.profile,
            node_ip=NODE_IP,
            container_runtime=self.container_runtime,
            # The API's own certificate, once it has one (made on the first start).
            root_ca=self._tls[0].certificate_pem if self._tls is not None else "",
            issue_token=self._issue_token,
        )
        self.kubelet = Kubelet(self.cluster)
        self.scheduler = Scheduler(self.cluster)
        controllers: list[Controller] = [
            self.scheduler,
            self.kubelet,
            VolumeController(self.cluster),
            ReplicaSetController(self.cluster),
            DeploymentController(self.cluster),
            StatefulSetController(self.cluster),
            DaemonSetController(self.cluster),
            JobController(self.cluster),
            CronJobController(self.cluster),
            EndpointsController(self.cluster),
            IngressController(self.cluster),
            NamespaceController(self.cluster),
            GarbageCollector(self.cluster),
            ServiceAccountController(self.cluster),
            CrdController(self.cluster),
        ]
        self.manager = Manager(self.store, controllers)

    # ---- the loop ------------------------------------------------------------------------

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the sandbox's loop thread and return its result."""
        if threading.current_thread() is self._thread:
            return fn()
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def _await(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # ---- the cluster ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def server_url(self) -> str:
        return f"https://127.0.0.1:{self._port}"

    @property
    def certificate_authority(self) -> str:
        """The PEM certificate the API server presents, the kubeconfig's only authority."""
        return self._server_tls()[0].certificate_pem

    @property
    def certificate_authority_file(self) -> Path:
        """Where the kubeconfig finds that certificate (a file, as minikube's ``ca.crt``)."""
        return self.state_dir / "ca.crt"

    def _server_tls(self) -> tuple[ServerCertificate, ssl.SSLContext]:
        # Made on the first start: a sandbox that is never started never pays for a key.
        if self._tls is None:
            certificate = make_server_certificate()
            self._tls = certificate, server_context(certificate, self.state_dir)
            self.certificate_authority_file.write_text(certificate.certificate_pem)
            self.cluster.root_ca = certificate.certificate_pem
        return self._tls

    @property
    def running(self) -> bool:
        """True while the cluster is started (its API port open)."""
        return self._running

    def kube_env(self) -> dict[str, str]:
        """Only the variables that point kubectl (and the client) at this sandbox:
        ``KUBECONFIG`` and ``KUBECACHEDIR`` (a discovery cache of its own)."""
        cache = self.state_dir / "kube-cache"
        cache.mkdir(exist_ok=True)
        return {"KUBECONFIG": str(self.kubeconfig), "KUBECACHEDIR": str(cache)}

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment for a child process (the tutor's commands, a test, a shell).

        ``base`` (default: ``os.environ``) plus :meth:`kube_env`; with the stand-ins, also
        ``PATH`` with the shim directory first and the control endpoint's address and
        token, so that ``minikube``, ``kubectl port-forward`` and ``minikube tunnel`` are
        the sandbox's while every other kubectl command runs the real kubectl.
        """
        if self.standins is not None:
            return self.standins.env(dict(os.environ if base is None else base))
        env = dict(os.environ if base is None else base)
        env.update(self.kube_env())
        return env

    def variable_overrides(self) -> dict[str, str]:
        """Lesson variables whose value here differs from the lesson's default, e.g.
        ``{"ingress_port": "18080"}`` when the tunnel cannot serve port 80. Also in the
        kubeconfig extension (``variables``). Empty without the stand-ins."""
        return self.standins.variable_overrides() if self.standins is not None else {}

    def start_cluster(
        self,
        profile: str | None = None,
        kubernetes_version: str | None = None,
        *,
        container_runtime: str | None = None,
        mark_default_storageclass: bool = True,
    ) -> None:
        """``minikube start``: install a fresh cluster's objects the first time, open the
        API port (the same one as before when free) and write the kubeconfig context.

        Starting again after :meth:`stop_cluster` keeps every object and, as minikube
        does with its default-storageclass addon on, marks ``standard`` as the one
        default StorageClass again (``mark_default_storageclass=False``: the addon is off).
        """
        if self._running:
            return
        if profile is not None and profile != self.profile:
            if self._installed:
                raise ValueError(f"this sandbox holds the cluster {self.profile!r}; one sandbox is one profile")
            self.profile = profile
            self.cluster.node_name = profile
            self.recorder.node_name = profile
        if kubernetes_version is not None:
            self.kubernetes_version = kubernetes_version
            self.server.kubernetes_version = kubernetes_version
        if container_runtime is not None and not self._installed:
            # A cluster keeps the runtime it was created with, as a minikube profile does.
            self.container_runtime = container_runtime
            self.cluster.container_runtime = container_runtime
        restart = self._installed
        self.start_listening(new_port=False, _boot=True)

        def boot() -> None:
            self.cluster.booting = True
            try:
                if not self._installed:
                    baseline.install(
                        self.store,
                        profile=self.profile,
                        kubernetes_version=self.kubernetes_version,
                        node_ip=self.node_ip,
                        api_port=8443,
                        container_runtime=self.container_runtime,
                    )
                    self._installed = True
                elif restart and mark_default_storageclass:
                    baseline.mark_standard_default(self.store)
                self.manager.run_pending()
            finally:
                self.cluster.booting = False

        self.call(boot)
        self.manager.resume()
        self._running = True

    def stop_cluster(self) -> None:
        """``minikube stop``: close the API port; objects are kept, controllers pause."""
        if not self._running:
            return
        self.manager.pause()
        self.stop_listening()
        self._running = False

    def delete_cluster(self) -> None:
        """``minikube delete``: close the API port, remove every object and forget the cluster.

        The kubeconfig loses the profile's cluster, user and context (as minikube's does);
        the next :meth:`start_cluster` makes a fresh cluster, of this profile or another
        one. Kept: the API port number (reused when free), the kubeconfig extension's
        fields, the faults and the request log, which belong to the sandbox, not the cluster.
        """
        if self._closed:
            return
        self.manager.pause()
        self.stop_listening()
        self._running = False

        async def wipe() -> None:
            # The old controllers go first: their timers and queues belong to the old cluster.
            await self.manager.stop()
            self.store.admission = None  # a new one follows; the old one frees nothing
            self.store.wipe()
            for rt in self.registry.all():
                if rt.custom:
                    self.registry.remove(rt.key)
            self._build_cluster()
            self.manager.start()

        self._await(wipe())
        self._installed = False
        if self.kubeconfig.exists():
            kubeconfig.remove_context(self.kubeconfig, self.profile)
        if self.standins is not None:
            # Called directly rather than by `minikube delete`: the stand-in forgets it too.
            self.standins.minikube.forget(self.profile)

    def stop_listening(self) -> None:
        """Close the API port: connection refused, as with a crashed API server."""
        if self.server.listening:
            self._await(self.server.stop())

    def start_listening(self, *, new_port: bool = False, _boot: bool = False) -> int:
        """Open the API port again, on a new port if asked (the kubeconfig is rewritten)."""
        if self.server.listening:
            if not new_port:
                return self._port
            self._await(self.server.stop())
        wanted = 0 if new_port else self._port
        tls = self._server_tls()[1]
        try:
            port = int(self._await(self.server.start(wanted, tls)))
        except OSError:
            port = int(self._await(self.server.start(0, tls)))
        self._port = port
        self.write_kubeconfig()
        return port

    def write_kubeconfig(self) -> None:
        """(Re)write this sandbox's context in :attr:`kubeconfig`."""
        extension = {
            "sandbox": True,
            "profile": self.profile,
            "kubernetesVersion": self.kubernetes_version,
            "stateDir": str(self.state_dir),
            **self.kubeconfig_extension,
        }
        kubeconfig.write_context(
            self.kubeconfig,
            name=self.profile,
            server=self.server_url,
            certificate_authority=self.certificate_authority_file,
            token=self.credentials.admin_token,
            extension=extension,
        )

    def _issue_token(self, namespace: str, account: str, seconds: int) -> str:
        """A token for a pod's service account volume, as the kubelet asks for one."""
        found = self.store.peek("serviceaccounts", namespace, account)
        uid = str(found["metadata"].get("uid", "")) if found is not None else ""
        return self.credentials.issue(namespace, account, uid, seconds=seconds, audiences=[ISSUER]).token

    def _image_rules_changed(self) -> None:
        if not self._closed:
            self.call(self.kubelet.requeue_all)

    @property
    def log_provider(self) -> LogProvider | None:
        return self.server.log_provider

    @log_provider.setter
    def log_provider(self, provider: LogProvider | None) -> None:
        """``provider(pod, container) -> text`` answers ``kubectl logs``."""
        self.server.log_provider = provider

    # ---- test controls -------------------------------------------------------------------

    def drop_watches(self) -> int:
        """Cut every open watch connection, as a network failure would; returns how many."""
        return self.call(self.server.drop_watches)

    def expire_watch_cache(self) -> None:
        """Forget the event log, so a watch resumed from an older version gets 410 Gone."""
        self.store.compact()

    def pause_requests(self) -> None:
        """Requests hang (their connections stay open) until :meth:`resume_requests`."""
        self.call(self.server.pause)

    def resume_requests(self) -> None:
        self.call(self.server.resume)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once no controller work is pending; TimeoutError otherwise."""
        if not self.manager.wait_idle(timeout):
            raise TimeoutError(f"the sandbox's controllers were still busy after {timeout}s")

    def hot_objects(self, threshold: int = 1000) -> list[tuple[tuple[str, str, str], int]]:
        """Objects written more than ``threshold`` times: a non-converging controller."""
        with self.store.locked():
            return [(key, n) for key, n in self.store.writes.items() if n > threshold]

    # ---- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the stand-ins, the cluster, the controllers, the loop and its thread; remove
        the temporary files (shims, state directory when the sandbox made it)."""
        if self._closed:
            return
        self._closed = True
        try:
            # The stand-ins first: they write to the store (a tunnel's LoadBalancer
            # addresses) until they stop.
            if self.standins is not None:
                self.standins.close()
        finally:
            self._close_core()
        self._running = False

    def _close_core(self) -> None:
        try:
            if self._thread.is_alive():
                self._await(self._shutdown())
        finally:
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=10)
            if not self._loop.is_running():
                self._loop.close()
            self.server.close()
            if self._own_state_dir:
                shutil.rmtree(self.state_dir, ignore_errors=True)

    async def _shutdown(self) -> None:
        await self.server.stop()
        await self.manager.stop()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    stop = close

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
