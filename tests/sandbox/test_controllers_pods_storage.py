"""Pods on the node (scheduling, start-up, image faults) and storage (claims, volumes, classes)."""

from __future__ import annotations

from typing import Any

from tests.polling import wait_until
from tutor.sandbox import Delays, ManualClock, Sandbox
from tutor.sandbox.objects import Obj
from tutor.sandbox.tables import pod_status_reason


def pod(
    name: str,
    image: str = "nginx:1.27",
    *,
    claim: str | None = None,
    init: bool = False,
    probe: bool = False,
) -> Obj:
    container: Obj = {"name": "app", "image": image}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/", "port": 80}}
    spec: Obj = {"containers": [container]}
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    if init:
        spec["initContainers"] = [{"name": "prepare", "image": "busybox:1.36"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def claim(name: str, storage_class: str | None = None) -> Obj:
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def events(sb: Sandbox, name: str) -> list[tuple[str, str, str]]:
    found = sb.store.list("events", "default", field_selector=f"involvedObject.name={name}")
    found.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["message"]) for e in found]


def test_a_running_pod_is_complete_for_the_client(sandbox: Sandbox) -> None:
    sandbox.store.create(pod("web"))
    sandbox.wait_idle()
    p = sandbox.store.read("pods", "default", "web")
    status = p["status"]
    assert status["phase"] == "Running"
    assert status["podIP"].startswith("127.244.")
    assert status["hostIP"] == "127.0.0.1"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    container = status["containerStatuses"][0]
    assert container["image"] == "docker.io/library/nginx:1.27"
    assert container["imageID"].startswith("docker.io/library/nginx@sha256:")
    assert container["ready"] is True
    assert container["restartCount"] == 0
    assert [r for _t, r, _m in events(sandbox, "web")] == [
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
    ]


def test_realistic_delays_show_init_then_creating_then_running(sandbox_factory: Any) -> None:
    sb = sandbox_factory(delays=Delays(container_create=0.2, init_container=0.3, image_pull=0.1))
    sb.store.create(pod("web", init=True))
    seen: list[str] = []

    def record() -> bool:
        current = sb.store.get("pods", "default", "web")
        if current is not None:
            reason = pod_status_reason(current)[0]
            if not seen or seen[-1] != reason:
                seen.append(reason)
        return bool(seen) and seen[-1] == "Running"

    wait_until(record)
    assert seen[-3:] == ["Init:0/1", "PodInitializing", "Running"]


def test_an_unbound_claim_keeps_the_pod_pending_with_failed_scheduling(sandbox: Sandbox) -> None:
    sandbox.store.create(claim("data", storage_class="nothing-here"))
    sandbox.store.create(pod("db", claim="data"))
    sandbox.wait_idle()
    p = sandbox.store.read("pods", "default", "db")
    assert p["status"]["phase"] == "Pending"
    scheduled = next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["status"] == "False"
    assert scheduled["reason"] == "Unschedulable"
    assert (
        "Warning",
        "FailedScheduling",
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    ) in events(sandbox, "db")
    assert (
        "Warning",
        "ProvisioningFailed",
        'storageclass.storage.k8s.io "nothing-here" not found',
    ) in events(sandbox, "data")


def test_a_claim_for_a_csi_class_waits_until_the_driver_is_registered(sandbox: Sandbox) -> None:
    sandbox.store.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "csi-hostpath-sc"},
            "provisioner": "hostpath.csi.k8s.io",
        }
    )
    sandbox.store.create(claim("data", storage_class="csi-hostpath-sc"))
    sandbox.wait_idle()
    assert sandbox.store.read("persistentvolumeclaims", "default", "data")["status"]["phase"] == "Pending"
    assert any(r == "ExternalProvisioning" and "'hostpath.csi.k8s.io'" in m for _t, r, m in events(sandbox, "data"))
    sandbox.store.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": "hostpath.csi.k8s.io"},
            "spec": {},
        }
    )
    sandbox.wait_idle()
    bound = sandbox.store.read("persistentvolumeclaims", "default", "data")
    assert bound["status"]["phase"] == "Bound"
    volume = sandbox.store.read("persistentvolumes", "", bound["spec"]["volumeName"])
    assert volume["spec"]["csi"]["driver"] == "hostpath.csi.k8s.io"
    assert volume["spec"]["claimRef"]["uid"] == bound["metadata"]["uid"]
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "hostpath.csi.k8s.io"
    assert bound["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"


def test_claims_without_a_class_get_the_default_retroactively(sandbox: Sandbox) -> None:
    sandbox.store.patch(
        "storageclasses.storage.k8s.io",
        "",
        "standard",
        {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}},
    )
    sandbox.store.create(claim("data"))
    sandbox.wait_idle()
    pending = sandbox.store.read("persistentvolumeclaims", "default", "data")
    assert "storageClassName" not in pending["spec"]
    assert pending["status"]["phase"] == "Pending"
    sandbox.store.patch(
        "storageclasses.storage.k8s.io",
        "",
        "standard",
        {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}},
    )
    sandbox.wait_idle()
    bound = sandbox.store.read("persistentvolumeclaims", "default", "data")
    assert bound["spec"]["storageClassName"] == "standard"
    assert bound["status"]["phase"] == "Bound"


def test_the_newest_default_class_wins(sandbox_factory: Any) -> None:
    clock = ManualClock()
    sandbox = sandbox_factory(clock=clock)
    clock.advance(1)  # creationTimestamp has second precision
    sandbox.store.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "newer",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "k8s.io/minikube-hostpath",
        }
    )
    created = sandbox.store.create(claim("data"))
    assert created["spec"]["storageClassName"] == "newer"


