"""The day55 lesson's kubectl commands against the sandbox, as a learner sees them."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from typing import Any

import pytest
from sandbox_helpers import KUBECTL, MANIFESTS, Kubectl, make_kubectl, needs_kubectl, table

from tests.polling import poll
from tutor.sandbox import Sandbox

pytestmark = needs_kubectl

STATEFUL = str(MANIFESTS / "pacman-stateful.yaml")
# The game is published only as :latest; a digest of it is another image that exists.
PINNED = "quay.io/ifont/pacman-nodejs-app@sha256:" + "5" * 64
INGRESS = str(MANIFESTS / "pacman-ingress.yaml")


@pytest.fixture
def deployed(sandbox: Sandbox, kubectl: Kubectl) -> Sandbox:
    kubectl("create", "-f", STATEFUL, check=True)
    sandbox.wait_idle()
    return sandbox


def test_create_prints_each_object_and_everything_comes_up(sandbox: Sandbox, kubectl: Kubectl) -> None:
    created = kubectl("create", "-f", STATEFUL, check=True)
    assert "namespace/pacman created" in created.stdout
    assert "statefulset.apps/mongo created" in created.stdout
    assert "deployment.apps/pacman created" in created.stdout
    sandbox.wait_idle()
    everything = kubectl("get", "all", "-n", "pacman", check=True).stdout
    assert re.search(r"pod/mongo-0\s+1/1\s+Running\s+0", everything)
    assert re.search(r"pod/pacman-[a-z0-9]+-[a-z0-9]{5}\s+1/1\s+Running", everything)
    assert re.search(r"service/pacman\s+LoadBalancer\s+127\.96\.\d+\.\d+\s+<pending>\s+80:3\d{4}/TCP", everything)
    assert re.search(r"service/mongo\s+ClusterIP\s+None\s+<none>\s+27017/TCP", everything)
    assert re.search(r"deployment.apps/pacman\s+1/1\s+1\s+1", everything)
    assert re.search(r"statefulset.apps/mongo\s+1/1", everything)
    assert re.search(r"replicaset.apps/pacman-[a-z0-9]+\s+1\s+1\s+1", everything)


def test_volume_and_claim_are_bound_to_each_other(deployed: Sandbox, kubectl: Kubectl) -> None:
    pvcs = table(kubectl("get", "pvc", "-n", "pacman", check=True).stdout)
    claim = pvcs["mongo-data-mongo-0"]
    assert claim["STATUS"] == "Bound"
    assert claim["CAPACITY"] == "1Gi"
    assert claim["ACCESS MODES"] == "RWO"
    assert claim["STORAGECLASS"] == "standard"
    pvs = table(kubectl("get", "pv", check=True).stdout)
    volume = pvs[claim["VOLUME"]]
    assert volume["CLAIM"] == "pacman/mongo-data-mongo-0"
    assert volume["STATUS"] == "Bound"
    assert volume["RECLAIM POLICY"] == "Delete"
    uid = deployed.store.read("persistentvolumeclaims", "pacman", "mongo-data-mongo-0")["metadata"]["uid"]
    assert claim["VOLUME"] == f"pvc-{uid}"


def test_the_default_class_moves_with_the_lesson_patches(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.store.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "csi-hostpath-sc"},
            "provisioner": "hostpath.csi.k8s.io",
        }
    )
    before = kubectl("get", "storageclass", check=True).stdout
    assert re.search(
        r"^standard \(default\)\s+k8s.io/minikube-hostpath\s+Delete\s+Immediate\s+false",
        before,
        re.M,
    )
    assert re.search(r"^csi-hostpath-sc\s+hostpath.csi.k8s.io", before, re.M)
    patched = kubectl(
        "patch",
        "storageclass",
        "csi-hostpath-sc",
        "-p",
        '{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}',
        check=True,
    )
    assert "storageclass.storage.k8s.io/csi-hostpath-sc patched" in patched.stdout
    kubectl(
        "patch",
        "storageclass",
        "standard",
        "-p",
        '{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}}',
        check=True,
    )
    after = kubectl("get", "sc", check=True).stdout
    assert re.search(r"^csi-hostpath-sc \(default\)", after, re.M)
    assert re.search(r"^standard\s+k8s.io/minikube-hostpath", after, re.M)


def test_deleting_mongo_0_returns_once_the_old_pod_is_gone_and_it_comes_back(
    deployed: Sandbox, kubectl: Kubectl
) -> None:
    old_uid = deployed.store.read("pods", "pacman", "mongo-0")["metadata"]["uid"]
    result = kubectl("delete", "pod", "mongo-0", "-n", "pacman", check=True, timeout=30)
    assert 'pod "mongo-0" deleted' in result.stdout
    kubectl(
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "name=mongo",
        "-n",
        "pacman",
        "--timeout=20s",
        check=True,
    )
    new = deployed.store.read("pods", "pacman", "mongo-0")
    assert new["metadata"]["uid"] != old_uid
    claim_volume = next(v for v in new["spec"]["volumes"] if v["name"] == "mongo-data")
    assert claim_volume["persistentVolumeClaim"]["claimName"] == "mongo-data-mongo-0"


def test_scaling_the_game_rolls_out_five_ready_pods(deployed: Sandbox, kubectl: Kubectl) -> None:
    scaled = kubectl("scale", "deployment", "pacman", "--replicas=5", "-n", "pacman", check=True)
    assert "deployment.apps/pacman scaled" in scaled.stdout
    status = kubectl("rollout", "status", "deployment/pacman", "-n", "pacman", "--timeout=20s", check=True)
    assert 'deployment "pacman" successfully rolled out' in status.stdout
    pods = table(kubectl("get", "pods", "-n", "pacman", "-l", "name=pacman", check=True).stdout)
    assert len(pods) == 5
    assert {p["READY"] for p in pods.values()} == {"1/1"}


def test_wait_for_ready_and_available(deployed: Sandbox, kubectl: Kubectl) -> None:
    ready = kubectl(
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "name=mongo",
        "-n",
        "pacman",
        "--timeout=10s",
        check=True,
    )
    assert "pod/mongo-0 condition met" in ready.stdout
    available = kubectl(
        "wait",
        "--for=condition=Available",
        "deployment/pacman",
        "-n",
        "pacman",
        "--timeout=10s",
        check=True,
    )
    assert "deployment.apps/pacman condition met" in available.stdout


def test_an_ingress_without_a_controller_has_no_address(deployed: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "-f", INGRESS, check=True)
    deployed.wait_idle()
    ingresses = table(kubectl("get", "ingress", "-n", "pacman", check=True).stdout)
    row = ingresses["pacman-ingress"]
    assert row["CLASS"] == "nginx"
    assert row["HOSTS"] == "pacman.com"
    assert row["PORTS"] == "80"
    assert row["ADDRESS"] == ""
    assert deployed.store.read("ingresses.networking.k8s.io", "pacman", "pacman-ingress")["status"] == {
        "loadBalancer": {}
    }


def test_describe_pod_shows_its_events(deployed: Sandbox, kubectl: Kubectl) -> None:
    described = kubectl("describe", "pod", "mongo-0", "-n", "pacman", check=True).stdout
    assert "Controlled By:  StatefulSet/mongo" in described
    assert "Events:" in described
    assert re.search(
        r"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+"
        r"Successfully assigned pacman/mongo-0 to mc-demo",
        described,
    )
    assert re.search(r"Normal\s+Started\s+\S+\s+kubelet\s+Started container mongo", described)


def test_apply_twice_is_unchanged_the_second_time(sandbox: Sandbox, kubectl: Kubectl) -> None:
    first = kubectl("apply", "-f", STATEFUL, check=True).stdout
    assert "statefulset.apps/mongo created" in first
    sandbox.wait_idle()
    second = kubectl("apply", "-f", STATEFUL, check=True).stdout
    for line in second.strip().splitlines():
        if line.startswith("secret/"):
            # stringData is write-only: kubectl always sees a difference, on any cluster.
            continue
        assert line.endswith("unchanged"), second


def test_apply_a_new_image_rolls_the_deployment(deployed: Sandbox, kubectl: Kubectl) -> None:
    manifest = (
        (MANIFESTS / "pacman-stateful.yaml").read_text().replace("quay.io/ifont/pacman-nodejs-app:latest", PINNED)
    )
    kubectl("apply", "-f", STATEFUL, check=True)
    applied = kubectl("apply", "-f", "-", stdin=manifest, check=True).stdout
    assert "deployment.apps/pacman configured" in applied
    kubectl("rollout", "status", "deployment/pacman", "-n", "pacman", "--timeout=20s", check=True)
    deployment = deployed.store.read("deployments.apps", "pacman", "pacman")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == PINNED
    assert next(e["name"] for e in container["env"]) == "MONGO_SERVICE_HOST", "the patch kept env"
    pods = deployed.store.list("pods", "pacman", label_selector="name=pacman")
    assert [p["spec"]["containers"][0]["image"] for p in pods] == [PINNED]


def test_delete_f_removes_everything_including_the_namespace(deployed: Sandbox, kubectl: Kubectl) -> None:
    deleted = kubectl("delete", "-f", STATEFUL, timeout=60)
    assert deleted.returncode == 0, deleted.stderr
    assert 'namespace "pacman" deleted' in deleted.stdout
    assert 'statefulset.apps "mongo" deleted' in deleted.stdout
    namespaces = kubectl("get", "ns", check=True).stdout
    assert "pacman" not in namespaces
    assert deployed.store.list("pods", "pacman") == []
    assert deployed.store.list("persistentvolumes") == [], "the claim went with the namespace, Delete policy"


def test_get_events_lists_what_happened(deployed: Sandbox, kubectl: Kubectl) -> None:
    events = kubectl("get", "events", "-n", "pacman", check=True).stdout
    assert re.search(r"Normal\s+ProvisioningSucceeded\s+persistentvolumeclaim/mongo-data-mongo-0", events)
    assert re.search(
        r"Normal\s+SuccessfulCreate\s+statefulset/mongo\s+"
        r"create Pod mongo-0 in StatefulSet mongo successful",
        events,
    )


def test_second_create_reports_already_exists(deployed: Sandbox, kubectl: Kubectl) -> None:
    again = kubectl("create", "-f", STATEFUL)
    assert again.returncode == 1
    assert (
        f'Error from server (AlreadyExists): error when creating "{STATEFUL}": statefulsets.apps '
        '"mongo" already exists' in again.stderr
    )


def test_not_found_errors(sandbox: Sandbox, kubectl: Kubectl) -> None:
    missing = kubectl("get", "pod", "nope", "-n", "default")
    assert missing.returncode == 1
    assert 'Error from server (NotFound): pods "nope" not found' in missing.stderr
    no_ns = kubectl("get", "pods", "-n", "nowhere")
    assert no_ns.returncode == 0
    assert "No resources found in nowhere namespace." in no_ns.stderr
    unknown = kubectl("get", "frobnicators")
    assert unknown.returncode == 1
    assert 'the server doesn\'t have a resource type "frobnicators"' in unknown.stderr


def test_mongo_waits_pending_while_no_class_can_provision_its_claim(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl(
        "patch",
        "storageclass",
        "standard",
        "-p",
        '{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}}',
        check=True,
    )
    kubectl("create", "-f", STATEFUL, check=True)
    sandbox.wait_idle()
    pods = table(kubectl("get", "pods", "-n", "pacman", "-l", "name=mongo", check=True).stdout)
    assert pods["mongo-0"]["STATUS"] == "Pending"
    pvc = table(kubectl("get", "pvc", "-n", "pacman", check=True).stdout)["mongo-data-mongo-0"]
    assert pvc["STATUS"] == "Pending"
    assert pvc["STORAGECLASS"] == "<unset>"
    described = kubectl("describe", "pod", "mongo-0", "-n", "pacman", check=True).stdout
    assert "FailedScheduling" in described
    assert "pod has unbound immediate PersistentVolumeClaims" in described
    # Making a class the default again binds the waiting claim retroactively.
    kubectl(
        "patch",
        "storageclass",
        "standard",
        "-p",
        '{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}',
        check=True,
    )
    kubectl("wait", "--for=condition=Ready", "pod/mongo-0", "-n", "pacman", "--timeout=20s", check=True)
    assert (
        table(kubectl("get", "pvc", "-n", "pacman", check=True).stdout)["mongo-data-mongo-0"]["STORAGECLASS"]
        == "standard"
    )


def test_get_watch_prints_rows_as_pods_change(deployed: Sandbox, kubectl: Kubectl) -> None:
    assert KUBECTL is not None
    env = deployed.env(base={k: v for k, v in os.environ.items() if not k.startswith("KUBE")})
    proc = subprocess.Popen(
        [KUBECTL, "get", "pods", "-n", "pacman", "-l", "name=mongo", "-w", "--request-timeout=0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        poll(lambda: len(lines), lambda seen: seen >= 2, within=10)
        kubectl("delete", "pod", "mongo-0", "-n", "pacman", check=True)
        poll(lambda: any("Terminating" in line for line in lines), bool, within=10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=10)
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert any(re.match(r"mongo-0\s+1/1\s+Terminating", line) for line in lines), lines


def test_the_converged_lesson_makes_no_writes(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "-f", STATEFUL, check=True)
    kubectl("create", "-f", INGRESS, check=True)
    sandbox.wait_idle()
    version = sandbox.store.resource_version
    time.sleep(1.0)
    assert sandbox.store.resource_version == version


def test_typed_create_works_with_todays_kubectl(sandbox_factory: Any) -> None:
    # v1.33 makes the dispatcher run kubectl 1.33, which sends this as protobuf.
    sb = sandbox_factory(kubernetes_version="v1.33.0")
    created = make_kubectl(sb)("create", "namespace", "typed")
    assert created.returncode == 0, created.stderr
    assert "namespace/typed created" in created.stdout
    assert sb.store.get("namespaces", "", "typed") is not None
