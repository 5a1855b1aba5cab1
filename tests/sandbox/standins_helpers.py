"""Shared set-up for the stand-in tests: a store-only cluster, scenes, processes run as a learner.

`StoreHost` is the smallest thing `StandIns` attaches to: the core's `Store` and no API
server. Tests that need the real kubectl against the real API use the core's `Sandbox`
instead (see the e2e tests). Scenes put objects in the store the way the controllers
would leave them, so each test controls exactly when a pod runs or goes.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.polling import wait_until  # noqa: F401  (the standin tests take it from here)
from tutor.sandbox.store import Store

PACMAN_IMAGE = "quay.io/ifont/pacman-nodejs-app:latest"


class StoreHost:
    """A cluster host with only a store: start/stop are recorded, the kubeconfig is static."""

    def __init__(self, tmp: Path) -> None:
        self.store = Store()
        self.kubeconfig = tmp / "kubeconfig"
        self.calls: list[tuple[str, Any]] = []
        for ns in ("default", "kube-system"):
            namespace(self.store, ns)
        self.store.create(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "k8s.io/minikube-hostpath",
            }
        )
        write_kubeconfig(self.kubeconfig, "mc-demo")

    def start_cluster(
        self,
        profile: str | None = None,
        kubernetes_version: str | None = None,
        *,
        container_runtime: str | None = None,
        mark_default_storageclass: bool = True,
    ) -> None:
        self.calls.append(("start", profile))

    def stop_cluster(self) -> None:
        self.calls.append(("stop", None))

    def delete_cluster(self) -> None:
        self.calls.append(("delete", None))

    def kube_env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig)}


def write_kubeconfig(path: Path, context: str, namespace: str = "default") -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": context,
                "contexts": [
                    {
                        "name": context,
                        "context": {"cluster": context, "user": context, "namespace": namespace},
                    }
                ],
                "clusters": [
                    {
                        "name": context,
                        "cluster": {
                            "server": "http://127.0.0.1:9",
                            "extensions": [{"name": "k8s-tutor-sandbox", "extension": {}}],
                        },
                    }
                ],
                "users": [{"name": context, "user": {}}],
            }
        )
    )


def namespace(store: Store, name: str) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def running(ready: bool = True) -> dict[str, Any]:
    return {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }


def pacman_scene(store: Store, ns: str = "pacman", *, pacman_pods: int = 1) -> None:
    """What `kubectl create -f pacman-stateful.yaml` leaves once everything runs."""
    namespace(store, ns)
    store.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pvc-1111"},
            "spec": {},
        }
    )
    store.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "mongo-data-mongo-0", "namespace": ns},
            "spec": {"volumeName": "pvc-1111"},
        }
    )
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "mongo", "namespace": ns},
            "spec": {
                "clusterIP": "None",
                "selector": {"name": "mongo"},
                "ports": [{"port": 27017}],
            },
        }
    )
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "pacman", "namespace": ns},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"name": "pacman"},
                "ports": [{"port": 80, "targetPort": 8080}],
            },
        }
    )
    store.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "pacman", "namespace": ns},
            "spec": {
                "replicas": pacman_pods,
                "selector": {"matchLabels": {"name": "pacman"}},
                "template": {
                    "metadata": {"labels": {"name": "pacman"}},
                    "spec": {"containers": [{"name": "pacman", "image": PACMAN_IMAGE}]},
                },
            },
        }
    )
    mongo_pod(store, ns)
    for i in range(pacman_pods):
        pacman_pod(store, f"pacman-7469bbb6d7-{i:05d}", ns)


def mongo_pod(
    store: Store,
    ns: str = "pacman",
    *,
    ready: bool = True,
    claim: str | None = "mongo-data-mongo-0",
) -> None:
    volumes = [{"name": "mongo-data", "persistentVolumeClaim": {"claimName": claim}}] if claim else []
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "mongo-0", "namespace": ns, "labels": {"name": "mongo"}},
            "spec": {
                "containers": [{"name": "mongo", "image": "docker.io/library/mongo:5.0.30"}],
                "volumes": volumes,
            },
            "status": running(ready),
        }
    )


def pacman_pod(store: Store, name: str, ns: str = "pacman", image: str = PACMAN_IMAGE) -> None:
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"name": "pacman"}},
            "spec": {
                "containers": [
                    {
                        "name": "pacman",
                        "image": image,
                        "ports": [{"name": "http-server", "containerPort": 8080}],
                        "env": [{"name": "MONGO_SERVICE_HOST", "value": "mongo"}],
                    }
                ]
            },
            "status": running(),
        }
    )


def http(
    url: str,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, str]:
    """(status, body) of one request; only ever to loopback."""
    assert url.startswith(("http://127.0.0.1", "http://[::1]")), url
    body = "&".join(f"{k}={v}" for k, v in data.items()).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def http_json(url: str, data: dict[str, str] | None = None) -> Any:
    status, body = http(url, data)
    assert status == 200, (status, body)
    return json.loads(body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Background:
    """A command run as a learner would leave it running in a terminal (its own process group).

    A thread reads stdout line by line into a queue: reading a pipe through a buffered
    file while polling its descriptor would miss lines already in the buffer.
    """

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def read_line(self, timeout: float = 15.0) -> str:
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout}s; so far: {self.lines}") from None
        if line is None:
            self._queue.put(None)
            raise AssertionError(f"the command ended; output {self.lines}, stderr={self.stderr()}")
        self.lines.append(line)
        return line

    def read_until(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(0.05, deadline - time.monotonic()))
            if text in line:
                return line

    def rest(self, timeout: float = 10.0) -> list[str]:
        """Every line printed until the command ended (call once it is ending)."""
        out = []
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"the command did not end; output {self.lines + out}") from None
            if line is None:
                self._queue.put(None)
                self.lines += out
                return out
            out.append(line)

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read()

    def wait(self, timeout: float = 15.0) -> int:
        return self.proc.wait(timeout)

    def stop(self, sig: int = signal.SIGINT) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(10)


@contextlib.contextmanager
def background(argv: list[str], env: dict[str, str]) -> Iterator[Background]:
    bg = Background(argv, env)
    try:
        yield bg
    finally:
        if bg.proc.poll() is None:
            bg.stop()
        bg._reader.join(5)
        for f in (bg.proc.stdout, bg.proc.stderr):
            if f is not None:
                f.close()


def run(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
