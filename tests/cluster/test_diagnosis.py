"""Each diagnosis rule, one by one: the finding a learner reads and the command it names."""

from __future__ import annotations

import time
from typing import Any

from tests.cluster import factory as f
from tutor.cluster.diagnosis import (
    RULES,
    Case,
    cluster_rules,
    diagnose,
    event_rules,
    network_rules,
    pod_rules,
    storage_rules,
)
from tutor.cluster.results import Finding, Subject
from tutor.cluster.status import ConnectionStatus
from tutor.cluster.view import StaticView


def case(items: list[dict[str, Any]], *subjects: Subject, **more: Any) -> Case:
    connection = more.pop("connection", None)
    return Case(StaticView(items, connection=connection), subjects, **more)


def pod_subject(name: str = "mongo-0") -> Subject:
    return Subject("pod", name, "pacman")


def only(findings: Any) -> Finding:
    found = list(findings)
    assert len(found) == 1, found
    return found[0]


def test_api_unreachable() -> None:
    down = ConnectionStatus(
        "unreachable", time.time(), last_error="connection refused", server="https://127.0.0.1:8443"
    )
    finding = only(cluster_rules.api_unreachable(case([], connection=down, profile="mc-demo")))
    assert finding.message.startswith("https://127.0.0.1:8443 does not answer (cluster unreachable since")
    assert finding.command == "minikube -p mc-demo status"
    assert list(cluster_rules.api_unreachable(case([]))) == []


def test_namespace_terminating() -> None:
    finding = only(cluster_rules.namespace_terminating(case([f.namespace("pacman", terminating=True)], pod_subject())))
    assert "namespace pacman is being deleted (Terminating)" in finding.message
    assert finding.command == "kubectl get namespace pacman"
    assert list(cluster_rules.namespace_terminating(case([f.namespace("pacman")], pod_subject()))) == []


def test_image_pull_names_the_image() -> None:
    pod = f.pod(
        "mongo-0",
        ready=False,
        containers={"mongo": "docker.io/library/mongo:5.0.30"},
        statuses=[
            f.container_status(
                "mongo", waiting="ImagePullBackOff", message='Back-off pulling image "docker.io/library/mongo:5.0.30"'
            )
        ],
    )
    finding = only(pod_rules.image_pull(case([pod], pod_subject())))
    assert finding.message.startswith(
        "mongo-0 cannot pull the image docker.io/library/mongo:5.0.30 for container mongo (ImagePullBackOff)"
    )
    assert finding.evidence == ('Back-off pulling image "docker.io/library/mongo:5.0.30"',)
    assert finding.command == "kubectl describe pod mongo-0 -n pacman"


def test_image_pull_of_an_init_container() -> None:
    pod = f.pod(
        "mongo-0",
        ready=False,
        init={"perms": "bitnami/bitnami-shell:10"},
        init_statuses=[f.container_status("perms", waiting="ErrImagePull")],
    )
    assert "for init container perms (ErrImagePull)" in only(pod_rules.image_pull(case([pod], pod_subject()))).message


def test_crash_loop_with_restarts_and_last_exit() -> None:
    status = f.container_status(
        "mongo", waiting="CrashLoopBackOff", restarts=5, lastState={"terminated": {"exitCode": 132, "reason": "Error"}}
    )
    pod = f.pod("mongo-0", ready=False, containers={"mongo": "mongo:5"}, statuses=[status])
    finding = only(pod_rules.crash_loop(case([pod], pod_subject())))
    assert "container mongo of mongo-0 keeps crashing (CrashLoopBackOff, 5 restarts)" in finding.message
    assert finding.evidence == ("last exit code 132 (Error)",)
    assert finding.command == "kubectl logs mongo-0 -n pacman -c mongo --previous"


def test_container_config_error() -> None:
    status = f.container_status(
        "mongo", waiting="CreateContainerConfigError", message='secret "mongodb-users-secret" not found'
    )
    pod = f.pod("mongo-0", ready=False, containers={"mongo": "mongo:5"}, statuses=[status])
    finding = only(pod_rules.container_config(case([pod], pod_subject())))
    assert finding.evidence == ('secret "mongodb-users-secret" not found',)


def test_unschedulable_because_of_an_unbound_claim() -> None:
    conditions = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
        }
    ]
    pod = f.pod("mongo-0", ready=False, claims=("mongo-data-mongo-0",), conditions=conditions, statuses=[])
    finding = only(pod_rules.unschedulable(case([pod, f.pvc("mongo-data-mongo-0", phase="Pending")], pod_subject())))
    assert (
        finding.message
        == "mongo-0 cannot be scheduled: its claim mongo-data-mongo-0 (Pending) is not bound to a volume yet"
    )


