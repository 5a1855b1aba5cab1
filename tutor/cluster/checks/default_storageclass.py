"""`default_storageclass`: exactly one StorageClass is the default, and it is NAME."""

from __future__ import annotations

from tutor.cluster import objects
from tutor.cluster.checks.base import Check
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, Subject, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, WatchKey


def storage_class_lines(classes: list[objects.Obj]) -> list[str]:
    """Like `kubectl get sc`: NAME (default)  PROVISIONER."""
    lines = []
    for sc in sorted(classes, key=objects.name):
        mark = " (default)" if objects.is_default_storage_class(sc) else ""
        lines.append(f"{objects.name(sc)}{mark}  {sc.get('provisioner', '?')}")
    return lines


def and_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class DefaultStorageClass(Check):
    kind = "default_storageclass"

    def setup(self) -> None:
        self.name = self.text("name")
        self.wanted_default = self.name

    def default_title(self) -> str:
        return f"{self.name} is the only default StorageClass"

    def dependencies(self) -> list[Dependency]:
        return [Dependency(WatchKey.of("storageclass"))]

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        classes = list(view.objects(WatchKey.of("storageclass")))
        names = {objects.name(sc) for sc in classes}
        defaults = objects.default_storage_classes(classes)
        evidence = storage_class_lines(classes)
        subjects = tuple(Subject("storageclass", item) for item in sorted({self.name, *defaults}))
        if defaults == [self.name]:
            return passed(f"{self.name} is the only default StorageClass", *evidence, subjects=subjects)
        if self.name not in names:
            return waiting(f"StorageClass {self.name} does not exist yet", *evidence, subjects=subjects)
        if not defaults:
            return waiting(f"no StorageClass is the default yet; {self.name} should be", *evidence, subjects=subjects)
        if self.name in defaults:
            others = [item for item in defaults if item != self.name]
            return waiting(
                f"{len(defaults)} StorageClasses are the default ({and_list(defaults)}); "
                f"only {self.name} should be: mark {and_list(others)} as not default",
                *evidence,
                subjects=subjects,
            )
        verb = "is" if len(defaults) == 1 else "are"
        return waiting(f"{and_list(defaults)} {verb} the default, not {self.name}", *evidence, subjects=subjects)