def test_deleting_a_claim_in_use_waits_for_the_pod_then_deletes_its_volume(
    sandbox: Sandbox,
) -> None:
    sandbox.store.create(claim("data"))
    sandbox.store.create(pod("db", claim="data"))
    sandbox.wait_idle()
    volume = sandbox.store.read("persistentvolumeclaims", "default", "data")["spec"]["volumeName"]
    sandbox.store.delete("persistentvolumeclaims", "default", "data")
    sandbox.wait_idle()
    assert sandbox.store.read("persistentvolumeclaims", "default", "data")["metadata"]["deletionTimestamp"]
    sandbox.store.delete("pods", "default", "db")
    sandbox.wait_idle()
    assert sandbox.store.get("persistentvolumeclaims", "default", "data") is None
    assert sandbox.store.get("persistentvolumes", "", volume) is None


def test_retain_policy_releases_the_volume(sandbox: Sandbox) -> None:
    sandbox.store.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "keep"},
            "provisioner": "k8s.io/minikube-hostpath",
            "reclaimPolicy": "Retain",
        }
    )
    sandbox.store.create(claim("data", storage_class="keep"))
    sandbox.wait_idle()
    volume = sandbox.store.read("persistentvolumeclaims", "default", "data")["spec"]["volumeName"]
    sandbox.store.delete("persistentvolumeclaims", "default", "data")
    sandbox.wait_idle()
    assert sandbox.store.read("persistentvolumes", "", volume)["status"]["phase"] == "Released"


def test_image_pull_failure_then_recovery(sandbox: Sandbox) -> None:
    sandbox.faults.image_pull_failure("docker.io/library/nginx:*")
    sandbox.store.create(pod("web", image="nginx:1.27"))
    sandbox.wait_idle()
    p = sandbox.store.read("pods", "default", "web")
    assert pod_status_reason(p)[0] == "ImagePullBackOff"
    assert p["status"]["phase"] == "Pending"
    reasons = {r for _t, r, _m in events(sandbox, "web")}
    assert {"Failed", "BackOff"} <= reasons
    assert any("ErrImagePull" in m for _t, _r, m in events(sandbox, "web"))
    sandbox.faults.clear_image_faults()
    sandbox.wait_idle()
    assert sandbox.store.read("pods", "default", "web")["status"]["phase"] == "Running"


def test_crash_loop_restarts_grow(sandbox_factory: Any) -> None:
    clock = ManualClock()
    sb = sandbox_factory(clock=clock)
    sb.faults.crash_loop("docker.io/library/mongo:*")
    sb.store.create(pod("db", image="mongo:5.0.30"))
    sb.wait_idle()
    status = sb.store.read("pods", "default", "db")["status"]["containerStatuses"][0]
    # The first exit is restarted at once; the second waits out the kubelet's back-off.
    assert (status["state"]["waiting"]["reason"], status["restartCount"]) == ("CrashLoopBackOff", 1)
    assert status["state"]["waiting"]["message"].startswith("back-off 10s restarting failed container=app")
    clock.advance(10)
    sb.wait_idle()
    status = sb.store.read("pods", "default", "db")["status"]["containerStatuses"][0]
    assert status["restartCount"] == 2
    assert status["state"]["waiting"]["message"].startswith("back-off 20s")
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert any(r == "BackOff" and "Back-off restarting failed container app" in m for _t, r, m in events(sb, "db"))
    sb.faults.clear_image_faults()
    sb.wait_idle()
    assert pod_status_reason(sb.store.read("pods", "default", "db"))[0] == "Running"


def test_never_ready_keeps_the_container_running_but_unready(sandbox: Sandbox) -> None:
    sandbox.faults.never_ready("nginx:*")
    sandbox.store.create(pod("web", probe=True))
    sandbox.wait_idle()
    p = sandbox.store.read("pods", "default", "web")
    reason, ready, total, _restarts, _last = pod_status_reason(p)
    assert (reason, ready, total) == ("Running", 0, 1)
    assert any(r == "Unhealthy" for _t, r, _m in events(sandbox, "web"))
    sandbox.faults.clear_image_faults()
    sandbox.wait_idle()
    assert pod_status_reason(sandbox.store.read("pods", "default", "web"))[1] == 1


def test_graceful_deletion_shows_terminating_for_a_while(sandbox_factory: Any) -> None:
    sb = sandbox_factory(delays=Delays(pod_termination=0.4))
    sb.store.create(pod("web"))
    sb.wait_idle()
    sb.store.delete("pods", "default", "web")
    assert pod_status_reason(sb.store.read("pods", "default", "web"))[0] == "Terminating"
    sb.wait_idle()
    assert sb.store.get("pods", "default", "web") is None
    force = sb.store.create(pod("web2"))
    sb.wait_idle()
    sb.store.delete("pods", "default", "web2", grace_period=0)
    assert sb.store.get("pods", "default", "web2") is None, force["metadata"]["name"]


def test_services_get_endpoints_of_ready_pods(sandbox: Sandbox) -> None:
    p = pod("web")
    p["metadata"]["labels"] = {"app": "web"}
    sandbox.store.create(p)
    sandbox.store.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        }
    )
    sandbox.wait_idle()
    endpoints = sandbox.store.read("endpoints", "default", "web")
    ip = sandbox.store.read("pods", "default", "web")["status"]["podIP"]
    assert endpoints["subsets"] == [
        {
            "addresses": [
                {
                    "ip": ip,
                    "nodeName": "mc-demo",
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": "default",
                        "name": "web",
                        "uid": sandbox.store.read("pods", "default", "web")["metadata"]["uid"],
                    },
                }
            ],
            "ports": [{"port": 8080, "protocol": "TCP"}],
        }
    ]
    service = sandbox.store.read("services", "default", "web")
    assert service["spec"]["clusterIP"].startswith("127.96.")
