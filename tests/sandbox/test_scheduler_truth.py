"""The scheduler says no as minikube's does, with the real FailedScheduling messages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sandbox_helpers import Kubectl, events_of, needs_kubectl, pod_json, table

from tutor.sandbox import Sandbox

pytestmark = needs_kubectl

NOT_HELPFUL = "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
NO_VICTIMS = "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."


def pod(name: str, **spec: Any) -> str:
    container: dict[str, Any] = {"name": "app", "image": "nginx:1.27"}
    for key in ("resources", "ports"):
        if key in spec:
            container[key] = spec.pop(key)
    return json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container], **spec}}
    )


def apply(kubectl: Kubectl, sandbox: Sandbox, *manifests: str) -> None:
    for manifest in manifests:
        kubectl("apply", "-f", "-", stdin=manifest, check=True)
    sandbox.wait_idle()


def failed_scheduling(kubectl: Kubectl, name: str) -> list[str]:
    return [m for _t, r, m, _c in events_of(kubectl, name) if r == "FailedScheduling"]


def phase(kubectl: Kubectl, name: str) -> str:
    return str(pod_json(kubectl, name)["status"]["phase"])


def test_the_node_is_minikubes_default_machine(sandbox: Sandbox, kubectl: Kubectl) -> None:
    described = kubectl("describe", "node", "mc-demo", check=True).stdout
    assert re.search(r"Allocatable:\s+cpu:\s+2\b", described)
    assert re.search(r"\bcpu\s+750m \(37%\)", described), "the control plane's requests are allocated"
    assert re.search(r"\bmemory\s+170Mi \(4%\)\s+170Mi \(4%\)", described)


def test_a_pod_asking_for_more_than_the_node_has_stays_pending(sandbox: Sandbox, kubectl: Kubectl) -> None:
    apply(
        kubectl,
        sandbox,
        pod("cpu", resources={"requests": {"cpu": "1500m"}}),
        pod("mem", resources={"requests": {"memory": "4Gi"}}),
        pod("both", resources={"limits": {"cpu": "3", "memory": "8Gi"}}),
        pod("fits", resources={"requests": {"cpu": "1", "memory": "1Gi"}}),
    )
    assert failed_scheduling(kubectl, "cpu") == [f"0/1 nodes are available: 1 Insufficient cpu. {NO_VICTIMS}"]
    assert failed_scheduling(kubectl, "mem") == [f"0/1 nodes are available: 1 Insufficient memory. {NO_VICTIMS}"]
    assert failed_scheduling(kubectl, "both") == [
        f"0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. {NO_VICTIMS}"
    ]
    rows = table(kubectl("get", "pods", check=True).stdout)
    assert {name: rows[name]["STATUS"] for name in rows} == {
        "cpu": "Pending",
        "mem": "Pending",
        "both": "Pending",
        "fits": "Running",
    }
    condition = next(c for c in pod_json(kubectl, "cpu")["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")


def test_scaling_past_capacity_leaves_pods_pending_until_room_is_made(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=1", check=True)
    kubectl("set", "resources", "deployment/web", "--requests=cpu=400m", check=True)
    # 750m for the control plane + 400m here + 2 x 400m: the third replica does not fit.
    apply(kubectl, sandbox, pod("hog", resources={"requests": {"cpu": "400m"}}))
    kubectl("scale", "deployment/web", "--replicas=3", check=True)
    sandbox.wait_idle()
    statuses = sorted(r["STATUS"] for r in table(kubectl("get", "pods", "-l", "app=web", check=True).stdout).values())
    assert statuses == ["Pending", "Running", "Running"]
    kubectl("delete", "pod", "hog", check=True)
    sandbox.wait_idle()
    statuses = [r["STATUS"] for r in table(kubectl("get", "pods", "-l", "app=web", check=True).stdout).values()]
    assert statuses == ["Running"] * 3


def test_a_node_selector_the_node_lacks_until_it_is_labelled(sandbox: Sandbox, kubectl: Kubectl) -> None:
    apply(kubectl, sandbox, pod("ssd", nodeSelector={"disktype": "ssd"}))
    assert failed_scheduling(kubectl, "ssd") == [
        f"0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. {NOT_HELPFUL}"
    ]
    kubectl("label", "node", "mc-demo", "disktype=ssd", check=True)
    sandbox.wait_idle()
    assert phase(kubectl, "ssd") == "Running"


@pytest.mark.parametrize(("operator", "fits"), [("In", True), ("NotIn", False)])
def test_required_node_affinity(sandbox: Sandbox, kubectl: Kubectl, operator: str, fits: bool) -> None:
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": operator, "values": ["mc-demo"]}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    apply(kubectl, sandbox, pod("placed", affinity=affinity))
    assert phase(kubectl, "placed") == ("Running" if fits else "Pending")


def test_taints_and_tolerations(sandbox: Sandbox, kubectl: Kubectl) -> None:
    apply(kubectl, sandbox, pod("before"))
    kubectl("taint", "nodes", "mc-demo", "dedicated=gpu:NoSchedule", check=True)
    toleration = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    apply(kubectl, sandbox, pod("plain"), pod("tolerant", tolerations=[toleration]))
    assert failed_scheduling(kubectl, "plain") == [
        f"0/1 nodes are available: 1 node(s) had untolerated taint {{dedicated: gpu}}. {NOT_HELPFUL}"
    ]
    assert (phase(kubectl, "tolerant"), phase(kubectl, "before")) == ("Running", "Running")
    kubectl("taint", "nodes", "mc-demo", "dedicated=gpu:NoSchedule-", check=True)
    sandbox.wait_idle()
    assert phase(kubectl, "plain") == "Running"
    # NoExecute also evicts what runs there and does not tolerate it.
    kubectl("taint", "nodes", "mc-demo", "maintenance=now:NoExecute", check=True)
    sandbox.wait_idle()
    assert kubectl("get", "pod", "before").returncode == 1
    assert sandbox.store.list("events", "default", field_selector="reason=TaintManagerEviction")


def test_a_cordoned_node_takes_no_new_pods(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("cordon", "mc-demo", check=True)
    apply(kubectl, sandbox, pod("late"))
    assert failed_scheduling(kubectl, "late") == [
        f"0/1 nodes are available: 1 node(s) were unschedulable. {NOT_HELPFUL}"
    ]
    kubectl("uncordon", "mc-demo", check=True)
    sandbox.wait_idle()
    assert phase(kubectl, "late") == "Running"


def test_host_ports_and_the_pod_limit(sandbox: Sandbox, kubectl: Kubectl) -> None:
    port = [{"containerPort": 80, "hostPort": 8080}]
    apply(kubectl, sandbox, pod("first", ports=port), pod("second", ports=port))
    assert failed_scheduling(kubectl, "second") == [
        f"0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. {NO_VICTIMS}"
    ]
    bound = sum(1 for p in sandbox.store.list("pods", None) if p["spec"].get("nodeName"))
    for i in range(110 - bound):
        sandbox.store.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"filler-{i}", "namespace": "default"},
                "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
            }
        )
    apply(kubectl, sandbox, pod("one-too-many"))
    assert failed_scheduling(kubectl, "one-too-many") == [f"0/1 nodes are available: 1 Too many pods. {NO_VICTIMS}"]


def test_the_client_reads_the_unschedulable_condition(sandbox: Sandbox, kubectl: Kubectl, kube_client: Any) -> None:
    from kubernetes import client

    apply(kubectl, sandbox, pod("cpu", resources={"requests": {"cpu": "4"}}))
    read = client.CoreV1Api(kube_client).read_namespaced_pod("cpu", "default")
    scheduled = next(c for c in read.status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    assert scheduled.message.startswith("0/1 nodes are available: 1 Insufficient cpu.")
