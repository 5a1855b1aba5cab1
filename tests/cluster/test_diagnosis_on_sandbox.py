"""The tutor's diagnosis of failing pods, end to end: a pod fails on the sandbox as it
would on minikube, a check watches it through the real client, and the finding the
learner reads names the cause and a command that shows it (which then works)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster.conftest import KUBECTL, activate, kubectl
from tests.polling import wait_until
from tutor.cluster.results import Finding


@pytest.fixture
def clock() -> Any:
    from tutor.sandbox import ManualClock

    return ManualClock()


@pytest.fixture
def sandbox(clock: Any) -> Iterator[Any]:
    """The cluster on a clock the test moves: back-offs and deadlines without waiting."""
    from tutor.sandbox import Delays, Sandbox

    with Sandbox(delays=Delays.instant(), profile="mc-demo", started=True, clock=clock) as sb:
        yield sb


def finding(rec: Any, check: str, rule: str) -> Finding:
    def found() -> Finding | None:
        result = rec.last(check)
        return next((f for f in result.findings if f.rule == rule), None) if result else None

    return wait_until(found, what=f"a {rule} finding for {check}")  # type: ignore[no-any-return]


def run_suggested(sb: Any, command: str | None) -> subprocess.CompletedProcess[str]:
    """Run the command a finding suggests, as the learner would."""
    assert command and command.startswith("kubectl "), command
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    return subprocess.run(
        [KUBECTL, *command.split()[1:]], env={**os.environ, **sb.env()}, capture_output=True, text=True, timeout=60
    )


def test_an_image_that_does_not_exist(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, pods=("pods_ready", {"selector": "app=web"}))
    kubectl(sandbox, "create", "namespace", "pacman")
    kubectl(sandbox, "create", "deployment", "web", "--image=nginx:1.99", "-n", "pacman")
    found = finding(rec, "pods", "image_pull")
    assert "cannot pull the image nginx:1.99 for container nginx" in found.message
    described = run_suggested(sandbox, found.command)
    assert 'Failed to pull image "nginx:1.99"' in described.stdout


def test_a_crashing_container_and_the_log_that_says_why(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, pods=("pods_ready", {"selector": "app=crashy"}))
    kubectl(sandbox, "create", "namespace", "pacman")
    kubectl(
        sandbox,
        "create",
        "deployment",
        "crashy",
        "--image=busybox:1.36",
        "-n",
        "pacman",
        "--",
        "sh",
        "-c",
        "echo 'config file /etc/app.conf not found'; exit 3",
    )
    found = finding(rec, "pods", "crash_loop")
    assert found.evidence == ("last exit code 3 (Error)",)
    logs = run_suggested(sandbox, found.command)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout == "config file /etc/app.conf not found\n"


def test_a_pod_the_node_has_no_room_for(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, pods=("pods_ready", {"selector": "app=big"}))
    kubectl(sandbox, "create", "namespace", "pacman")
    kubectl(sandbox, "create", "deployment", "big", "--image=nginx:1.27", "-n", "pacman")
    kubectl(sandbox, "set", "resources", "deployment/big", "-n", "pacman", "--requests=cpu=3")
    found = finding(rec, "pods", "unschedulable")
    assert "cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu." in found.message


def test_a_readiness_probe_that_fails_then_a_rollout_that_stalls(sandbox: Any, clock: Any, engine: Any) -> None:
    eng, rec = engine
    activate(
        eng,
        pods=("pods_ready", {"selector": "app=web"}),
        rollout=("rollout_complete", {"object": "deployment/web", "replicas": 1}),
    )
    kubectl(sandbox, "create", "namespace", "pacman")
    manifest = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: pacman}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          readinessProbe: {httpGet: {path: /ready, port: 80}}
"""
    kubectl(sandbox, "apply", "-f", "-", stdin=manifest)
    events = finding(rec, "pods", "recent_events")
    assert any("Readiness probe failed: HTTP probe failed with statuscode: 404" in line for line in events.evidence)
    assert rec.status_of("pods") != "pass"
    clock.advance(601)  # the default progressDeadlineSeconds
    sandbox.wait_idle()
    stuck = finding(rec, "rollout", "rollout_stuck")
    assert stuck.message == "deployment web is stuck: ProgressDeadlineExceeded"
    (evidence,) = stuck.evidence
    assert evidence.startswith('ReplicaSet "web-') and evidence.endswith('" has timed out progressing.')
