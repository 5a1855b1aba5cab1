"""`pods_ready`: the pods matching a selector are Ready (exactly `count` of them, if given)."""

from __future__ import annotations

from tutor.cluster import objects
from tutor.cluster.checks.base import Check, CheckError
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.checks.pods import pod_lines, progress_line, stuck_state
from tutor.cluster.results import CheckResult, Subject, failed, passed, waiting
from tutor.cluster.view import ClusterView, Dependency
from tutor.lesson import resources, selectors


class PodsReady(Check):
    kind = "pods_ready"

    def setup(self) -> None:
        try:
            self.selector = str(selectors.parse(self.text("selector")))
        except selectors.BadSelector as err:
            raise CheckError(f"pods_ready: {err}") from None
        self.count = self.optional_int("count")
        pod_kind = resources.lookup("pod")
        assert pod_kind is not None
        self.key = self.key_for(pod_kind, self.selector)

    def default_title(self) -> str:
        if self.count is not None:
            return f"{self.count} pod{'s' if self.count != 1 else ''} with {self.selector} ready in {self.namespace}"
        return f"pods with {self.selector} ready in {self.namespace}"

    def dependencies(self) -> list[Dependency]:
        return [Dependency(self.key), *self.diagnosis_dependencies()]

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        pods = [pod for pod in view.objects(self.key) if not objects.pod_finished(pod)]
        live = [pod for pod in pods if not objects.terminating(pod)]
        ready = [pod for pod in live if objects.pod_ready(pod)]
        not_ready = [pod for pod in live if not objects.pod_ready(pod)]
        leaving = len(pods) - len(live)
        subjects = tuple(Subject("pod", objects.name(pod), self.namespace) for pod in sorted(pods, key=objects.name))
        evidence = pod_lines(pods)
        want = self.count if self.count is not None else len(live)
        if self.count is None and not live:
            return waiting(f"no pods with {self.selector} in {self.namespace} yet", *evidence, subjects=subjects)
        if not not_ready and len(live) == want and not (self.count == 0 and leaving):
            return passed(f"{len(ready)}/{want} pods with {self.selector} ready", *evidence, subjects=subjects)
        stuck = [(pod, stuck_state(pod)) for pod in not_ready if stuck_state(pod)]
        if stuck:
            pod, state = stuck[0]
            others = f" (and {len(stuck) - 1} more)" if len(stuck) > 1 else ""
            return failed(f"{objects.name(pod)} is in {state}{others}", *evidence, subjects=subjects)
        parts = [f"{len(ready)}/{want} ready"]
        if self.count is not None and len(live) > self.count:
            parts.append(f"{len(live)} pods, {len(live) - self.count} more than {self.count}")
        if leaving:
            parts.append(f"{leaving} terminating")
        if not_ready:
            parts.append(progress_line(view, not_ready))
        elif self.count is not None and len(live) < self.count:
            parts.append(f"{self.count - len(live)} not created yet")
        return waiting(
            ", ".join(parts[:1]) + (": " + "; ".join(parts[1:]) if parts[1:] else ""), *evidence, subjects=subjects
        )
