"""CronJobs: a Job at each scheduled time, on the cluster's clock.

At each time of ``spec.schedule`` (``cron.py``) the controller creates the Job
``<cronjob>-<scheduled time in minutes since the epoch>`` from ``jobTemplate``, owned by
the CronJob and annotated with the scheduled time. After a pause (a suspended CronJob, a
stopped cluster) only the most recent missed time runs, and only within
``startingDeadlineSeconds``. ``concurrencyPolicy`` decides about a Job still running:
``Allow`` another, ``Forbid`` skip this time, ``Replace`` delete it first. Finished Jobs
beyond ``successfulJobsHistoryLimit`` (3) and ``failedJobsHistoryLimit`` (1) are deleted,
oldest first. The status lists the active Jobs, ``lastScheduleTime`` and
``lastSuccessfulTime``. Events: SuccessfulCreate, SawCompletedJob, SuccessfulDelete,
JobAlreadyActive, MissSchedule, UnparseableSchedule.
"""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox import cron
from tutor.sandbox.controllers.common import owned, owner_keys
from tutor.sandbox.controllers.job import finished
from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import Obj, clone, owner_ref, parse_time, rfc3339
from tutor.sandbox.store import WatchEvent

SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"
COMPONENT = "cronjob-controller"


def _ref(job: Obj) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": job["metadata"]["name"],
        "namespace": job["metadata"]["namespace"],
        "uid": job["metadata"]["uid"],
        "resourceVersion": job["metadata"].get("resourceVersion", ""),
    }