def test_unschedulable_for_lack_of_cpu() -> None:
    conditions = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 Insufficient cpu.",
        }
    ]
    pod = f.pod("pacman-x", ready=False, conditions=conditions, statuses=[])
    assert only(pod_rules.unschedulable(case([pod], pod_subject("pacman-x")))).message == (
        "pacman-x cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu."
    )


def test_init_containers_still_running() -> None:
    pod = f.pod(
        "mongo-0",
        ready=False,
        init={"perms": "shell"},
        init_statuses=[f.container_status("perms")],
        statuses=[f.container_status("main", waiting="PodInitializing")],
    )
    finding = only(pod_rules.init_containers(case([pod], pod_subject())))
    assert finding.message == "mongo-0 is still running its init container perms (Init:0/1)"
    assert finding.command == "kubectl logs mongo-0 -n pacman -c perms"


def test_recent_events_put_warnings_first() -> None:
    items = [
        f.pod("mongo-0", ready=False),
        f.event("mongo-0", "Scheduled", "assigned pacman/mongo-0 to mc-demo", at="2024-01-01T00:00:20Z"),
        f.event(
            "mongo-0",
            "FailedScheduling",
            "pod has unbound immediate PersistentVolumeClaims",
            type_="Warning",
            at="2024-01-01T00:00:05Z",
            count=3,
        ),
        f.event("other", "Pulled", "not about mongo-0"),
    ]
    finding = only(event_rules.recent_events(case(items, pod_subject())))
    assert finding.message == "events of pod mongo-0 (1 warning)"
    assert finding.evidence[0].startswith("Warning FailedScheduling (")
    assert "x3): pod has unbound immediate PersistentVolumeClaims" in finding.evidence[0]
    assert finding.evidence[1].startswith("Normal Scheduled")
    assert len(finding.evidence) == 2
    assert finding.command == "kubectl get events -n pacman --field-selector involvedObject.name=mongo-0"


def test_pvc_without_class_and_no_default() -> None:
    items = [
        f.pod("mongo-0", ready=False, claims=("data",)),
        f.pvc("data", phase="Pending"),
        f.storage_class("standard", default="false"),
    ]
    finding = only(storage_rules.pvc_pending(case(items, pod_subject())))
    assert finding.rule == "pvc_no_storageclass"
    assert "names no StorageClass and the cluster has no default one" in finding.message
    assert finding.command == "kubectl get storageclass"


def test_pvc_waiting_for_external_provisioner() -> None:
    message = (
        "Waiting for a volume to be created either by the external provisioner 'hostpath.csi.k8s.io' "
        "or manually by the system administrator."
    )
    items = [
        f.pvc("data", phase="Pending", storage_class="csi-hostpath-sc"),
        f.storage_class("csi-hostpath-sc", provisioner="hostpath.csi.k8s.io"),
        f.event("data", "ExternalProvisioning", message, kind="PersistentVolumeClaim"),
    ]
    finding = only(storage_rules.pvc_pending(case(items, Subject("persistentvolumeclaim", "data", "pacman"))))
    assert finding.message.startswith(
        "claim data is waiting for a volume to be created by external provisioner hostpath.csi.k8s.io"
    )
    assert finding.evidence == (message,)
    assert finding.command == "kubectl get pods -n kube-system -l kubernetes.io/minikube-addons=csi-hostpath-driver"


def test_pvc_class_missing_and_provisioning_failed() -> None:
    missing = only(
        storage_rules.pvc_pending(
            case(
                [f.pvc("data", phase="Pending", storage_class="fast")],
                Subject("persistentvolumeclaim", "data", "pacman"),
            )
        )
    )
    assert missing.message == "claim data asks for StorageClass fast, which does not exist"
    items = [
        f.pvc("data", phase="Pending", storage_class="fast"),
        f.storage_class("fast", provisioner="kubernetes.io/no-provisioner-here"),
        f.event("data", "ProvisioningFailed", "disk full", kind="PersistentVolumeClaim", type_="Warning"),
    ]
    failed = only(storage_rules.pvc_pending(case(items, Subject("persistentvolumeclaim", "data", "pacman"))))
    assert failed.rule == "pvc_provisioning_failed" and failed.evidence == ("disk full",)


