"""Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and garbage collection."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tutor.sandbox import Delays, ManualClock, Sandbox
from tutor.sandbox.objects import Obj


def deployment(name: str, image: str, replicas: int = 2, namespace: str = "default") -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def statefulset(name: str, replicas: int = 3, namespace: str = "default", **spec: Any) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "db",
                            "image": "redis:7",
                            "readinessProbe": {"exec": {"command": ["true"]}},
                        }
                    ]
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "2Gi"}},
                    },
                }
            ],
            **spec,
        },
    }


def names(sb: Sandbox, resource: str, namespace: str = "default", selector: str | None = None) -> list[str]:
    return [o["metadata"]["name"] for o in sb.store.list(resource, namespace, label_selector=selector)]


def test_a_deployment_rolls_out_a_new_image_through_a_new_replicaset(sandbox: Sandbox) -> None:
    sandbox.store.create(deployment("web", "nginx:1.26", replicas=3))
    sandbox.wait_idle()
    first = names(sandbox, "replicasets.apps")
    assert len(first) == 1
    assert first[0].startswith("web-")
    sandbox.store.patch(
        "deployments.apps",
        "default",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}},
        patch_type="strategic",
    )
    sandbox.wait_idle()
    replicasets = {r["metadata"]["name"]: r for r in sandbox.store.list("replicasets.apps", "default")}
    assert len(replicasets) == 2
    old, new = replicasets[first[0]], next(r for n, r in replicasets.items() if n != first[0])
    assert old["spec"]["replicas"] == 0
    assert new["spec"]["replicas"] == 3
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = sandbox.store.list("pods", "default", label_selector="app=web")
    assert sorted(p["spec"]["containers"][0]["image"] for p in pods) == ["nginx:1.27"] * 3
    status = sandbox.store.read("deployments.apps", "default", "web")["status"]
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (3, 3, 3)
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Available"]["status"] == "True"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert status["observedGeneration"] == 2


def test_scale_down_removes_pods_and_status_follows(sandbox: Sandbox) -> None:
    sandbox.store.create(deployment("web", "nginx", replicas=4))
    sandbox.wait_idle()
    sandbox.store.patch("deployments.apps", "default", "web", {"spec": {"replicas": 1}})
    sandbox.wait_idle()
    assert len(names(sandbox, "pods", selector="app=web")) == 1
    assert sandbox.store.read("deployments.apps", "default", "web")["status"]["readyReplicas"] == 1


def test_a_statefulset_makes_ordered_pods_each_with_its_own_claim(sandbox: Sandbox) -> None:
    sandbox.store.create(statefulset("cache"))
    sandbox.wait_idle()
    assert names(sandbox, "pods", selector="app=cache") == ["cache-0", "cache-1", "cache-2"]
    claims = {c["metadata"]["name"]: c for c in sandbox.store.list("persistentvolumeclaims", "default")}
    assert sorted(claims) == ["data-cache-0", "data-cache-1", "data-cache-2"]
    assert {c["status"]["phase"] for c in claims.values()} == {"Bound"}
    assert claims["data-cache-1"]["metadata"]["labels"] == {"app": "cache"}
    pod = sandbox.store.read("pods", "default", "cache-1")
    assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "cache-1"
    assert pod["spec"]["hostname"] == "cache-1"
    assert pod["spec"]["subdomain"] == "cache"
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-cache-1"}} in pod["spec"]["volumes"]
    status = sandbox.store.read("statefulsets.apps", "default", "cache")["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (3, 3, 3)
    assert status["currentRevision"] == status["updateRevision"]


def test_ordered_ready_creates_the_next_pod_only_after_the_previous_is_ready(
    sandbox_factory: Any,
) -> None:
    clock = ManualClock()
    sb = sandbox_factory(clock=clock, delays=Delays(readiness=5))
    sb.store.create(statefulset("cache"))
    for ready in (["cache-0"], ["cache-0", "cache-1"], ["cache-0", "cache-1", "cache-2"]):
        sb.wait_idle()
        assert names(sb, "pods", selector="app=cache") == ready
        clock.advance(5)


def test_scale_down_removes_the_highest_ordinal_and_keeps_claims(sandbox: Sandbox) -> None:
    sandbox.store.create(statefulset("cache"))
    sandbox.wait_idle()
    sandbox.store.patch("statefulsets.apps", "default", "cache", {"spec": {"replicas": 1}})
    sandbox.wait_idle()
    assert names(sandbox, "pods", selector="app=cache") == ["cache-0"]
    assert len(sandbox.store.list("persistentvolumeclaims", "default")) == 3
    sandbox.store.delete("statefulsets.apps", "default", "cache")
    sandbox.wait_idle()
    assert names(sandbox, "pods", selector="app=cache") == []
    assert len(sandbox.store.list("persistentvolumeclaims", "default")) == 3, "claims outlive their StatefulSet"


def test_a_deleted_statefulset_pod_comes_back_with_its_name_and_a_new_uid(sandbox: Sandbox) -> None:
    sandbox.store.create(statefulset("cache", replicas=1))
    sandbox.wait_idle()
    old = sandbox.store.read("pods", "default", "cache-0")
    sandbox.store.delete("pods", "default", "cache-0")
    sandbox.wait_idle()
    new = sandbox.store.read("pods", "default", "cache-0")
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["status"]["phase"] == "Running"


def test_statefulset_template_change_rolls_pods_from_the_highest_ordinal(sandbox: Sandbox) -> None:
    sandbox.store.create(statefulset("cache", replicas=2))
    sandbox.wait_idle()
    before = sandbox.store.read("statefulsets.apps", "default", "cache")["status"]["currentRevision"]
    sandbox.store.patch(
        "statefulsets.apps",
        "default",
        "cache",
        {"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "redis:8"}]}}}},
        patch_type="strategic",
    )
    sandbox.wait_idle()
    status = sandbox.store.read("statefulsets.apps", "default", "cache")["status"]
    assert status["updateRevision"] != before
    assert status["currentRevision"] == status["updateRevision"]
    assert {
        p["spec"]["containers"][0]["image"] for p in sandbox.store.list("pods", "default", label_selector="app=cache")
    } == {"redis:8"}


def test_daemonset_runs_one_pod_on_the_node(sandbox: Sandbox) -> None:
    status = sandbox.store.read("daemonsets.apps", "kube-system", "kube-proxy")["status"]
    assert (status["desiredNumberScheduled"], status["numberReady"], status["numberAvailable"]) == (
        1,
        1,
        1,
    )


def test_jobs_run_to_completion(sandbox: Sandbox) -> None:
    sandbox.store.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "create-secret", "namespace": "default"},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [{"name": "c", "image": "busybox"}],
                    }
                }
            },
        }
    )
    sandbox.wait_idle()
    job = sandbox.store.read("jobs.batch", "default", "create-secret")
    assert job["status"]["succeeded"] == 1
    assert {c["type"] for c in job["status"]["conditions"]} == {"Complete", "SuccessCriteriaMet"}
    pods = sandbox.store.list("pods", "default", label_selector="job-name=create-secret")
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_deleting_a_deployment_cascades(sandbox: Sandbox, policy: str) -> None:
    sandbox.store.create(deployment("web", "nginx"))
    sandbox.wait_idle()
    sandbox.store.delete("deployments.apps", "default", "web", propagation=policy)
    sandbox.wait_idle()
    assert names(sandbox, "deployments.apps") == []
    assert names(sandbox, "replicasets.apps") == []
    assert names(sandbox, "pods", selector="app=web") == []


def test_orphan_deletion_keeps_the_dependents(sandbox: Sandbox) -> None:
    sandbox.store.create(deployment("web", "nginx"))
    sandbox.wait_idle()
    sandbox.store.delete("deployments.apps", "default", "web", propagation="Orphan")
    sandbox.wait_idle()
    assert names(sandbox, "deployments.apps") == []
    replicasets = sandbox.store.list("replicasets.apps", "default")
    assert len(replicasets) == 1
    assert "ownerReferences" not in replicasets[0]["metadata"]
    assert len(names(sandbox, "pods", selector="app=web")) == 2


def test_namespace_termination_removes_everything_then_the_namespace(sandbox: Sandbox) -> None:
    sandbox.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    sandbox.store.create(deployment("web", "nginx", namespace="team"))
    sandbox.store.create(statefulset("db", replicas=1, namespace="team"))
    sandbox.wait_idle()
    assert sandbox.store.get("serviceaccounts", "team", "default") is not None
    sandbox.store.delete("namespaces", "", "team")
    assert sandbox.store.read("namespaces", "", "team")["status"]["phase"] == "Terminating"
    sandbox.wait_idle()
    assert sandbox.store.get("namespaces", "", "team") is None
    assert list(sandbox.store.namespaces_in_use("team")) == []
    assert sandbox.store.list("persistentvolumes") == []


def test_converged_cluster_makes_no_writes(sandbox: Sandbox) -> None:
    sandbox.store.create(deployment("web", "nginx", replicas=3))
    sandbox.store.create(statefulset("cache"))
    sandbox.wait_idle()
    version = sandbox.store.resource_version
    time.sleep(1.0)
    assert sandbox.store.resource_version == version
