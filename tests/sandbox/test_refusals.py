"""What the sandbox does not simulate is refused at once, saying it is the sandbox's limit
and what to do on a real cluster: never a 404 that reads as a missing object, never a hang.
Run with the real kubectl, as a learner would type them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import Kubectl, api, make_kubectl, needs_kubectl

from tutor.sandbox import Sandbox

pytestmark = needs_kubectl

QUICK = 10.0
"""Seconds a refused command may take at most; a real kubectl run of these takes ~0.1-0.3 s."""


def timed(kubectl: Kubectl, *args: str, stdin: str | None = None) -> tuple[Any, float]:
    started = time.monotonic()
    result = kubectl(*args, timeout=60, stdin=stdin)
    return result, time.monotonic() - started


@pytest.fixture
def web(sandbox: Sandbox, kubectl: Kubectl) -> Kubectl:
    kubectl("run", "web", "--image=nginx", check=True)
    kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=30s", check=True)
    return kubectl


def limit_said(stderr: str) -> bool:
    return "k8s-tutor sandbox" in stderr and "real cluster" in stderr and "not found" not in stderr


def test_exec_is_refused_at_once_with_the_reason(web: Kubectl) -> None:
    result, took = timed(web, "exec", "web", "--", "ls", "/")
    assert result.returncode == 1
    assert took < QUICK
    assert result.stderr.startswith("Error from server (NotImplemented): ")
    assert limit_said(result.stderr)
    assert '"ls /"' in result.stderr


def test_exec_into_a_missing_pod_is_still_a_404(web: Kubectl) -> None:
    result = web("exec", "nope", "--", "ls")
    assert result.returncode == 1
    assert 'pods "nope" not found' in result.stderr


def test_cp_both_ways_is_refused_with_the_reason(web: Kubectl, tmp_path: Any) -> None:
    out, took = timed(web, "cp", "web:/etc/hosts", str(tmp_path / "hosts"))
    assert (out.returncode, took < QUICK) == (1, True)
    assert limit_said(out.stderr)
    assert "tar" in out.stderr
    local = tmp_path / "local.txt"
    local.write_text("x")
    into = web("cp", str(local), "web:/tmp/local.txt")
    assert into.returncode == 1
    assert limit_said(into.stderr)


def test_attach_is_refused_at_once(web: Kubectl) -> None:
    result, took = timed(web, "attach", "web")
    assert (result.returncode, took < QUICK) == (1, True)
    assert limit_said(result.stderr)


def test_run_interactive_returns_at_once_with_the_reason_and_removes_its_pod(
    sandbox: Sandbox, kubectl: Kubectl
) -> None:
    result, took = timed(kubectl, "run", "scratch", "-i", "--rm", "--image=busybox", "--", "sh", stdin="")
    assert took < QUICK
    assert "couldn't attach to pod/scratch" in result.stderr
    assert limit_said(result.stderr)
    assert 'pod "scratch" deleted' in result.stdout
    sandbox.wait_idle()  # the deleted pod goes once its container has stopped
    assert sandbox.store.get("pods", "default", "scratch") is None


GENEROUS = 45.0
"""Seconds a command that must not wait for kubectl's one-minute pod timeout may take."""


@pytest.mark.parametrize(
    ("version", "flags"),
    # kubectl 1.27 attaches over SPDY alone; 1.31 and 1.33 try a WebSocket first.
    [("v1.27.0", ["-i"]), ("v1.31.0", ["-i"]), ("v1.31.0", ["-it"]), ("v1.33.0", ["-it"])],
)
def test_run_interactive_never_restarting_ends_when_its_stdin_closes(
    sandbox_factory: Callable[..., Sandbox], version: str, flags: list[str]
) -> None:
    # kubectl waits for a --restart=Never pod to complete; the refused attach is a session
    # that ended, so the shell reads end of file and exits, as once a real client goes.
    sandbox = sandbox_factory(kubernetes_version=version)
    kubectl = make_kubectl(sandbox)
    result, took = timed(
        kubectl, "run", *flags, "--rm", "--restart=Never", "shell", "--image=busybox", "--", "sh", stdin=""
    )
    assert took < GENEROUS, result.stderr
    assert result.returncode == 0, result.stderr
    assert "timed out" not in result.stderr
    assert limit_said(result.stderr)
    assert 'pod "shell" deleted' in result.stdout
    sandbox.wait_idle()
    assert sandbox.store.get("pods", "default", "shell") is None


