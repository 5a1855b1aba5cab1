"""The controllers kubectl reads: EndpointSlices, rollout history and undo, stalled rollouts."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox_helpers import Kubectl, advance, needs_kubectl, table

from tutor.sandbox import ManualClock, Sandbox

pytestmark = needs_kubectl

PROBED_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          readinessProbe: {{httpGet: {{path: {path}, port: 80}}}}
"""


def ips(kubectl: Kubectl, selector: str) -> list[str]:
    pods = json.loads(kubectl("get", "pods", "-l", selector, "-o", "json", check=True).stdout)["items"]
    return sorted(p["status"]["podIP"] for p in pods)


def endpoints_line(described: str) -> str:
    match = re.search(r"^Endpoints:[ \t]*(.*)$", described, re.M)
    assert match, described
    return match.group(1).strip()


def test_describe_service_reads_the_slices_and_they_agree_with_endpoints(
    sandbox: Sandbox, kubectl: Kubectl, kube_client: Any
) -> None:
    from kubernetes import client

    kubectl("apply", "-f", "-", stdin=PROBED_DEPLOYMENT.format(name="web", replicas=2, path="/"), check=True)
    kubectl("expose", "deployment/web", "--port=80", check=True)
    kubectl("create", "service", "clusterip", "nothing", "--tcp=80:80", check=True)  # selects app=nothing
    sandbox.wait_idle()
    ready = ips(kubectl, "app=web")
    assert endpoints_line(kubectl("describe", "service", "web", check=True).stdout) == ",".join(
        f"{ip}:80" for ip in ready
    )
    # A slice with no endpoints: kubectl prints nothing there (<none> is for no slice at all).
    assert endpoints_line(kubectl("describe", "service", "nothing", check=True).stdout) == ""
    slices = client.DiscoveryV1Api(kube_client).list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=web"
    )
    assert len(slices.items) == 1
    endpoint_slice = slices.items[0]
    assert endpoint_slice.metadata.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert endpoint_slice.metadata.owner_references[0].kind == "Service"
    assert sorted(e.addresses[0] for e in endpoint_slice.endpoints if e.conditions.ready) == ready
    assert [(p.port, p.protocol) for p in endpoint_slice.ports] == [(80, "TCP")]
    legacy = client.CoreV1Api(kube_client).read_namespaced_endpoints("web", "default")
    assert sorted(a.ip for a in legacy.subsets[0].addresses) == ready


def test_an_unready_pod_is_listed_as_not_ready(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=PROBED_DEPLOYMENT.format(name="web", replicas=1, path="/healthz"), check=True)
    kubectl("expose", "deployment/web", "--port=80", check=True)
    sandbox.wait_idle()
    (ip,) = ips(kubectl, "app=web")
    # kubectl 1.31 lists a slice's endpoints whatever their readiness.
    assert endpoints_line(kubectl("describe", "service", "web", check=True).stdout) == f"{ip}:80"
    endpoints = json.loads(kubectl("get", "endpoints", "web", "-o", "json", check=True).stdout)
    assert [a["ip"] for a in endpoints["subsets"][0]["notReadyAddresses"]] == [ip]
    (endpoint_slice,) = json.loads(
        kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json", check=True).stdout
    )["items"]
    assert endpoint_slice["endpoints"][0]["conditions"] == {"ready": False, "serving": False, "terminating": False}


def test_describe_ingress_names_the_backends_pods(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=PROBED_DEPLOYMENT.format(name="web", replicas=1, path="/"), check=True)
    kubectl("expose", "deployment/web", "--port=80", check=True)
    kubectl("create", "ingress", "web", "--rule=web.example/*=web:80", check=True)
    sandbox.wait_idle()
    (ip,) = ips(kubectl, "app=web")
    assert f"web:80 ({ip}:80)" in kubectl("describe", "ingress", "web", check=True).stdout


def revisions(kubectl: Kubectl) -> list[tuple[str, str]]:
    history = kubectl("rollout", "history", "deployment/web", check=True).stdout
    return re.findall(r"^(\d+)\s+(\S+)", history, re.M)


def test_rollout_undo_brings_back_the_old_replicaset_and_renumbers_history(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", check=True)
    for cause, image in (("first", None), ("second", "nginx:1.26"), ("third", "nginx:1.25")):
        if image:
            kubectl("set", "image", "deployment/web", f"nginx={image}", check=True)
        kubectl("annotate", "deployment/web", f"kubernetes.io/change-cause={cause}", "--overwrite", check=True)
        sandbox.wait_idle()
    assert revisions(kubectl) == [("1", "first"), ("2", "second"), ("3", "third")]
    before = set(table(kubectl("get", "rs", check=True).stdout))
    assert kubectl("rollout", "undo", "deployment/web", "--to-revision=2", check=True).stdout.strip() == (
        "deployment.apps/web rolled back"
    )
    kubectl("rollout", "status", "deployment/web", "--timeout=20s", check=True)
    replicasets = table(kubectl("get", "rs", check=True).stdout)
    assert set(replicasets) == before, "no new ReplicaSet: the one of revision 2 came back"
    assert revisions(kubectl) == [("1", "first"), ("3", "third"), ("4", "second")]
    second = json.loads(kubectl("get", "rs", "-o", "json", check=True).stdout)["items"]
    back = next(r for r in second if r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4")
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "2"
    assert back["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert replicasets[back["metadata"]["name"]]["READY"] == "2"
    kubectl("rollout", "undo", "deployment/web", check=True)
    sandbox.wait_idle()
    assert revisions(kubectl) == [("1", "first"), ("4", "second"), ("5", "third")]
    assert set(table(kubectl("get", "rs", check=True).stdout)) == before


def test_a_rollout_that_cannot_progress_exceeds_its_deadline(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", check=True)
    kubectl("patch", "deployment/web", "-p", '{"spec": {"progressDeadlineSeconds": 60}}', check=True)
    timed.wait_idle()
    kubectl("set", "image", "deployment/web", "nginx=nginx:9.9", check=True)
    timed.wait_idle()
    rows = table(kubectl("get", "pods", check=True).stdout)
    assert sorted(r["STATUS"] for r in rows.values()) == ["ErrImagePull", "Running", "Running"]
    advance(timed, clock, 61)
    deployment = json.loads(kubectl("get", "deployment", "web", "-o", "json", check=True).stdout)
    progressing = next(c for c in deployment["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    stalled = kubectl("rollout", "status", "deployment/web", "--timeout=10s")
    assert stalled.returncode == 1
    assert 'deployment "web" exceeded its progress deadline' in stalled.stderr
    # The old pods still serve: a failed rollout does not take the application down.
    assert table(kubectl("get", "deployment", "web", check=True).stdout)["web"]["READY"] == "2/2"
