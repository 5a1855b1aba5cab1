"""The in-process API: lifecycle, the kubeconfig, fault injection and the request log."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import yaml
from sandbox_helpers import api, make_kubectl, needs_kubectl, widget_crd

from tutor.sandbox import ManualClock, Sandbox, sandbox_extension


def refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def get(sb: Sandbox, path: str, timeout: float = 5) -> int:
    return api(sb, "GET", path, timeout=timeout).status


def test_a_fresh_sandbox_starts_fast(sandbox_factory: Any) -> None:
    sandbox_factory()  # the first one pays for the imports
    started = time.perf_counter()
    sandbox_factory()
    assert time.perf_counter() - started < 0.5


def test_a_fresh_cluster_looks_like_minikube(sandbox: Sandbox) -> None:
    store = sandbox.store
    assert [n["metadata"]["name"] for n in store.list("namespaces")] == [
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    ]
    pods = {p["metadata"]["name"] for p in store.list("pods", "kube-system")}
    for expected in (
        "etcd-mc-demo",
        "kube-apiserver-mc-demo",
        "kube-controller-manager-mc-demo",
        "kube-scheduler-mc-demo",
        "storage-provisioner",
    ):
        assert expected in pods
    assert any(p.startswith("coredns-") for p in pods)
    assert any(p.startswith("kube-proxy-") for p in pods)
    assert {p["status"]["phase"] for p in store.list("pods", "kube-system")} == {"Running"}
    standard = store.read("storageclasses.storage.k8s.io", "", "standard")
    assert standard["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert standard["metadata"]["labels"] == {"addonmanager.kubernetes.io/mode": "EnsureExists"}
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert store.get("serviceaccounts", ns, "default") is not None
    assert store.read("services", "default", "kubernetes")["spec"]["clusterIP"] == "127.96.0.1"


def test_not_started_means_connection_refused_until_start_cluster(sandbox_factory: Any) -> None:
    sb = sandbox_factory(started=False, profile="minikube")
    assert not sb.running
    assert not sb.kubeconfig.exists()
    sb.start_cluster(profile="mc-demo", kubernetes_version="v1.30.0")
    assert get(sb, "/readyz") == 200
    config = yaml.safe_load(sb.kubeconfig.read_text())
    assert config["current-context"] == "mc-demo"
    extension = sandbox_extension(config)
    assert extension is not None
    assert extension["sandbox"] is True
    assert extension["profile"] == "mc-demo"
    assert sb.store.get("nodes", "", "mc-demo") is not None
    port = sb.port
    sb.stop_cluster()
    assert refused(port)
    sb.start_cluster()
    assert sb.port == port, "the port is kept across stop/start"


def test_a_restart_keeps_objects_and_marks_standard_default_again(sandbox: Sandbox) -> None:
    sandbox.store.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "csi-hostpath-sc",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "hostpath.csi.k8s.io",
        }
    )
    sandbox.store.patch(
        "storageclasses.storage.k8s.io",
        "",
        "standard",
        {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}},
    )
    sandbox.stop_cluster()
    sandbox.start_cluster()
    annotations = {
        sc["metadata"]["name"]: sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
        for sc in sandbox.store.list("storageclasses.storage.k8s.io")
    }
    assert annotations == {"csi-hostpath-sc": "false", "standard": "true"}


def test_a_restart_with_the_default_storageclass_addon_off_leaves_classes_alone(
    sandbox: Sandbox,
) -> None:
    sandbox.store.patch(
        "storageclasses.storage.k8s.io",
        "",
        "standard",
        {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}},
    )
    sandbox.stop_cluster()
    sandbox.start_cluster(mark_default_storageclass=False)
    standard = sandbox.store.read("storageclasses.storage.k8s.io", "", "standard")
    annotation = standard["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
    assert annotation == "false"


def test_delete_cluster_wipes_everything_and_the_next_start_is_fresh(sandbox: Sandbox) -> None:
    store = sandbox.store
    store.create(widget_crd())
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pacman"}})
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "mongo", "namespace": "pacman"},
            "spec": {"ports": [{"port": 27017}], "selector": {"name": "mongo"}},
        }
    )
    sandbox.wait_idle()
    assert sandbox.registry.get("widgets.example.com") is not None
    port, rv = sandbox.port, store.resource_version
    seen: list[str] = []
    unsubscribe = store.subscribe(lambda event: seen.append(event.type))
    sandbox.delete_cluster()
    unsubscribe()
    assert not sandbox.running
    assert refused(port)
    assert store.count() == 0
    assert set(seen) == {"DELETED"}
    assert sandbox.registry.get("widgets.example.com") is None
    assert sandbox_extension(yaml.safe_load(sandbox.kubeconfig.read_text())) is None, "the context is gone"
    sandbox.delete_cluster()  # twice is fine

    sandbox.start_cluster(profile="other", kubernetes_version="v1.30.0", container_runtime="containerd")
    sandbox.wait_idle()
    assert sandbox.running
    assert store.resource_version > rv, "versions keep counting"
    assert [n["metadata"]["name"] for n in store.list("nodes")] == ["other"]
    assert store.read("nodes", "", "other")["status"]["nodeInfo"]["kubeletVersion"] == "v1.30.0"
    assert store.get("namespaces", "", "pacman") is None
    # The same ClusterIP again: the old cluster's addresses were freed with it.
    assert store.read("services", "default", "kubernetes")["spec"]["clusterIP"] == "127.96.0.1"
    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    assert config["current-context"] == "other"
    assert [c["name"] for c in config["contexts"]] == ["other"]
    # The controllers run again: a new namespace gets its default ServiceAccount.
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "again"}})
    sandbox.wait_idle()
    assert store.get("serviceaccounts", "again", "default") is not None


def test_kubeconfig_keeps_other_contexts_and_the_client_accepts_the_extension(
    sandbox_factory: Any, tmp_path: Any
) -> None:
    from kubernetes import client, config

    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "other", "cluster": {"server": "http://127.0.0.1:1"}}],
                "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
                "users": [{"name": "other", "user": {}}],
                "current-context": "other",
            }
        )
    )
    sb = sandbox_factory(state_dir=tmp_path)
    assert sb.kubeconfig == path
    contexts, active = config.list_kube_config_contexts(config_file=str(path))
    assert {c["name"] for c in contexts} == {"other", "mc-demo"}
    assert active["name"] == "mc-demo"
    api = config.new_client_from_config(config_file=str(path))
    try:
        assert client.CoreV1Api(api).read_namespace("default").metadata.name == "default"
    finally:
        api.close()


@needs_kubectl
def test_kubectl_accepts_the_kubeconfig_and_picks_the_reported_version(sandbox: Sandbox) -> None:
    version = make_kubectl(sandbox)("version", "-o", "yaml", check=True).stdout
    data = yaml.safe_load(version)
    assert data["serverVersion"]["gitVersion"] == "v1.31.0"
    assert make_kubectl(sandbox)("config", "current-context", check=True).stdout.strip() == "mc-demo"


def test_injected_failures_hit_the_next_matching_requests_only(sandbox_factory: Any) -> None:
    clock = ManualClock()
    sandbox = sandbox_factory(clock=clock)
    rule = sandbox.faults.fail("GET", r"/api/v1/namespaces$", status=500, times=2)
    assert get(sandbox, "/api/v1/namespaces") == 500
    assert get(sandbox, "/api/v1/nodes") == 200
    assert get(sandbox, "/api/v1/namespaces") == 500
    assert get(sandbox, "/api/v1/namespaces") == 200
    assert rule.hits == 2
    sandbox.faults.fail("*", "/api/v1", status=503, times=None, duration=30)
    assert get(sandbox, "/api/v1/pods") == 503
    clock.advance(29)
    assert get(sandbox, "/api/v1/pods") == 503
    clock.advance(1.5)
    assert get(sandbox, "/api/v1/pods") == 200


def test_pause_makes_requests_hang_until_resume(sandbox: Sandbox) -> None:
    sandbox.pause_requests()
    results: list[int] = []
    t = threading.Thread(target=lambda: results.append(get(sandbox, "/api/v1/nodes", timeout=10)))
    t.start()
    time.sleep(0.3)
    assert results == []
    sandbox.resume_requests()
    t.join(5)
    assert results == [200]


def test_stop_and_start_listening_on_a_new_port_rewrites_the_kubeconfig(sandbox: Sandbox) -> None:
    old = sandbox.port
    sandbox.stop_listening()
    assert refused(old)
    new = sandbox.start_listening(new_port=True)
    assert new != old
    assert f"https://127.0.0.1:{new}" in sandbox.kubeconfig.read_text()
    assert get(sandbox, "/readyz") == 200


def test_drop_watches_cuts_open_watch_connections(sandbox: Sandbox, kube_client: Any) -> None:
    from kubernetes import client, watch

    core = client.CoreV1Api(kube_client)
    outcome: list[str] = []

    def consume() -> None:
        try:
            for _ in watch.Watch().stream(core.list_namespaced_pod, "default", _request_timeout=(5, 10)):
                pass
            outcome.append("ended")
        except Exception as exc:
            outcome.append(type(exc).__name__)

    t = threading.Thread(target=consume)
    t.start()
    deadline = time.monotonic() + 5
    while not sandbox.server._watches and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sandbox.drop_watches() == 1
    t.join(5)
    assert outcome
    assert outcome[0] != "ReadTimeoutError"


def test_the_request_log_counts_what_clients_did(sandbox: Sandbox) -> None:
    mark = time.time()
    get(sandbox, "/api/v1/namespaces/default/pods")
    get(sandbox, "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1")
    assert sandbox.requests.count(method="GET", path="/pods$", since=mark) == 2
    assert sandbox.requests.count(watch=True, since=mark) == 1


def test_close_leaves_no_thread_and_no_port(sandbox_factory: Any) -> None:
    sb = sandbox_factory()
    port = sb.port
    sb.close()
    assert refused(port)
    assert not any(
        t.name == "k8s-tutor-sandbox" and t.is_alive()
        for t in threading.enumerate()
        if t is not threading.current_thread()
    )
    assert sb.store.get("pods", "kube-system", "storage-provisioner") is not None, "the store stays readable"


def test_a_watcher_gone_before_the_answer_is_not_an_error(sandbox: Sandbox, caplog: Any) -> None:
    # The tutor closing while its watch request is held up (here by a pause): the server
    # must not log "Error handling request" with a traceback on the learner's terminal.
    import logging
    import struct

    caplog.set_level(logging.DEBUG, logger="aiohttp")
    sandbox.pause_requests()
    try:
        sock = socket.create_connection(("127.0.0.1", sandbox.port), timeout=5)
        sock.sendall(b"GET /api/v1/namespaces?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.2)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not FIN
        sock.close()
        time.sleep(0.2)
    finally:
        sandbox.resume_requests()
    time.sleep(0.5)
    assert get(sandbox, "/readyz") == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