def test_run_interactive_shows_what_the_script_printed_around_its_input(kubectl: Kubectl) -> None:
    result, took = timed(
        kubectl,
        "run",
        "-i",
        "--restart=Never",
        "script",
        "--image=busybox",
        "--",
        "sh",
        "-c",
        "echo before; cat; echo after",
        stdin="",
    )
    assert (result.returncode, took < GENEROUS) == (0, True), result.stderr
    assert result.stdout.split() == ["before", "after"]
    status = kubectl("get", "pod", "script", "-o", "jsonpath={.status.phase}", check=True).stdout
    assert status == "Succeeded"


def test_run_interactive_passes_on_the_exit_code(kubectl: Kubectl) -> None:
    result, took = timed(
        kubectl, "run", "-i", "--rm", "--restart=Never", "fails", "--image=busybox", "--", "sh", "-c", "cat; exit 3"
    )
    assert took < GENEROUS
    assert result.returncode == 3
    assert "pod default/fails terminated (Error)" in result.stderr


def test_an_attach_refused_to_the_client_ends_its_session_too(sandbox: Sandbox, kube_client: Any) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import stream

    core = client.CoreV1Api(kube_client)
    container = {"name": "sh", "image": "busybox", "stdin": True, "stdinOnce": True}
    core.create_namespaced_pod(
        "default", {"metadata": {"name": "py"}, "spec": {"restartPolicy": "Never", "containers": [container]}}
    )
    sandbox.wait_idle()
    with pytest.raises(ApiException) as refused:
        stream(core.connect_get_namespaced_pod_attach, "py", "default", stdin=True, stdout=True, tty=False)
    assert "k8s-tutor sandbox" in str(refused.value)
    sandbox.wait_idle()
    assert core.read_namespaced_pod("py", "default").status.phase == "Succeeded"


def test_an_attach_without_stdin_or_without_stdin_once_leaves_the_shell_running(
    sandbox: Sandbox, kubectl: Kubectl
) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "open"},
        "spec": {"containers": [{"name": "sh", "image": "busybox", "stdin": True, "tty": True}]},
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(manifest), check=True)
    kubectl("wait", "--for=condition=Ready", "pod/open", "--timeout=30s", check=True)
    for flags in ([], ["-i"]):
        result = kubectl("attach", *flags, "open", stdin="")
        assert result.returncode == 1 and limit_said(result.stderr)
    sandbox.wait_idle()
    pod = sandbox.store.read("pods", "default", "open")
    assert pod["status"]["phase"] == "Running"
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0


def test_attach_to_a_stdin_once_container_ends_its_shell_which_restarts(sandbox: Sandbox, kubectl: Kubectl) -> None:
    container = {"name": "sh", "image": "busybox", "stdin": True, "stdinOnce": True}
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "again"}, "spec": {"containers": [container]}}
    kubectl("apply", "-f", "-", stdin=json.dumps(manifest), check=True)
    kubectl("wait", "--for=condition=Ready", "pod/again", "--timeout=30s", check=True)
    plain = kubectl("attach", "again")  # no stdin: nothing is closed
    assert plain.returncode == 1
    sandbox.wait_idle()
    assert sandbox.store.read("pods", "default", "again")["status"]["containerStatuses"][0]["restartCount"] == 0
    kubectl("attach", "-i", "again", stdin="")
    sandbox.wait_idle()
    status = sandbox.store.read("pods", "default", "again")["status"]["containerStatuses"][0]
    # restartPolicy Always: the shell exited 0 at the end of its input; a new one waits.
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Completed"
    assert "running" in status["state"]


@pytest.mark.parametrize("flags", [["-it"], []])
def test_debug_with_an_ephemeral_container_is_refused_at_once(web: Kubectl, flags: list[str]) -> None:
    result, took = timed(web, "debug", *flags, "web", "--image=busybox", "--", "sh", stdin="")
    assert (result.returncode, took < QUICK) == (1, True)
    assert "Error from server (NotImplemented): " in result.stderr
    assert "`kubectl debug`" in result.stderr and limit_said(result.stderr)
    assert "ephemeral containers are disabled" not in result.stderr
    missing = web("debug", "nope", "--image=busybox")
    assert 'pods "nope" not found' in missing.stderr


