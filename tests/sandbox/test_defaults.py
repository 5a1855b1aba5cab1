"""The API fills in what a real server's defaulting fills in, so that `kubectl describe`,
`kubectl get` and the client read back the values a learner sees on minikube."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import Kubectl, needs_kubectl, table

from tutor.sandbox import Sandbox
from tutor.sandbox.admission import defaults, image_pull_policy

pytestmark = needs_kubectl


def described(kubectl: Kubectl, *what: str) -> dict[str, str]:
    """The top-level `Field: value` lines of `kubectl describe`."""
    out = kubectl("describe", *what, check=True).stdout
    fields = {}
    for line in out.splitlines():
        if line[:1].strip() and ":" in line:
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields


def as_json(kubectl: Kubectl, *what: str) -> Any:
    return json.loads(kubectl("get", *what, "-o", "json", check=True).stdout)


def apply(kubectl: Kubectl, obj: dict[str, Any]) -> Any:
    return kubectl("apply", "-f", "-", stdin=json.dumps(obj))


def test_describe_cronjob_shows_the_policy_and_history_limits(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "--", "date", check=True)
    fields = described(kubectl, "cronjob", "nightly")
    assert fields["Concurrency Policy"] == "Allow"
    assert fields["Suspend"] == "False"
    assert fields["Successful Job History Limit"] == "3"
    assert fields["Failed Job History Limit"] == "1"
    assert table(kubectl("get", "cronjobs", check=True).stdout)["nightly"]["SUSPEND"] == "False"
    template = as_json(kubectl, "cronjob", "nightly")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert (template["dnsPolicy"], template["schedulerName"], template["terminationGracePeriodSeconds"]) == (
        "ClusterFirst",
        "default-scheduler",
        30,
    )
    assert template["containers"][0]["terminationMessagePolicy"] == "File"


def test_a_cronjob_written_in_full_keeps_its_own_values(sandbox: Sandbox, kubectl: Kubectl) -> None:
    spec = {
        "schedule": "*/5 * * * *",
        "concurrencyPolicy": "Forbid",
        "suspend": True,
        "successfulJobsHistoryLimit": 0,
        "jobTemplate": {
            "spec": {
                "template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}
            }
        },
    }
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "own"}, "spec": spec}
    assert apply(kubectl, cronjob).returncode == 0
    fields = described(kubectl, "cronjob", "own")
    assert (fields["Concurrency Policy"], fields["Suspend"], fields["Successful Job History Limit"]) == (
        "Forbid",
        "True",
        "0",
    )
    assert fields["Failed Job History Limit"] == "1"


def test_a_job_reads_back_the_servers_defaults_and_its_pods_labels(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "job", "once", "--image=busybox", "--", "true", check=True)
    job = as_json(kubectl, "job", "once")
    spec = job["spec"]
    assert {k: spec[k] for k in ("completions", "parallelism", "backoffLimit", "completionMode", "suspend")} == {
        "completions": 1,
        "parallelism": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
    }
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert job["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "once"
    assert job["metadata"]["labels"] == spec["template"]["metadata"]["labels"]
    fields = described(kubectl, "job", "once")
    assert (fields["Parallelism"], fields["Completions"], fields["Completion Mode"]) == ("1", "1", "NonIndexed")


def test_a_parallel_job_without_completions_runs_until_one_pod_succeeds(sandbox: Sandbox, kubectl: Kubectl) -> None:
    container = {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pool"},
        "spec": {"parallelism": 3, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
    }
    assert apply(kubectl, job).returncode == 0
    assert "completions" not in as_json(kubectl, "job", "pool")["spec"]
    assert table(kubectl("get", "jobs", check=True).stdout)["pool"]["COMPLETIONS"] == "0/1 of 3"


@pytest.mark.parametrize("kind", ["Job", "CronJob"])
def test_a_job_template_that_would_restart_forever_is_refused(sandbox: Sandbox, kubectl: Kubectl, kind: str) -> None:
    template = {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    spec: dict[str, Any] = {"template": template}
    prefix = "spec.template.spec"
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": spec}}
        prefix = "spec.jobTemplate.spec.template.spec"
    result = apply(kubectl, {"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": "forever"}, "spec": spec})
    assert result.returncode == 1
    assert f'The {kind} "forever" is invalid: {prefix}.restartPolicy: Unsupported value: "Always"' in result.stderr
    assert 'supported values: "OnFailure", "Never"' in result.stderr
    assert sandbox.store.get(f"{kind.lower()}s.batch", "default", "forever") is None


def test_a_pods_limits_are_its_requests_when_it_names_none(sandbox: Sandbox, kubectl: Kubectl) -> None:
    limits = {"cpu": "3", "memory": "64Mi"}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "greedy"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "resources": {"limits": limits}}]},
    }
    assert apply(kubectl, pod).returncode == 0
    sandbox.wait_idle()
    found = as_json(kubectl, "pod", "greedy")
    assert found["spec"]["containers"][0]["resources"]["requests"] == limits
    assert found["status"]["qosClass"] == "Guaranteed"
    # It requests 3 CPUs of the node's 2: the scheduler says no, as on minikube.
    assert found["status"]["phase"] == "Pending"
    assert "Insufficient cpu" in kubectl("describe", "pod", "greedy", check=True).stdout


def test_a_deployments_template_keeps_its_limits_without_requests(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "deployment", "web", "--image=nginx:1.27", check=True)
    kubectl("set", "resources", "deployment", "web", "--limits=cpu=100m", check=True)
    sandbox.wait_idle()
    resources = as_json(kubectl, "deployment", "web")["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"cpu": "100m"}}
    pod = as_json(kubectl, "pods", "-l", "app=web")["items"][0]
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "100m"}


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("registry.k8s.io/pause:3.10", "IfNotPresent"),
        ("localhost:5000/tool", "Always"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_pods_services_and_policies_read_back_their_defaults(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("run", "web", "--image=nginx", check=True)
    spec = as_json(kubectl, "pod", "web")["spec"]
    assert {k: spec[k] for k in ("restartPolicy", "dnsPolicy", "schedulerName", "enableServiceLinks")} == {
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
    }
    assert (spec["terminationGracePeriodSeconds"], spec["priority"], spec["preemptionPolicy"]) == (
        30,
        0,
        "PreemptLowerPriority",
    )
    container = spec["containers"][0]
    assert (container["imagePullPolicy"], container["terminationMessagePath"]) == ("Always", "/dev/termination-log")

    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "sticky"},
        "spec": {"selector": {"run": "web"}, "sessionAffinity": "ClientIP", "ports": [{"port": 80}]},
    }
    assert apply(kubectl, service).returncode == 0
    svc = as_json(kubectl, "service", "sticky")["spec"]
    assert svc["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert (svc["type"], svc["ipFamilyPolicy"], svc["internalTrafficPolicy"]) == ("ClusterIP", "SingleStack", "Cluster")
    assert svc["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}

    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny"},
        "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]},
    }
    assert apply(kubectl, policy).returncode == 0
    netpol = as_json(kubectl, "networkpolicy", "deny")["spec"]
    assert netpol["policyTypes"] == ["Ingress", "Egress"]
    assert netpol["egress"][0]["ports"][0]["protocol"] == "TCP"


def test_an_hpa_without_min_replicas_or_a_target_reads_one_and_80_percent(sandbox: Sandbox, kubectl: Kubectl) -> None:
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 4},
    }
    assert apply(kubectl, hpa).returncode == 0
    row = table(kubectl("get", "hpa", check=True).stdout)["web"]
    assert (row["MINPODS"], row["TARGETS"]) == ("1", "cpu: <unknown>/80%")
    # `kubectl autoscale` without --cpu-percent leaves the target out too.
    for name in ("api", "own"):
        kubectl("create", "deployment", name, "--image=nginx:1.27", check=True)
    kubectl("autoscale", "deployment", "api", "--max=3", check=True)
    assert table(kubectl("get", "hpa", check=True).stdout)["api"]["TARGETS"] == "cpu: <unknown>/80%"
    kubectl("autoscale", "deployment", "own", "--max=3", "--cpu-percent=50", check=True)
    assert table(kubectl("get", "hpa", check=True).stdout)["own"]["TARGETS"] == "cpu: <unknown>/50%"


def test_the_client_reads_the_defaults_in_its_models(sandbox: Sandbox, kube_client: Any) -> None:
    from kubernetes import client

    batch = client.BatchV1Api(kube_client)
    container = {"name": "c", "image": "busybox"}
    template = {"spec": {"restartPolicy": "OnFailure", "containers": [container]}}
    batch.create_namespaced_cron_job(
        "default",
        {"metadata": {"name": "py"}, "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": template}}}},
    )
    spec = batch.read_namespaced_cron_job("py", "default").spec
    assert (spec.concurrency_policy, spec.suspend, spec.successful_jobs_history_limit) == ("Allow", False, 3)
    assert spec.failed_jobs_history_limit == 1


def test_the_defaults_are_data() -> None:
    loaded = defaults()
    assert loaded["kinds"]["cronjobs.batch"]["spec"]["concurrencyPolicy"] == "Allow"
    assert loaded["pod_spec"]["restartPolicy"] == "Always"
