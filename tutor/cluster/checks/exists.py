"""`exists`: an object is there (and, with `remember`, which one it was)."""

from __future__ import annotations

from tutor.cluster import objects
from tutor.cluster.checks.base import Check
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.checks.memory import remember_once
from tutor.cluster.results import CheckResult, Subject, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, find


class Exists(Check):
    kind = "exists"

    def setup(self) -> None:
        self.target = self.ref()

    def default_title(self) -> str:
        return f"{self.target} exists{self.where(self.target)}"

    def subject(self) -> Subject:
        ns = self.namespace if self.target.kind.namespaced else None
        return Subject(self.target.kind.name, self.target.name, ns)

    def dependencies(self) -> list[Dependency]:
        deps = [Dependency(self.key_for(self.target.kind), frozenset({self.target.name}))]
        if self.target.kind.namespaced:
            deps += self.diagnosis_dependencies()
        if self.fields.get("remember"):
            deps.append(Dependency(self.key_for(self.target.kind)))
        return deps

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        ns = self.namespace if self.target.kind.namespaced else None
        obj = find(view, self.target.kind.name, ns, self.target.name)
        subjects = (self.subject(),)
        if obj is None:
            return waiting(f"{self.target} does not exist yet{self.where(self.target)}", subjects=subjects)
        if objects.terminating(obj):
            return waiting(f"{self.target} is being deleted{self.where(self.target)}", subjects=subjects)
        if self.fields.get("remember"):
            record = {"kind": self.target.kind.kind, "name": self.target.name, "namespace": ns, "uid": objects.uid(obj)}
            remember_once(ctx, view, str(self.fields["remember"]), record, self.namespace)
        age = objects.ago(objects.created(obj))
        return passed(
            f"{self.target} exists{self.where(self.target)}",
            f"uid {objects.uid(obj)}, created {age} ago",
            subjects=subjects,
        )