def test_two_defaults_say_which_and_which_wins() -> None:
    items = [
        f.storage_class("standard", default="true", metadata={"creationTimestamp": "2024-01-01T00:00:00Z"}),
        f.storage_class("csi-hostpath-sc", default="true", metadata={"creationTimestamp": "2024-01-02T00:00:00Z"}),
    ]
    finding = only(storage_rules.default_class_count(case(items, check_kind="default_storageclass")))
    assert finding.message.startswith("2 StorageClasses are marked as the default: csi-hostpath-sc, standard.")
    assert "use the newest (csi-hostpath-sc)" in finding.message


def test_zero_defaults_only_matter_to_storage_checks() -> None:
    items = [f.storage_class("standard", default="false")]
    assert (
        only(storage_rules.default_class_count(case(items, check_kind="default_storageclass"))).rule
        == "no_default_storageclass"
    )
    assert list(storage_rules.default_class_count(case(items, check_kind="exists"))) == []


def test_minikube_restart_reset_the_default() -> None:
    items = [f.storage_class("standard", default="true"), f.storage_class("csi-hostpath-sc", default="false")]
    finding = only(
        storage_rules.minikube_restarted_default(case(items, wanted_default="csi-hostpath-sc", profile="mc-demo"))
    )
    assert "minikube does this when it starts an existing profile" in finding.message
    assert "minikube -p mc-demo addons disable default-storageclass" in finding.message
    # A fresh addon leaves csi-hostpath-sc unannotated: that is not a restart.
    fresh = [f.storage_class("standard", default="true"), f.storage_class("csi-hostpath-sc")]
    assert list(storage_rules.minikube_restarted_default(case(fresh, wanted_default="csi-hostpath-sc"))) == []


def test_ingress_without_controller() -> None:
    finding = only(
        network_rules.ingress_controller(
            case([f.ingress("pacman-ingress")], Subject("ingress", "pacman-ingress", "pacman"))
        )
    )
    assert finding.rule == "ingress_no_controller"
    assert "asks for IngressClass nginx, which does not exist" in finding.message
    assert finding.command == "kubectl get ingressclass"


def test_ingress_class_without_running_controller() -> None:
    items = [
        f.ingress("i"),
        f.ingress_class("nginx"),
        f.deployment("ingress-nginx-controller", "ingress-nginx", available=0),
    ]
    finding = only(network_rules.ingress_controller(case(items, Subject("ingress", "i", "pacman"))))
    assert (
        finding.message == "the ingress controller is not running: "
        "deployment ingress-nginx-controller in ingress-nginx has no available replica"
    )


def test_ingress_without_class_or_default() -> None:
    items = [f.ingress("i", ingress_class=None), f.ingress_class("other", default=False)]
    assert (
        only(network_rules.ingress_controller(case(items, Subject("ingress", "i", "pacman")))).rule
        == "ingress_no_class"
    )


def test_ingress_no_address() -> None:
    finding = only(network_rules.ingress_no_address(case([f.ingress("i")], Subject("ingress", "i", "pacman"))))
    assert finding.command == "kubectl describe ingress i -n pacman"
    assert (
        list(
            network_rules.ingress_no_address(
                case([f.ingress("i", address="1.2.3.4")], Subject("ingress", "i", "pacman"))
            )
        )
        == []
    )


def test_loadbalancer_pending() -> None:
    finding = only(
        network_rules.loadbalancer_pending(
            case([f.service("pacman", type_="LoadBalancer")], Subject("service", "pacman", "pacman"), profile="mc-demo")
        )
    )
    assert "EXTERNAL-IP is <pending>" in finding.message and "minikube -p mc-demo tunnel" in finding.message
    assert (
        list(
            network_rules.loadbalancer_pending(
                case(
                    [f.service("pacman", type_="LoadBalancer", address="127.0.0.1")],
                    Subject("service", "pacman", "pacman"),
                )
            )
        )
        == []
    )


def test_rollout_stuck() -> None:
    conditions = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet has timed out progressing.",
        }
    ]
    finding = only(
        network_rules.rollout_stuck(
            case([f.deployment("pacman", conditions=conditions)], Subject("deployment", "pacman", "pacman"))
        )
    )
    assert finding.evidence == ("ReplicaSet has timed out progressing.",)


def test_diagnose_runs_root_causes_before_events() -> None:
    pod = f.pod("mongo-0", ready=False, statuses=[f.container_status("main", waiting="ImagePullBackOff")])
    items = [pod, f.event("mongo-0", "Failed", "pull failed", type_="Warning")]
    rules = [finding.rule for finding in diagnose(case(items, pod_subject()))]
    assert rules == ["image_pull", "recent_events"]
    assert len(RULES) == len({rule.__name__ for rule in RULES})