@pytest.mark.parametrize("path", ["/metrics", "/logs/", "/debug/pprof/"])
def test_the_api_servers_own_internals_are_refused_not_missing(kubectl: Kubectl, path: str) -> None:
    result = kubectl("get", "--raw", path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error from server (NotImplemented): ")
    assert "the server could not find" not in result.stderr and limit_said(result.stderr)


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (["get", "cs"], "ComponentStatus"),
        (["get", "csr"], "CertificateSigningRequest"),
        (["certificate", "approve", "alice"], "CertificateSigningRequest"),
        (["get", "runtimeclass"], "RuntimeClass"),
        (["get", "flowschemas"], "FlowSchema"),
        (["get", "validatingadmissionpolicies"], "ValidatingAdmissionPolicy"),
        (["get", "apiservices"], "APIService"),
    ],
)
def test_kinds_a_real_cluster_serves_are_known_and_refused(kubectl: Kubectl, args: list[str], kind: str) -> None:
    # A real cluster has them: "the server doesn't have a resource type" would be a lie.
    result, took = timed(kubectl, *args)
    assert (result.returncode, took < QUICK) == (1, True)
    assert result.stderr.startswith("Error from server (NotImplemented): ")
    assert f"does not model {kind} objects" in result.stderr and limit_said(result.stderr)
    assert "doesn't have a resource type" not in result.stderr


def test_the_client_hears_the_same_refusal(sandbox: Sandbox, kube_client: Any) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as refused:
        client.CertificatesV1Api(kube_client).list_certificate_signing_request()
    assert refused.value.status == 501
    assert "does not model CertificateSigningRequest objects" in json.loads(refused.value.body)["message"]


def test_port_forward_through_the_api_names_the_stand_in(web: Kubectl) -> None:
    result, took = timed(web, "port-forward", "pod/web", "0:80")
    assert (result.returncode, took < QUICK) == (1, True)
    assert "does not serve port-forwarding through its API" in result.stderr
    assert "shims" in result.stderr


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/namespaces/default/pods/web/proxy/",
        "/api/v1/namespaces/default/pods/web:80/proxy/index.html",
        "/api/v1/namespaces/default/services/web:80/proxy/highscores",
        "/api/v1/nodes/mc-demo/proxy/metrics",
    ],
)
def test_proxy_paths_are_refused_not_missing(sandbox: Sandbox, web: Kubectl, path: str) -> None:
    if "services" in path:
        web("expose", "pod", "web", "--port=80", check=True)
    result = web("get", "--raw", path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error from server (NotImplemented): ")
    assert "does not proxy HTTP through its API" in result.stderr


@pytest.mark.parametrize("what", [["pod"], ["pod", "-A"], ["node"]])
def test_top_says_there_are_no_figures_and_how_to_get_them(kubectl: Kubectl, what: list[str]) -> None:
    result, took = timed(kubectl, "top", *what)
    assert (result.returncode, took < QUICK) == (1, True)
    assert result.stderr.startswith("Error from server (ServiceUnavailable): ")
    assert "metrics-server" in result.stderr
    assert limit_said(result.stderr)


def test_the_refusals_are_status_objects_for_any_client(sandbox: Sandbox, web: Kubectl) -> None:
    answer = api(sandbox, "POST", "/api/v1/namespaces/default/pods/web/exec?command=date&stdout=true")
    assert answer.status == 501
    status = answer.json()
    assert (status["kind"], status["reason"]) == ("Status", "NotImplemented")
    assert '"date"' in status["message"]
    metrics = api(sandbox, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")
    assert (metrics.status, metrics.json()["reason"]) == (503, "ServiceUnavailable")
    discovery = json.loads(api(sandbox, "GET", "/api/v1").body)
    names = {r["name"] for r in discovery["resources"]}
    assert {"pods/exec", "pods/attach", "pods/portforward", "pods/proxy", "services/proxy"} <= names
    assert "pods/ephemeralcontainers" in names
