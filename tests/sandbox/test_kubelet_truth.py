"""The simulated kubelet fails as a real one does, as the real kubectl shows it.

Every test here runs on a ManualClock: back-offs, probe periods and grace periods are
seconds of the cluster's time, moved by the test, never waited for.
"""

from __future__ import annotations

import json
import subprocess
import threading
from typing import Any

import pytest
from sandbox_helpers import KUBECTL, Kubectl, advance, api, events_of, needs_kubectl, pod_json, table

from tutor.sandbox import ManualClock, Sandbox

pytestmark = needs_kubectl


def status_of(kubectl: Kubectl, name: str) -> dict[str, str]:
    return table(kubectl("get", "pod", name, check=True).stdout)[name]


def container_status(kubectl: Kubectl, name: str) -> dict[str, object]:
    statuses: list[dict[str, object]] = pod_json(kubectl, name)["status"]["containerStatuses"]
    return statuses[0]


def count_of(kubectl: Kubectl, name: str, reason: str) -> int:
    return sum(count for _t, r, _m, count in events_of(kubectl, name) if r == reason)


# ---- images ------------------------------------------------------------------------------


def test_an_unknown_tag_fails_to_pull_then_backs_off_10_20_40_seconds(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("run", "web", "--image=nginx:1.99", check=True)
    timed.wait_idle()
    assert status_of(kubectl, "web")["STATUS"] == "ErrImagePull"
    events = events_of(kubectl, "web")
    assert [(t, r) for t, r, _m, _c in events] == [
        ("Normal", "Scheduled"),
        ("Normal", "Pulling"),
        ("Warning", "Failed"),
        ("Warning", "Failed"),
    ]
    assert events[2][2] == (
        'Failed to pull image "nginx:1.99": Error response from daemon: manifest for nginx:1.99 not found: '
        "manifest unknown: manifest unknown"
    )
    assert events[3][2] == "Error: ErrImagePull"
    advance(timed, clock, 1)
    assert status_of(kubectl, "web")["STATUS"] == "ImagePullBackOff"
    assert ("Normal", "BackOff", 'Back-off pulling image "nginx:1.99"', 1) in events_of(kubectl, "web")
    assert pod_json(kubectl, "web")["status"]["phase"] == "Pending"
    # The next pull comes 10 s after the failure, the one after 20 s later, then 40.
    since_failure = 1
    for wait in (10, 20, 40):
        pulls = count_of(kubectl, "web", "Pulling")
        advance(timed, clock, wait - since_failure - 1)
        assert count_of(kubectl, "web", "Pulling") == pulls, f"retried before {wait}s"
        advance(timed, clock, 1)
        assert count_of(kubectl, "web", "Pulling") == pulls + 1, f"not retried after {wait}s"
        since_failure = 0
    assert "Back-off pulling image" in kubectl("describe", "pod", "web", check=True).stdout


def test_a_repository_that_does_not_exist_and_a_bad_name(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl("run", "typo", "--image=nginxx", check=True)
    # kubectl run refuses the name itself; a manifest reaches the node.
    upper = "apiVersion: v1\nkind: Pod\nmetadata: {name: upper}\nspec: {containers: [{name: c, image: Nginx}]}\n"
    kubectl("apply", "-f", "-", stdin=upper, check=True)
    timed.wait_idle()
    failed = [m for _t, r, m, _c in events_of(kubectl, "typo") if r == "Failed"]
    assert failed[0] == (
        'Failed to pull image "nginxx": Error response from daemon: pull access denied for nginxx, repository does '
        "not exist or may require 'docker login': denied: requested access to the resource is denied"
    )
    assert status_of(kubectl, "upper")["STATUS"] == "InvalidImageName"
    assert any(r == "InspectFailed" for _t, r, _m, _c in events_of(kubectl, "upper"))


def test_fixing_the_image_of_a_pod_restarts_it_with_the_new_one(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl("run", "web", "--image=nginx:1.99", check=True)
    timed.wait_idle()
    kubectl("set", "image", "pod/web", "web=nginx:1.27", check=True)
    timed.wait_idle()
    assert status_of(kubectl, "web")["READY"] == "1/1"


# ---- exits and restarts ------------------------------------------------------------------


def test_a_crashing_container_restarts_once_then_backs_off_doubling(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("run", "crash", "--image=busybox:1.36", "--", "sh", "-c", "echo boom; exit 3", check=True)
    timed.wait_idle()
    row = status_of(kubectl, "crash")
    assert (row["STATUS"], row["READY"], row["RESTARTS"].split()[0]) == ("CrashLoopBackOff", "0/1", "1")
    status = container_status(kubectl, "crash")
    assert status["lastState"] == {
        "terminated": {**status["lastState"]["terminated"], "exitCode": 3, "reason": "Error"}
    }  # type: ignore[index]
    assert str(status["state"]["waiting"]["message"]).startswith(  # type: ignore[index]
        "back-off 10s restarting failed container=crash pod=crash_default("
    )
    for restarts, next_wait in ((2, 20), (3, 40), (4, 80)):
        advance(timed, clock, next_wait // 2)
        status = container_status(kubectl, "crash")
        assert status["restartCount"] == restarts
        assert str(status["state"]["waiting"]["message"]).startswith(f"back-off {next_wait}s")  # type: ignore[index]
    described = kubectl("describe", "pod", "crash", check=True).stdout
    assert "Back-off restarting failed container crash in pod crash_default" in described
    assert pod_json(kubectl, "crash")["status"]["phase"] == "Running"


def test_the_back_off_starts_over_after_ten_minutes_of_running(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("run", "slow", "--image=busybox:1.36", "--", "sh", "-c", "sleep 700; exit 1", check=True)
    kubectl("run", "quick", "--image=busybox:1.36", "--", "sh", "-c", "sleep 100; exit 1", check=True)
    timed.wait_idle()
    advance(timed, clock, 100)  # quick exits: restarted at once
    advance(timed, clock, 100)  # quick exits again within 10 min of the first: back-off
    assert status_of(kubectl, "quick")["STATUS"] == "CrashLoopBackOff"
    advance(timed, clock, 500)  # slow exits the first time, restarted at once
    advance(timed, clock, 700)  # and again, but 700 s later: the back-off has expired
    status = container_status(kubectl, "slow")
    assert status["restartCount"] == 2
    assert "running" in status["state"]  # type: ignore[operator]


def test_busybox_with_nothing_to_do_completes_and_a_deployment_crash_loops(
    timed: Sandbox, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("create", "deployment", "bb", "--image=busybox", check=True)
    timed.wait_idle()
    pod = kubectl("get", "pods", "-l", "app=bb", "-o", "name", check=True).stdout.strip().removeprefix("pod/")
    assert status_of(kubectl, pod)["STATUS"] == "CrashLoopBackOff"
    last = container_status(kubectl, pod)["lastState"]
    assert last["terminated"]["reason"] == "Completed" and last["terminated"]["exitCode"] == 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("policy", "script", "status", "phase"),
    [
        ("Never", "echo done", "Completed", "Succeeded"),
        ("Never", "exit 2", "Error", "Failed"),
        ("OnFailure", "exit 0", "Completed", "Succeeded"),
        ("OnFailure", "exit 1", "CrashLoopBackOff", "Running"),
    ],
)
def test_restart_policies_decide_what_an_exit_means(
    timed: Sandbox, timed_kubectl: Kubectl, policy: str, script: str, status: str, phase: str
) -> None:
    kubectl = timed_kubectl
    kubectl("run", "once", "--image=busybox:1.36", f"--restart={policy}", "--", "sh", "-c", script, check=True)
    timed.wait_idle()
    assert status_of(timed_kubectl, "once")["STATUS"] == status
    assert pod_json(kubectl, "once")["status"]["phase"] == phase


def test_a_server_that_needs_a_setting_crash_loops_and_logs_why(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl("run", "db", "--image=postgres:16", check=True)
    timed.wait_idle()
    assert status_of(kubectl, "db")["STATUS"] == "CrashLoopBackOff"
    logs = kubectl("logs", "db", check=True).stdout
    assert "Database is uninitialized and superuser password is not specified." in logs
    kubectl("run", "db2", "--image=postgres:16", "--env=POSTGRES_PASSWORD=secret", check=True)
    timed.wait_idle()
    assert status_of(kubectl, "db2")["STATUS"] == "Running"
    assert "database system is ready to accept connections" in kubectl("logs", "db2", check=True).stdout


# ---- logs --------------------------------------------------------------------------------


def test_logs_are_what_the_command_printed_and_previous_is_the_last_run(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl(
        "run",
        "count",
        "--image=busybox:1.36",
        "--",
        "sh",
        "-c",
        'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done',
        check=True,
    )
    kubectl("run", "web", "--image=nginx:1.27", check=True)
    timed.wait_idle()
    advance(timed, clock, 5)
    assert kubectl("logs", "count", check=True).stdout.splitlines() == [f"tick {i}" for i in range(6)]
    assert kubectl("logs", "count", "--tail=2", check=True).stdout.splitlines() == ["tick 4", "tick 5"]
    stamped = kubectl("logs", "count", "--tail=1", "--timestamps", check=True).stdout
    assert stamped.endswith(" tick 5\n") and stamped[:4].isdigit()
    assert "Configuration complete; ready for start up" in kubectl("logs", "web", check=True).stdout
    previous = kubectl("logs", "web", "--previous")
    assert previous.returncode == 1
    assert previous.stderr.strip() == (
        'Error from server (BadRequest): previous terminated container "web" in pod "web" not found'
    )


def test_logs_previous_after_a_restart(timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl(
        "run", "job", "--image=busybox:1.36", "--", "sh", "-c", "echo run at $(date +%s); sleep 5; exit 1", check=True
    )
    timed.wait_idle()
    advance(timed, clock, 5)
    assert container_status(kubectl, "job")["restartCount"] == 1
    assert kubectl("logs", "job", "--previous", check=True).stdout.startswith("run at")


def test_logs_of_a_container_that_cannot_start_say_why(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("run", "bad", "--image=nginx:1.99", check=True)
    timed.wait_idle()
    first = kubectl("logs", "bad")
    assert first.stderr.strip() == (
        'Error from server (BadRequest): container "bad" in pod "bad" is waiting to start: image can\'t be pulled'
    )
    advance(timed, clock, 1)
    assert kubectl("logs", "bad").stderr.strip().endswith("is waiting to start: trying and failing to pull image")


def test_logs_of_a_pod_with_two_containers(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    manifest = """
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  containers:
    - {name: app, image: busybox:1.36, command: [sh, -c, "echo from app; sleep infinity"]}
    - {name: side, image: busybox:1.36, command: [sh, -c, "echo from side; sleep infinity"]}
"""
    kubectl("apply", "-f", "-", stdin=manifest, check=True)
    timed.wait_idle()
    assert kubectl("logs", "two", "-c", "side", check=True).stdout == "from side\n"
    # kubectl checks the container name itself; the API server answers others.
    for query, message in (
        ("?container=nope", "container nope is not valid for pod two"),
        ("", "a container name must be specified for pod two, choose one of: [app side]"),
    ):
        refused = api(timed, "GET", f"/api/v1/namespaces/default/pods/two/log{query}")
        answer = refused.json()
        assert (refused.status, answer["reason"], answer["message"]) == (400, "BadRequest", message)


def test_logs_follow_streams_until_the_container_ends(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl(
        "run",
        "talk",
        "--image=busybox:1.36",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo one; sleep 5; echo two",
        check=True,
    )
    timed.wait_idle()
    assert KUBECTL is not None
    follower = subprocess.Popen(
        [KUBECTL, "logs", "-f", "talk"],
        env=timed.env(base={}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()
        assert first == "one\n"
        moved = threading.Event()
        threading.Thread(target=lambda: (advance(timed, clock, 5), moved.set()), daemon=True).start()
        assert follower.stdout.readline() == "two\n"
        assert follower.wait(timeout=30) == 0
        assert moved.wait(10)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
        for stream in (follower.stdout, follower.stderr):
            if stream is not None:
                stream.close()


# ---- probes ------------------------------------------------------------------------------

PROBED = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers:
    - name: app
      image: {image}
      {probe}
"""


def test_a_readiness_probe_on_a_closed_port_keeps_the_pod_unready(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl(
        "apply",
        "-f",
        "-",
        stdin=PROBED.format(name="closed", image="nginx:1.27", probe="readinessProbe: {httpGet: {path: /, port: 8080}}")
        + "---"
        + PROBED.format(
            name="missing", image="nginx:1.27", probe="readinessProbe: {httpGet: {path: /healthz, port: 80}}"
        )
        + "---"
        + PROBED.format(name="fine", image="nginx:1.27", probe="readinessProbe: {httpGet: {path: /, port: 80}}"),
        check=True,
    )
    timed.wait_idle()
    rows = table(kubectl("get", "pods", check=True).stdout)
    assert (rows["closed"]["READY"], rows["closed"]["STATUS"]) == ("0/1", "Running")
    assert rows["missing"]["READY"] == "0/1"
    assert rows["fine"]["READY"] == "1/1"
    ip = pod_json(kubectl, "closed")["status"]["podIP"]
    unhealthy = [(m, c) for _t, r, m, c in events_of(kubectl, "closed") if r == "Unhealthy"]
    assert unhealthy == [
        (f'Readiness probe failed: Get "http://{ip}:8080/": dial tcp {ip}:8080: connect: connection refused', 1)
    ]
    assert [m for _t, r, m, _c in events_of(kubectl, "missing") if r == "Unhealthy"] == [
        "Readiness probe failed: HTTP probe failed with statuscode: 404"
    ]
    advance(timed, clock, 30)  # every periodSeconds (10) another failure
    assert count_of(kubectl, "closed", "Unhealthy") == 4
    assert status_of(kubectl, "closed")["READY"] == "0/1"


def test_a_failing_liveness_probe_restarts_the_container(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    """The Kubernetes documentation's exec liveness example, second by second."""
    kubectl = timed_kubectl
    probe = (
        "args: [/bin/sh, -c, 'touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600']\n"
        "      livenessProbe: {exec: {command: [cat, /tmp/healthy]}, initialDelaySeconds: 3, periodSeconds: 5}"
    )
    kubectl(
        "apply", "-f", "-", stdin=PROBED.format(name="liveness-exec", image="busybox:1.36", probe=probe), check=True
    )
    timed.wait_idle()
    advance(timed, clock, 30)
    assert not any(r == "Unhealthy" for _t, r, _m, _c in events_of(kubectl, "liveness-exec"))
    advance(timed, clock, 15)  # failures at 33, 38, 43: the third kills it
    events = events_of(kubectl, "liveness-exec")
    assert (
        "Warning",
        "Unhealthy",
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory",
        3,
    ) in events
    assert ("Normal", "Killing", "Container app failed liveness probe, will be restarted", 1) in events
    advance(timed, clock, 28)  # the shell ignores SIGTERM: killed at the end of the grace period
    status = container_status(kubectl, "liveness-exec")
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 137  # type: ignore[index]


def test_tcp_probes_see_what_the_image_listens_on(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl(
        "apply",
        "-f",
        "-",
        stdin=PROBED.format(name="redis", image="redis:7", probe="readinessProbe: {tcpSocket: {port: 6379}}")
        + "---"
        + PROBED.format(name="wrong", image="redis:7", probe="readinessProbe: {tcpSocket: {port: 6380}}"),
        check=True,
    )
    timed.wait_idle()
    rows = table(kubectl("get", "pods", check=True).stdout)
    assert (rows["redis"]["READY"], rows["wrong"]["READY"]) == ("1/1", "0/1")


# ---- configuration -------------------------------------------------------------------


def test_a_missing_configmap_blocks_the_container_until_it_exists(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    manifest = """
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  restartPolicy: Never
  containers:
    - name: app
      image: busybox:1.36
      command: [sh, -c, 'echo "color=$COLOR"; cat /etc/config/size']
      env:
        - name: COLOR
          valueFrom: {configMapKeyRef: {name: settings, key: color}}
      volumeMounts: [{name: config, mountPath: /etc/config}]
  volumes:
    - {name: config, configMap: {name: sizes}}
"""
    kubectl("apply", "-f", "-", stdin=manifest, check=True)
    timed.wait_idle()
    assert status_of(kubectl, "app")["STATUS"] == "ContainerCreating"
    assert (
        "Warning",
        "FailedMount",
        'MountVolume.SetUp failed for volume "config" : configmap "sizes" not found',
        1,
    ) in events_of(kubectl, "app")
    kubectl("create", "configmap", "sizes", "--from-literal=size=large", check=True)
    timed.wait_idle()
    assert status_of(kubectl, "app")["STATUS"] == "CreateContainerConfigError"
    waiting = container_status(kubectl, "app")["state"]["waiting"]  # type: ignore[index]
    assert waiting["message"] == 'configmap "settings" not found'
    kubectl("create", "configmap", "settings", "--from-literal=color=blue", check=True)
    timed.wait_idle()
    assert status_of(kubectl, "app")["STATUS"] == "Completed"
    assert kubectl("logs", "app", check=True).stdout == "color=blue\nlarge\n"


# ---- termination ---------------------------------------------------------------------


def test_a_deleted_pod_shows_terminating_for_its_grace_period(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("run", "sleeper", "--image=busybox:1.36", "--", "sleep", "3600", check=True)
    kubectl("run", "web", "--image=nginx:1.27", check=True)
    timed.wait_idle()
    kubectl("delete", "pod", "sleeper", "web", "--wait=false", check=True)
    timed.wait_idle()
    rows = table(kubectl("get", "pods", check=True).stdout)
    # nginx stops on SIGTERM; a sleep as PID 1 ignores it and is killed after 30 s.
    assert "web" not in rows
    assert (rows["sleeper"]["READY"], rows["sleeper"]["STATUS"]) == ("0/1", "Terminating")
    advance(timed, clock, 29)
    assert "sleeper" in table(kubectl("get", "pods", check=True).stdout)
    advance(timed, clock, 1)
    assert "No resources found" in kubectl("get", "pods", check=True).stderr


def test_events_are_named_by_time_and_listed_in_the_order_they_happened(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl("run", "web", "--image=nginx:1.27", "--image-pull-policy=Always", check=True)
    timed.wait_idle()
    listed = kubectl("get", "events", "--field-selector", "involvedObject.name=web", "-o", "name", check=True)
    names = [line.removeprefix("event/") for line in listed.stdout.split()]
    assert [r for _t, r, _m, _c in events_of(kubectl, "web")] == [
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
    ]
    assert all(n.startswith("web.") for n in names)
    stamps = [int(n.removeprefix("web."), 16) for n in names]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_the_client_reads_logs_and_the_kubelets_refusal(sandbox: Sandbox, kubectl: Kubectl, kube_client: Any) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    kubectl("run", "crash", "--image=busybox:1.36", "--", "sh", "-c", "echo boom; exit 1", check=True)
    kubectl("run", "web", "--image=nginx:1.27", check=True)
    sandbox.wait_idle()
    core = client.CoreV1Api(kube_client)
    assert core.read_namespaced_pod_log("crash", "default", previous=True) == "boom\n"
    pod = core.read_namespaced_pod("crash", "default")
    assert pod.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
    with pytest.raises(ApiException) as refused:
        core.read_namespaced_pod_log("web", "default", previous=True)
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["message"] == 'previous terminated container "web" in pod "web" not found'
