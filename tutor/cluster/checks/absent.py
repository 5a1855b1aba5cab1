"""`absent`: an object is gone (deleted, or never created)."""

from __future__ import annotations

from tutor.cluster import objects
from tutor.cluster.checks.base import Check
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, Subject, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, find


class Absent(Check):
    kind = "absent"

    def setup(self) -> None:
        self.target = self.ref()

    def default_title(self) -> str:
        return f"{self.target} is gone{self.where(self.target)}"

    def dependencies(self) -> list[Dependency]:
        deps = [Dependency(self.key_for(self.target.kind), frozenset({self.target.name}))]
        if self.target.kind.namespaced:
            deps.append(self.namespace_dependency())
        return deps

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        ns = self.namespace if self.target.kind.namespaced else None
        obj = find(view, self.target.kind.name, ns, self.target.name)
        subjects = (Subject(self.target.kind.name, self.target.name, ns),)
        if obj is None:
            return passed(f"{self.target} does not exist{self.where(self.target)}")
        if objects.terminating(obj):
            finalizers = objects.meta(obj).get("finalizers") or []
            detail = f"waiting for finalizers: {', '.join(map(str, finalizers))}" if finalizers else ""
            return waiting(
                f"{self.target} is being deleted{self.where(self.target)}",
                *([detail] if detail else []),
                subjects=subjects,
            )
        return waiting(f"{self.target} still exists{self.where(self.target)}", subjects=subjects)