class CronJobController(Controller):
    name = "cronjob"
    watches = ("cronjobs.batch", "jobs.batch")

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self._seen_finished: set[str] = set()
        self._reported: dict[str, str] = {}

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "jobs.batch":
            return owner_keys(event, "CronJob")
        return [(event.namespace, event.name)]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        cj = self.store.peek("cronjobs.batch", namespace, name)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return None
        spec, old = cj.get("spec") or {}, cj.get("status") or {}
        now = self.store.clock()
        jobs = sorted(owned(self.store, cj, "jobs.batch"), key=lambda j: j["metadata"]["creationTimestamp"])
        status: Obj = {}
        last_success = parse_time(old.get("lastSuccessfulTime"))
        for job in jobs:
            state = finished(job)
            uid = job["metadata"]["uid"]
            if state is not None and uid not in self._seen_finished:
                self._seen_finished.add(uid)
                self.cluster.recorder.record(
                    cj,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {job['metadata']['name']}, status: {state}",
                    component=COMPONENT,
                )
            if state == "Complete":
                done = parse_time((job.get("status") or {}).get("completionTime"))
                if done is not None and (last_success is None or done > last_success):
                    last_success = done
        active = [j for j in jobs if finished(j) is None and not j["metadata"].get("deletionTimestamp")]
        self._cleanup(cj, jobs)
        try:
            schedule = cron.parse(str(spec.get("schedule", "")), spec.get("timeZone"))
        except cron.ScheduleError as err:
            message = f"unparseable schedule: {spec.get('schedule')!r} : {err}"
            if self._reported.get(cj["metadata"]["uid"]) != message:
                self._reported[cj["metadata"]["uid"]] = message
                self.cluster.recorder.record(cj, "Warning", "UnparseableSchedule", message, component=COMPONENT)
            self._write_status(cj, status, active, old.get("lastScheduleTime"), last_success)
            return None
        last = parse_time(old.get("lastScheduleTime")) or parse_time(cj["metadata"].get("creationTimestamp")) or now
        last_schedule = old.get("lastScheduleTime")
        if not spec.get("suspend"):
            due, missed = schedule.most_recent(last, now)
            deadline = spec.get("startingDeadlineSeconds")
            if due is not None and deadline is not None and now - due > int(deadline):
                self.cluster.recorder.record(
                    cj,
                    "Warning",
                    "MissSchedule",
                    f"Missed scheduled time to start a job: {rfc3339(due)}",
                    component=COMPONENT,
                )
                last_schedule = rfc3339(due)
            elif due is not None:
                if missed > 100:
                    self.cluster.recorder.record(
                        cj,
                        "Warning",
                        "TooManyMissedTimes",
                        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check "
                        "clock skew",
                        component=COMPONENT,
                    )
                created = self._run(cj, due, active)
                if created is not None:
                    active = [
                        *[j for j in active if self.store.peek("jobs.batch", namespace, j["metadata"]["name"])],
                        created,
                    ]
                    active = [j for j in active if not (j["metadata"].get("deletionTimestamp"))]
                last_schedule = rfc3339(due)
        self._write_status(cj, status, active, last_schedule, last_success)
        if spec.get("suspend"):
            return None
        nxt = schedule.next_after(max(now, parse_time(last_schedule) or now))
        if nxt is not None:
            # The schedule is the cluster's own time: not work a test waits for.
            self.requeue(key, max(0.0, nxt - now), background=True)
        return None

    def _run(self, cj: Obj, due: float, active: list[Obj]) -> Obj | None:
        namespace, name = cj["metadata"]["namespace"], cj["metadata"]["name"]
        spec = cj.get("spec") or {}
        policy = spec.get("concurrencyPolicy", "Allow")
        job_name = f"{name}-{int(due // 60)}"
        if self.store.peek("jobs.batch", namespace, job_name) is not None:
            return None
        if active and policy == "Forbid":
            self.cluster.recorder.record(
                cj,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
                component=COMPONENT,
            )
            return None
        if active and policy == "Replace":
            for job in active:
                self.store.delete("jobs.batch", namespace, job["metadata"]["name"], propagation="Background")
                self.cluster.recorder.record(
                    cj, "Normal", "SuccessfulDelete", f"Deleted job {job['metadata']['name']}", component=COMPONENT
                )
        template = spec.get("jobTemplate") or {}
        meta = template.get("metadata") or {}
        annotations = {**(meta.get("annotations") or {}), SCHEDULED_AT: rfc3339(due)}
        body: Obj = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": job_name,
                "namespace": namespace,
                "labels": dict(meta.get("labels") or {}),
                "annotations": annotations,
                "ownerReferences": [owner_ref(cj)],
            },
            "spec": clone(template.get("spec") or {}),
        }
        try:
            created = self.store.create(body, resource="jobs.batch")
        except ApiError as err:
            self.cluster.recorder.record(
                cj, "Warning", "FailedCreate", f"Error creating job: {err.message}", component=COMPONENT
            )
            return None
        self.cluster.recorder.record(cj, "Normal", "SuccessfulCreate", f"Created job {job_name}", component=COMPONENT)
        return created

    def _cleanup(self, cj: Obj, jobs: list[Obj]) -> None:
        spec = cj.get("spec") or {}
        for state, limit in (
            ("Complete", int(spec.get("successfulJobsHistoryLimit", 3))),
            ("Failed", int(spec.get("failedJobsHistoryLimit", 1))),
        ):
            done = [j for j in jobs if finished(j) == state and not j["metadata"].get("deletionTimestamp")]
            for job in done[: max(0, len(done) - limit)]:
                self.store.delete(
                    "jobs.batch", job["metadata"]["namespace"], job["metadata"]["name"], propagation="Background"
                )
                self.cluster.recorder.record(
                    cj, "Normal", "SuccessfulDelete", f"Deleted job {job['metadata']['name']}", component=COMPONENT
                )

    def _write_status(
        self, cj: Obj, status: Obj, active: list[Obj], last_schedule: str | None, last_success: float | None
    ) -> None:
        if active:
            status["active"] = [_ref(j) for j in active]
        if last_schedule:
            status["lastScheduleTime"] = last_schedule
        if last_success is not None:
            status["lastSuccessfulTime"] = rfc3339(last_success)
        self.store.replace_status("cronjobs.batch", cj["metadata"]["namespace"], cj["metadata"]["name"], status)
