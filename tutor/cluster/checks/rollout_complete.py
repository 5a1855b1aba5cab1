"""`rollout_complete`: a Deployment, StatefulSet or DaemonSet has rolled out, as
`kubectl rollout status` judges it: the controller saw the latest spec, every replica
runs the latest template, and all of them are ready or available."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutor.cluster import objects
from tutor.cluster.checks.base import Check, CheckError
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.checks.pods import progress_line, stuck_state
from tutor.cluster.objects import Obj, as_int
from tutor.cluster.results import CheckResult, Subject, failed, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, WatchKey, find

WORKLOADS = ("deployment", "statefulset", "daemonset")


class RolloutComplete(Check):
    kind = "rollout_complete"

    def setup(self) -> None:
        self.target = self.ref()
        if self.target.kind.name not in WORKLOADS:
            raise CheckError(f"rollout_complete: {self.target} is not a Deployment, StatefulSet or DaemonSet")
        self.replicas = self.optional_int("replicas")

    def default_title(self) -> str:
        count = f" with {self.replicas} replicas" if self.replicas is not None else ""
        return f"{self.target} rolled out{count} in {self.namespace}"

    def dependencies(self) -> list[Dependency]:
        return [
            Dependency(self.key_for(self.target.kind), frozenset({self.target.name})),
            # Its pods: not needed to judge the rollout, but they say why it is not done.
            Dependency(WatchKey.of("pod", self.namespace), required=False),
            *self.diagnosis_dependencies(),
        ]

    def owned_pods(self, view: ClusterView, obj: Obj) -> list[Obj]:
        selector = objects.match_labels(obj)
        if selector is None:
            return []
        pods = view.objects(WatchKey.of("pod", self.namespace))
        return [pod for pod in pods if objects.selects(selector, pod) and not objects.pod_finished(pod)]

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        obj = find(view, self.target.kind.name, self.namespace, self.target.name)
        me = Subject(self.target.kind.name, self.target.name, self.namespace)
        if obj is None:
            return waiting(f"{self.target} does not exist yet in {self.namespace}", subjects=(me,))
        pods = self.owned_pods(view, obj)
        subjects = (me, *(Subject("pod", objects.name(pod), self.namespace) for pod in sorted(pods, key=objects.name)))
        status = objects.status(obj)
        generation = as_int(objects.meta(obj).get("generation"), 0)
        observed = as_int(status.get("observedGeneration"), 0)
        if observed < generation:
            return waiting(f"{self.target}: the controller has not seen the latest change yet", subjects=subjects)
        if self.target.kind.name == "deployment":
            progress = condition_reason(obj, "Progressing")
            if progress == "ProgressDeadlineExceeded":
                return failed(f"{self.target} exceeded its progress deadline", subjects=subjects)
        desired, problem = self.judge(obj, status)
        if problem is None and (self.replicas is None or desired == self.replicas):
            return passed(f"{self.target} rolled out: {desired}/{desired} replicas ready", subjects=subjects)
        not_ready = [pod for pod in pods if not objects.pod_ready(pod) and not objects.terminating(pod)]
        stuck = [pod for pod in not_ready if stuck_state(pod)]
        if stuck:
            return failed(f"{self.target}: {objects.name(stuck[0])} is in {stuck_state(stuck[0])}", subjects=subjects)
        if self.replicas is not None and desired != self.replicas:
            verb = "scale it" if self.target.kind.name != "daemonset" else "its nodes decide"
            return waiting(
                f"{self.target} wants {desired} replica{'' if desired == 1 else 's'}, expected {self.replicas}: {verb}",
                subjects=subjects,
            )
        detail = f": {progress_line(view, not_ready)}" if not_ready else ""
        return waiting(f"{self.target}: {problem}{detail}", subjects=subjects)

    def judge(self, obj: Obj, status: Mapping[str, Any]) -> tuple[int, str | None]:
        """(desired replicas, what is not done yet or None)."""
        spec = objects.spec(obj)
        if self.target.kind.name == "daemonset":
            desired = as_int(status.get("desiredNumberScheduled"))
            updated = as_int(status.get("updatedNumberScheduled"))
            available = as_int(status.get("numberAvailable"))
            if updated < desired:
                return desired, f"{updated}/{desired} pods updated"
            if available < desired:
                return desired, f"{available}/{desired} pods available"
            return desired, None
        desired = as_int(spec.get("replicas"), 1)
        updated = as_int(status.get("updatedReplicas"))
        ready = as_int(status.get("readyReplicas"))
        total = as_int(status.get("replicas"))
        if self.target.kind.name == "deployment":
            available = as_int(status.get("availableReplicas"))
            if updated < desired:
                return desired, f"{updated}/{desired} replicas updated, {ready} ready"
            if total > updated:
                return desired, f"{total - updated} old replicas are still terminating"
            if available < desired:
                return desired, f"{available}/{desired} replicas available"
            return desired, None
        # StatefulSet: as kubectl's statefulSetStatusViewer.
        if ready < desired:
            return desired, f"{ready}/{desired} replicas ready"
        strategy = spec.get("updateStrategy")
        rolling = not isinstance(strategy, Mapping) or strategy.get("type", "RollingUpdate") == "RollingUpdate"
        if rolling:
            rolling_cfg = strategy.get("rollingUpdate") if isinstance(strategy, Mapping) else None
            partition = as_int(rolling_cfg.get("partition")) if isinstance(rolling_cfg, Mapping) else 0
            if partition > 0:
                if updated < desired - partition:
                    return desired, f"{updated}/{desired - partition} replicas updated"
            elif status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
                return desired, f"{updated}/{desired} replicas updated"
        return desired, None


def condition_reason(obj: Obj, kind: str) -> str | None:
    found = objects.condition(obj, kind)
    return str(found.get("reason")) if found and found.get("reason") else None
