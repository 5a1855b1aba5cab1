"""Jobs finish or fail as the real Job controller decides; CronJobs run on the clock."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import Kubectl, advance, events_of, make_kubectl, needs_kubectl, table

from tutor.sandbox import ManualClock, Sandbox

pytestmark = needs_kubectl


def job(name: str, script: str, *, policy: str = "Never", image: str = "busybox:1.36", **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name},
            "spec": {
                **spec,
                "template": {
                    "spec": {
                        "restartPolicy": policy,
                        "containers": [{"name": "work", "image": image, "command": ["sh", "-c", script]}],
                    }
                },
            },
        }
    )


def conditions(kubectl: Kubectl, name: str, kind: str = "job") -> list[tuple[str, str, str]]:
    found = json.loads(kubectl("get", kind, name, "-o", "json", check=True).stdout)
    return [(c["type"], c["status"], c.get("reason", "")) for c in found["status"].get("conditions") or []]


def job_row(kubectl: Kubectl, name: str) -> dict[str, str]:
    return table(kubectl("get", "job", name, check=True).stdout)[name]


def pods_of(kubectl: Kubectl, name: str) -> dict[str, dict[str, str]]:
    output = kubectl("get", "pods", "-l", f"job-name={name}", check=True).stdout
    return table(output) if output.strip() else {}


def test_a_job_past_its_backoff_limit_fails_and_never_completes(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("apply", "-f", "-", stdin=job("once", "echo trying; exit 1", backoffLimit=0), check=True)
    timed.wait_idle()
    assert conditions(kubectl, "once") == [
        ("FailureTarget", "True", "BackoffLimitExceeded"),
        ("Failed", "True", "BackoffLimitExceeded"),
    ]
    assert job_row(kubectl, "once")["STATUS"] == "Failed"
    assert job_row(kubectl, "once")["COMPLETIONS"] == "0/1"
    assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit", 1) in events_of(
        kubectl, "once"
    )
    waited = kubectl("wait", "--for=condition=failed", "job/once", "--timeout=5s")
    assert waited.returncode == 0, waited.stderr
    assert [r["STATUS"] for r in pods_of(kubectl, "once").values()] == ["Error"]
    advance(timed, clock, 600)
    assert job_row(kubectl, "once")["STATUS"] == "Failed"


def test_failed_pods_are_replaced_after_the_controllers_back_off(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("apply", "-f", "-", stdin=job("retry", "exit 1", backoffLimit=2), check=True)
    timed.wait_idle()
    assert len(pods_of(kubectl, "retry")) == 1
    advance(timed, clock, 9)
    assert len(pods_of(kubectl, "retry")) == 1, "replaced before the 10 s back-off"
    advance(timed, clock, 1)
    assert len(pods_of(kubectl, "retry")) == 2
    advance(timed, clock, 20)
    assert len(pods_of(kubectl, "retry")) == 3
    assert conditions(kubectl, "retry")[-1] == ("Failed", "True", "BackoffLimitExceeded")
    status = json.loads(kubectl("get", "job", "retry", "-o", "json", check=True).stdout)["status"]
    assert status["failed"] == 3 and "succeeded" not in status


def test_on_failure_restarts_count_against_the_limit(
    timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl
) -> None:
    kubectl = timed_kubectl
    kubectl("apply", "-f", "-", stdin=job("flaky", "exit 1", policy="OnFailure", backoffLimit=2), check=True)
    timed.wait_idle()
    advance(timed, clock, 10)  # restarted at once, then after the kubelet's 10 s back-off
    assert conditions(kubectl, "flaky")[-1] == ("Failed", "True", "BackoffLimitExceeded")
    assert pods_of(kubectl, "flaky") == {}, "the failing Job deletes its running pod"


def test_completions_and_parallelism(timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl("apply", "-f", "-", stdin=job("three", "sleep 5; echo done", completions=3, parallelism=2), check=True)
    timed.wait_idle()
    assert [r["STATUS"] for r in pods_of(kubectl, "three").values()] == ["Running", "Running"]
    assert job_row(kubectl, "three")["COMPLETIONS"] == "0/3"
    advance(timed, clock, 5)
    assert job_row(kubectl, "three")["COMPLETIONS"] == "2/3"
    advance(timed, clock, 5)
    assert (job_row(kubectl, "three")["STATUS"], job_row(kubectl, "three")["COMPLETIONS"]) == ("Complete", "3/3")
    assert ("Complete", "True", "CompletionsReached") in conditions(kubectl, "three")
    assert kubectl("wait", "--for=condition=complete", "job/three", "--timeout=5s").returncode == 0


def test_an_active_deadline_ends_the_job(timed: Sandbox, clock: ManualClock, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    kubectl("apply", "-f", "-", stdin=job("slow", "sleep 3600", activeDeadlineSeconds=20), check=True)
    timed.wait_idle()
    advance(timed, clock, 20)
    assert conditions(kubectl, "slow") == [("FailureTarget", "True", "DeadlineExceeded")]
    assert [r["STATUS"] for r in pods_of(kubectl, "slow").values()] == ["Terminating"]
    advance(timed, clock, 30)  # the sleep ignores SIGTERM: its pod goes after the grace period
    assert conditions(kubectl, "slow")[-1] == ("Failed", "True", "DeadlineExceeded")
    assert ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline", 1) in events_of(
        kubectl, "slow"
    )


def test_indexed_jobs_give_each_pod_its_index(timed: Sandbox, timed_kubectl: Kubectl) -> None:
    kubectl = timed_kubectl
    spec = {"completions": 3, "parallelism": 3, "completionMode": "Indexed"}
    kubectl("apply", "-f", "-", stdin=job("idx", "echo index $JOB_COMPLETION_INDEX", **spec), check=True)
    timed.wait_idle()
    names = sorted(pods_of(kubectl, "idx"))
    assert [n.rsplit("-", 1)[0] for n in names] == ["idx-0", "idx-1", "idx-2"]
    assert [kubectl("logs", n, check=True).stdout for n in names] == [f"index {i}\n" for i in range(3)]
    status = json.loads(kubectl("get", "job", "idx", "-o", "json", check=True).stdout)["status"]
    assert status["completedIndexes"] == "0-2"


# ---- CronJobs ------------------------------------------------------------------------------

# 2025-06-15T10:00:30Z: half a minute past an hour.
START = 1749981630.0


@pytest.fixture
def cron_cluster(sandbox_factory: Callable[..., Sandbox]) -> tuple[Sandbox, ManualClock, Kubectl]:
    clock = ManualClock(start=START)
    sb = sandbox_factory(clock=clock)
    return sb, clock, make_kubectl(sb)


def cronjob(name: str, schedule: str, script: str, **spec: Any) -> str:
    template = json.loads(job("x", script))["spec"]
    return json.dumps(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": name},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": template}, **spec},
        }
    )


def jobs(kubectl: Kubectl) -> list[str]:
    return sorted(kubectl("get", "jobs", "-o", "name", check=True).stdout.replace("job.batch/", "").split())


def test_a_cronjob_creates_a_job_at_each_scheduled_minute(cron_cluster: tuple[Sandbox, ManualClock, Kubectl]) -> None:
    sb, clock, kubectl = cron_cluster
    kubectl("apply", "-f", "-", stdin=cronjob("report", "*/5 * * * *", "echo report"), check=True)
    sb.wait_idle()
    assert jobs(kubectl) == []
    advance(sb, clock, 4 * 60 + 29)  # 10:04:59
    assert jobs(kubectl) == []
    advance(sb, clock, 1)  # 10:05:00
    minute = int((START + 270) // 60)
    assert jobs(kubectl) == [f"report-{minute}"]
    created = json.loads(kubectl("get", "job", f"report-{minute}", "-o", "json", check=True).stdout)
    assert created["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == (
        "2025-06-15T10:05:00Z"
    )
    assert created["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job_row(kubectl, f"report-{minute}")["STATUS"] == "Complete"
    for _ in range(3):
        advance(sb, clock, 300)
    names = jobs(kubectl)
    assert len(names) == 3, "successfulJobsHistoryLimit keeps the newest three"
    assert names[-1] == f"report-{minute + 15}"
    reasons = {r for _t, r, _m, _c in events_of(kubectl, "report")}
    assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= reasons
    status = json.loads(kubectl("get", "cronjob", "report", "-o", "json", check=True).stdout)["status"]
    assert status["lastScheduleTime"] == "2025-06-15T10:20:00Z"
    assert status["lastSuccessfulTime"] == "2025-06-15T10:20:00Z"


def test_concurrency_policies(cron_cluster: tuple[Sandbox, ManualClock, Kubectl]) -> None:
    sb, clock, kubectl = cron_cluster
    kubectl("apply", "-f", "-", stdin=cronjob("solo", "* * * * *", "sleep 300", concurrencyPolicy="Forbid"), check=True)
    kubectl(
        "apply", "-f", "-", stdin=cronjob("fresh", "* * * * *", "sleep 300", concurrencyPolicy="Replace"), check=True
    )
    sb.wait_idle()
    advance(sb, clock, 30)
    advance(sb, clock, 60)
    advance(sb, clock, 60)
    names = jobs(kubectl)
    assert len([n for n in names if n.startswith("solo-")]) == 1, "Forbid skips while one runs"
    assert any(r == "JobAlreadyActive" for _t, r, _m, _c in events_of(kubectl, "solo"))
    fresh = [n for n in names if n.startswith("fresh-")]
    assert fresh == [f"fresh-{int((START + 150) // 60)}"], "Replace deleted the older ones"


def test_a_suspended_cronjob_and_a_job_started_by_hand(
    cron_cluster: tuple[Sandbox, ManualClock, Kubectl], kube_client: Any
) -> None:
    sb, clock, kubectl = cron_cluster
    kubectl("apply", "-f", "-", stdin=cronjob("paused", "* * * * *", "echo hi", suspend=True), check=True)
    sb.wait_idle()
    advance(sb, clock, 180)
    assert jobs(kubectl) == []
    kubectl("create", "job", "by-hand", "--from=cronjob/paused", check=True)
    sb.wait_idle()
    assert job_row(kubectl, "by-hand")["STATUS"] == "Complete"
    assert kubectl("logs", "job/by-hand", check=True).stdout == "hi\n"


def test_the_client_sees_the_schedule_move(cron_cluster: tuple[Sandbox, ManualClock, Kubectl]) -> None:
    from kubernetes import client, config

    sb, clock, kubectl = cron_cluster
    api = config.new_client_from_config(config_file=str(sb.kubeconfig))
    try:
        batch = client.BatchV1Api(api)
        kubectl("apply", "-f", "-", stdin=cronjob("tick", "@hourly", "echo tick"), check=True)
        sb.wait_idle()
        began = time.monotonic()
        advance(sb, clock, 3600)
        assert time.monotonic() - began < 30, "an hour of the cluster's time is not an hour of the test's"
        read = batch.read_namespaced_cron_job("tick", "default")
        assert read.status.last_schedule_time.isoformat() == "2025-06-15T11:00:00+00:00"
        listed = batch.list_namespaced_job("default")
        assert [j.metadata.name for j in listed.items] == [f"tick-{int((START + 3570) // 60)}"]
    finally:
        api.close()
