"""Jobs: pods run to completion, or the Job fails as the real Job controller decides.

- ``completions`` successful pods finish the Job (``Complete`` and
  ``SuccessCriteriaMet``); without ``completions`` the first success does, once the
  other pods are done. ``parallelism`` pods run at a time; ``completionMode: Indexed``
  gives each an index (name ``<job>-<index>-<suffix>``, ``JOB_COMPLETION_INDEX``).
- Failed pods (``restartPolicy: Never``) count towards ``backoffLimit`` (default 6);
  with ``OnFailure`` the restarts of the running pods do. Past the limit the active pods
  are deleted and the Job gets ``FailureTarget`` then ``Failed`` with reason
  ``BackoffLimitExceeded``. A failed pod is replaced after the controller's back-off:
  10 s, doubling, at most 10 min.
- ``activeDeadlineSeconds`` counts from the start: then ``DeadlineExceeded``.
- ``suspend`` stops creating pods (and deletes running ones);
  ``ttlSecondsAfterFinished`` deletes a finished Job.
"""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.common import create_pod, owned, owner_keys, pod_from_template, pod_ready
from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.objects import Obj, clone, merge_conditions, parse_time, random_suffix, rfc3339
from tutor.sandbox.store import WatchEvent

BACKOFF = 10.0
BACKOFF_CAP = 600.0
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
FAILURES = {
    "BackoffLimitExceeded": "Job has reached the specified backoff limit",
    "DeadlineExceeded": "Job was active longer than specified deadline",
}


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase", "Pending"))


def _finished_at(pod: Obj) -> float:
    latest = 0.0
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated") or {}
        latest = max(latest, parse_time(terminated.get("finishedAt")) or 0.0)
    return latest


def _restarts(pod: Obj) -> int:
    status = pod.get("status") or {}
    return sum(
        int(s.get("restartCount") or 0)
        for s in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    )


