"""What the sandbox does not simulate is refused at once, saying it is the sandbox's limit
and what to do on a real cluster: never a 404 that reads as a missing object, never a hang.
Run with the real kubectl, as a learner would type them."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sandbox_helpers import Kubectl, api, needs_kubectl

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
    assert sandbox.store.get("pods", "default", "scratch") is None


def test_a_refused_attach_is_an_ended_session_for_the_kubelet(sandbox: Sandbox, web: Kubectl) -> None:
    ended: list[tuple[str, str, str]] = []
    sandbox.server.on_attach_ended = lambda *where: ended.append(where)
    web("attach", "web")
    assert ended[-1] == ("default", "web", "web")


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
