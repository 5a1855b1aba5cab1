"""`pvc_bound`: a PersistentVolumeClaim is Bound (through StorageClass `storage_class`, if given)."""

from __future__ import annotations

from tutor.cluster import objects
from tutor.cluster.checks.base import Check
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, Subject, failed, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, WatchKey, find


class PvcBound(Check):
    kind = "pvc_bound"

    def setup(self) -> None:
        self.name = self.text("name")
        self.storage_class = str(self.fields["storage_class"]) if self.fields.get("storage_class") else None

    def default_title(self) -> str:
        via = f" through {self.storage_class}" if self.storage_class else ""
        return f"claim {self.name} is Bound{via}"

    def dependencies(self) -> list[Dependency]:
        return [
            Dependency(WatchKey.of("pvc", self.namespace), frozenset({self.name})),
            *self.diagnosis_dependencies(),
        ]

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        subjects = (Subject("persistentvolumeclaim", self.name, self.namespace),)
        pvc = find(view, "pvc", self.namespace, self.name)
        if pvc is None:
            return waiting(f"PVC {self.name} does not exist yet in {self.namespace}", subjects=subjects)
        phase = objects.pvc_phase(pvc)
        sc = objects.pvc_class(pvc)
        volume = objects.spec(pvc).get("volumeName") or "?"
        capacity = objects.status(pvc).get("capacity")
        size = capacity.get("storage") if isinstance(capacity, dict) else None
        evidence = f"{self.name}  {phase}  volume {volume}  {size or '-'}  class {sc or '<unset>'}"
        wrong_class = self.storage_class is not None and sc not in (None, "", self.storage_class)
        if wrong_class:
            # A claim's class is fixed once set: only deleting and recreating it changes it.
            return failed(
                f"PVC {self.name} uses StorageClass {sc}, not {self.storage_class}; "
                "a claim's class cannot change: delete the claim and create it again",
                evidence,
                subjects=subjects,
            )
        if phase == "Bound":
            return passed(
                f"PVC {self.name} is Bound to {volume}{f' ({size}, {sc})' if size else ''}", evidence, subjects=subjects
            )
        if phase == "Lost":
            return failed(f"PVC {self.name} lost its volume {volume}", evidence, subjects=subjects)
        detail = "" if sc else " (no StorageClass yet)"
        return waiting(f"PVC {self.name} is {phase}{detail}", evidence, subjects=subjects)
