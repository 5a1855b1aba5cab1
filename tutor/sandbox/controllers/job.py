"""Jobs run their pods to completion (the kubelet finishes a Job's pod after ``job_run``)."""

from __future__ import annotations

from collections.abc import Iterable

from tutor.sandbox.controllers.common import owned, owner_keys, pod_from_template, pod_ready
from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.objects import Obj, merge_conditions, parse_time, random_suffix, rfc3339
from tutor.sandbox.store import WatchEvent


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
        pods = owned(self.store, job, "pods")
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        completions = int(spec.get("completions", 1) or 1)
        parallelism = int(spec.get("parallelism", 1))
        complete = any(c.get("type") == "Complete" and c.get("status") == "True" for c in old.get("conditions") or [])
        ttl = spec.get("ttlSecondsAfterFinished")
        if complete:
            if ttl is not None:
                finished = parse_time(old.get("completionTime")) or now
                if now >= finished + int(ttl):
                    self.store.delete("jobs.batch", namespace, name, propagation="Background")
                    return None
                return finished + int(ttl) - now
            return None
        if not spec.get("suspend"):
            missing = min(parallelism, completions - succeeded) - len(active)
            template = spec.get("template") or {}
            for _ in range(max(0, missing)):
                pod = pod_from_template(job, template, f"{name}-{random_suffix()}")
                created = self.store.create(pod, resource="pods")
                active.append(created)
                self.cluster.recorder.record(
                    job,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {created['metadata']['name']}",
                    component="job-controller",
                )
        stamp = rfc3339(now)
        status: Obj = {
            "startTime": old.get("startTime") or stamp,
            "ready": sum(1 for p in active if pod_ready(p)),
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
        if active:
            status["active"] = len(active)
        if succeeded:
            status["succeeded"] = succeeded
        if failed:
            status["failed"] = failed
        if succeeded >= completions:
            status.pop("active", None)
            status["completionTime"] = stamp
            conditions = [
                {
                    "type": "SuccessCriteriaMet",
                    "status": "True",
                    "reason": "CompletionsReached",
                    "message": "Reached expected number of succeeded pods",
                },
                {
                    "type": "Complete",
                    "status": "True",
                    "reason": "CompletionsReached",
                    "message": "Reached expected number of succeeded pods",
                },
            ]
            for c in conditions:
                c["lastProbeTime"] = stamp
                c["lastTransitionTime"] = stamp
            status["conditions"] = merge_conditions(old.get("conditions"), conditions, stamp)
            self.cluster.recorder.record(job, "Normal", "Completed", "Job completed", component="job-controller")
            self.store.replace_status("jobs.batch", namespace, name, status)
            return float(ttl) if ttl is not None else None
        self.store.replace_status("jobs.batch", namespace, name, status)
        return None
