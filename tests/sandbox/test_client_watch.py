"""The official kubernetes client (37) listing and watching the sandbox."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.polling import poll
from tutor.sandbox import Sandbox


def _pod(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
    }


def test_list_then_watch_from_the_lists_version_sees_only_later_changes(sandbox: Sandbox, kube_client: Any) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_pod("default", _pod("before", {"app": "a"}))
    sandbox.wait_idle()
    listed = core.list_namespaced_pod("default", label_selector="app=a")
    assert [p.metadata.name for p in listed.items] == ["before"]
    assert listed.items[0].status.phase == "Running"
    core.create_namespaced_pod("default", _pod("after", {"app": "a"}))
    core.create_namespaced_pod("default", _pod("other", {"app": "b"}))
    w = watch.Watch()
    seen = []
    for event in w.stream(
        core.list_namespaced_pod,
        "default",
        label_selector="app=a",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=1,
    ):
        seen.append((event["type"], event["object"].metadata.name))
    assert ("ADDED", "after") in seen
    assert all(name == "after" for _t, name in seen), "before's old events and other's are filtered out"
    assert seen[-1] == ("MODIFIED", "after")


def test_watch_ends_after_timeout_seconds(sandbox: Sandbox, kube_client: Any) -> None:
    core = client.CoreV1Api(kube_client)
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=1))
    took = time.monotonic() - started
    assert events == []
    assert 0.9 <= took < 3


def test_field_selector_on_name_as_kubectl_wait_uses_it(sandbox: Sandbox, kube_client: Any) -> None:
    core = client.CoreV1Api(kube_client)
    for name in ("one", "two"):
        core.create_namespaced_pod("default", _pod(name))
    listed = core.list_namespaced_pod("default", field_selector="metadata.name=two")
    assert [p.metadata.name for p in listed.items] == ["two"]
    running = core.list_pod_for_all_namespaces(field_selector="status.phase=Running,metadata.namespace=default")
    assert sorted(p.metadata.name for p in running.items) == ["one", "two"]
    with pytest.raises(ApiException) as raised:
        core.list_namespaced_pod("default", field_selector="spec.frobs=1")
    assert raised.value.status == 400
    assert "field label not supported: spec.frobs" in raised.value.body


def test_bookmarks_arrive_when_allowed(sandbox_factory: Any) -> None:
    from kubernetes import config

    sandbox = sandbox_factory(bookmark_interval=0.2)
    api = config.new_client_from_config(config_file=str(sandbox.kubeconfig))
    try:
        core = client.CoreV1Api(api)
        rv = core.list_namespaced_pod("default").metadata.resource_version
        w = watch.Watch()
        kinds = [
            e["type"]
            for e in w.stream(
                core.list_namespaced_pod,
                "default",
                resource_version=rv,
                allow_watch_bookmarks=True,
                timeout_seconds=1,
            )
        ]
        assert "BOOKMARK" in kinds
        assert int(w.resource_version) >= int(rv)
    finally:
        api.close()


def test_resuming_after_the_log_expired_is_410_gone(sandbox: Sandbox, kube_client: Any) -> None:
    core = client.CoreV1Api(kube_client)
    rv = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", _pod("p"))
    sandbox.expire_watch_cache()
    with pytest.raises(ApiException) as raised:
        list(watch.Watch().stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=2))
    assert raised.value.status == 410
    # A fresh list gives a version that can be watched again.
    fresh = core.list_namespaced_pod("default").metadata.resource_version
    assert (
        list(watch.Watch().stream(core.list_namespaced_pod, "default", resource_version=fresh, timeout_seconds=1)) == []
    )


def test_a_label_change_out_of_the_selector_is_a_deleted_event(sandbox: Sandbox, kube_client: Any) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_pod("default", _pod("p", {"app": "a"}))
    sandbox.wait_idle()
    rv = core.list_namespaced_pod("default", label_selector="app=a").metadata.resource_version
    core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"app": "b"}}})
    events = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(
            core.list_namespaced_pod,
            "default",
            label_selector="app=a",
            resource_version=rv,
            timeout_seconds=1,
        )
    ]
    assert events == [("DELETED", "p")]


def test_watch_stop_from_another_thread_ends_a_quiet_stream(sandbox: Sandbox, kube_client: Any) -> None:
    core = client.CoreV1Api(kube_client)
    w = watch.Watch()
    done = threading.Event()

    def consume() -> None:
        try:
            for _ in w.stream(core.list_namespaced_pod, "default"):
                pass
        except Exception:
            pass
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    w.stop()
    assert done.wait(5)
    t.join(5)
    # The server noticed the client went away and dropped the watch.
    assert not poll(lambda: sandbox.server._watches, lambda watches: not watches, within=3)


def test_typed_reads_of_the_lesson_objects(sandbox: Sandbox, kube_client: Any) -> None:
    storage = client.StorageV1Api(kube_client)
    classes = storage.list_storage_class().items
    assert [(c.metadata.name, c.provisioner) for c in classes] == [("standard", "k8s.io/minikube-hostpath")]
    patched = storage.patch_storage_class(
        "standard",
        {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}},
    )
    assert patched.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "false"
    node = client.CoreV1Api(kube_client).read_node("mc-demo")
    assert node.metadata.labels["minikube.k8s.io/name"] == "mc-demo"
    assert [a.address for a in node.status.addresses if a.type == "InternalIP"] == ["127.0.0.1"]
    assert node.status.node_info.kubelet_version == "v1.31.0"