def finished(job: Obj) -> str | None:
    """``Complete`` or ``Failed`` once the Job has finished, else None."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return None


class JobController(Controller):
    name = "job"
    watches = ("jobs.batch", "pods")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods":
            return owner_keys(event, "Job")
        return [(event.namespace, event.name)]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        job = self.store.peek("jobs.batch", namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return None
        spec, old = job.get("spec") or {}, job.get("status") or {}
        now = self.store.clock()
        done = finished(job)
        if done is not None:
            return self._after_finish(job, now)
        pods = owned(self.store, job, "pods")
        active = [
            p for p in pods if _phase(p) not in ("Succeeded", "Failed") and not p["metadata"].get("deletionTimestamp")
        ]
        terminating = [
            p for p in pods if p["metadata"].get("deletionTimestamp") and _phase(p) not in ("Succeeded", "Failed")
        ]
        succeeded = [p for p in pods if _phase(p) == "Succeeded"]
        failed = [p for p in pods if _phase(p) == "Failed"]
        failed_count = max(int(old.get("failed") or 0), len(failed))
        succeeded_count = max(int(old.get("succeeded") or 0), len(succeeded))
        start = parse_time(old.get("startTime")) if old.get("startTime") else None
        suspended = bool(spec.get("suspend"))
        if start is None and not suspended:
            start = now
        status: Obj = {
            "startTime": rfc3339(start) if start is not None else None,
            "ready": sum(1 for p in active if pod_ready(p)),
            "terminating": len(terminating),
            "uncountedTerminatedPods": {},
        }
        failure = self._failing(old) or self._failure(job, active, failed_count, start, now)
        if failure is not None:
            return self._fail(job, status, active, terminating, failed_count, succeeded_count, failure, now)
        completions = spec.get("completions")
        parallelism = int(spec.get("parallelism", 1))
        indexed = spec.get("completionMode") == "Indexed"
        complete = (
            succeeded_count >= int(completions) if completions is not None else bool(succeeded_count) and not active
        )
        if indexed:
            done_indexes = sorted(
                {int((p["metadata"].get("annotations") or {}).get(INDEX_ANNOTATION, -1)) for p in succeeded}
            )
            if done_indexes:
                status["completedIndexes"] = _ranges(done_indexes)
        wake: float | None = None
        if complete:
            return self._complete(job, status, succeeded_count, failed_count, now)
        if suspended:
            for pod in active:
                self.store.delete("pods", namespace, pod["metadata"]["name"])
            active = []
        else:
            if completions is not None:
                wanted = min(parallelism, int(completions) - succeeded_count)
            else:
                wanted = 0 if succeeded_count else parallelism
            missing = wanted - len(active) - len(terminating)
            if missing > 0:
                ready_at = self._backoff_until(failed, failed_count)
                if ready_at is not None and ready_at > now:
                    wake = ready_at
                else:
                    active += self._create(job, missing, indexed, pods)
            deadline = spec.get("activeDeadlineSeconds")
            if deadline is not None and start is not None:
                due = start + int(deadline)
                wake = due if wake is None else min(wake, due)
        if active:
            status["active"] = len(active)
        if succeeded_count:
            status["succeeded"] = succeeded_count
        if failed_count:
            status["failed"] = failed_count
        if status["startTime"] is None:
            del status["startTime"]
        if suspended:
            status["conditions"] = merge_conditions(
                old.get("conditions"),
                [self._condition("Suspended", "JobSuspended", "Job suspended", now)],
                rfc3339(now),
            )
        elif old.get("conditions"):
            status["conditions"] = old["conditions"]
        self.store.replace_status("jobs.batch", namespace, name, status)
        if wake is not None:
            # The Job's own timing (a back-off, a deadline): not work a test waits for.
            self.requeue(key, max(0.0, wake - now), background=True)
        return None

    # ---- creating pods -------------------------------------------------------------

    def _create(self, job: Obj, count: int, indexed: bool, pods: list[Obj]) -> list[Obj]:
        _namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        spec = job.get("spec") or {}
        template = spec.get("template") or {}
        created = []
        taken = {
            int(p["metadata"].get("annotations", {}).get(INDEX_ANNOTATION, -1))
            for p in pods
            if _phase(p) != "Failed" and not p["metadata"].get("deletionTimestamp")
        }
        completions = int(spec.get("completions") or 1)
        free = [i for i in range(completions) if i not in taken]
        for n in range(count):
            if indexed:
                if n >= len(free):
                    break
                index = free[n]
                pod = pod_from_template(
                    job, self._indexed_template(template, index), f"{name}-{index}-{random_suffix()}"
                )
            else:
                pod = pod_from_template(job, template, f"{name}-{random_suffix()}")
            created.append(create_pod(self.cluster, job, pod, "job-controller"))
        return created

    @staticmethod
    def _indexed_template(template: Obj, index: int) -> Obj:
        copy: Obj = clone(template)
        meta = copy.setdefault("metadata", {})
        meta.setdefault("annotations", {})[INDEX_ANNOTATION] = str(index)
        meta.setdefault("labels", {})[INDEX_ANNOTATION] = str(index)
        ref = {"fieldRef": {"fieldPath": f"metadata.annotations['{INDEX_ANNOTATION}']"}}
        for c in (copy.get("spec") or {}).get("containers") or []:
            c.setdefault("env", []).append({"name": "JOB_COMPLETION_INDEX", "valueFrom": ref})
        return copy

    @staticmethod
    def _backoff_until(failed: list[Obj], failed_count: int) -> float | None:
        if not failed_count or not failed:
            return None
        delay = min(BACKOFF * 2.0 ** (failed_count - 1), BACKOFF_CAP)
        return float(max(_finished_at(p) for p in failed) + delay)

    # ---- finishing ------------------------------------------------------------------

    @staticmethod
    def _failing(status: Obj) -> str | None:
        """The reason of a failure already decided (FailureTarget), if any."""
        for c in status.get("conditions") or []:
            if c.get("type") == "FailureTarget" and c.get("status") == "True":
                return str(c.get("reason", "BackoffLimitExceeded"))
        return None

    def _failure(self, job: Obj, active: list[Obj], failed_count: int, start: float | None, now: float) -> str | None:
        spec = job.get("spec") or {}
        limit = int(spec.get("backoffLimit", 6))
        policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        if failed_count > limit:
            return "BackoffLimitExceeded"
        if policy == "OnFailure":
            restarts = sum(_restarts(p) for p in active)
            if (limit == 0 and restarts > 0) or (limit and restarts >= limit):
                return "BackoffLimitExceeded"
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and start is not None and now >= start + int(deadline):
            return "DeadlineExceeded"
        return None

    @staticmethod
    def _condition(type_: str, reason: str, message: str, now: float) -> Obj:
        stamp = rfc3339(now)
        return {
            "type": type_,
            "status": "True",
            "reason": reason,
            "message": message,
            "lastProbeTime": stamp,
            "lastTransitionTime": stamp,
        }

    def _fail(
        self,
        job: Obj,
        status: Obj,
        active: list[Obj],
        terminating: list[Obj],
        failed_count: int,
        succeeded_count: int,
        reason: str,
        now: float,
    ) -> float | None:
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        old = job.get("status") or {}
        message = FAILURES[reason]
        first_time = not any(c.get("type") == "FailureTarget" for c in old.get("conditions") or [])
        for pod in active:
            self.store.delete("pods", namespace, pod["metadata"]["name"])
            self.cluster.recorder.record(
                job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", component="job-controller"
            )
        if first_time:
            self.cluster.recorder.record(job, "Warning", reason, message, component="job-controller")
        conditions = [self._condition("FailureTarget", reason, message, now)]
        still = [p for p in owned(self.store, job, "pods") if p["metadata"].get("deletionTimestamp")]
        status["terminating"] = len(still)
        if not still:
            # The terminal condition comes once no pod of the Job is still running.
            conditions.append(self._condition("Failed", reason, message, now))
        status["conditions"] = merge_conditions(old.get("conditions"), conditions, rfc3339(now))
        # The pods a failing Job deletes count as failed too.
        total_failed = failed_count + len(active)
        if total_failed:
            status["failed"] = total_failed
        if succeeded_count:
            status["succeeded"] = succeeded_count
        self.store.replace_status("jobs.batch", namespace, name, status)
        return None

    def _complete(self, job: Obj, status: Obj, succeeded: int, failed: int, now: float) -> float | None:
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        status["succeeded"] = succeeded
        if failed:
            status["failed"] = failed
        status["completionTime"] = rfc3339(now)
        message = "Reached expected number of succeeded pods"
        conditions = [
            self._condition("SuccessCriteriaMet", "CompletionsReached", message, now),
            self._condition("Complete", "CompletionsReached", message, now),
        ]
        status["conditions"] = merge_conditions((job.get("status") or {}).get("conditions"), conditions, rfc3339(now))
        self.cluster.recorder.record(job, "Normal", "Completed", "Job completed", component="job-controller")
        self.store.replace_status("jobs.batch", namespace, name, status)
        return self._after_finish(self.store.peek("jobs.batch", namespace, name) or job, now)

    def _after_finish(self, job: Obj, now: float) -> float | None:
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return None
        status = job.get("status") or {}
        stamps = [parse_time(c.get("lastTransitionTime")) for c in status.get("conditions") or []]
        done = parse_time(status.get("completionTime")) or max((s for s in stamps if s), default=now)
        if now >= done + int(ttl):
            self.store.delete(
                "jobs.batch", job["metadata"]["namespace"], job["metadata"]["name"], propagation="Background"
            )
            return None
        return done + int(ttl) - now


def _ranges(values: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``0-2,5``, as status.completedIndexes writes them."""
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
