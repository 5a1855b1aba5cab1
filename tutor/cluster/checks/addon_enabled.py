"""`addon_enabled`: a minikube addon is on, judged by the objects it creates (`tutor.cluster.addons`)."""

from __future__ import annotations

from tutor.cluster.addons import ADDON_PARTS
from tutor.cluster.checks.base import Check, CheckError
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, Subject, passed, waiting
from tutor.cluster.view import ClusterView, Dependency


class AddonEnabled(Check):
    kind = "addon_enabled"

    def setup(self) -> None:
        self.addon = self.text("addon")
        if self.addon not in ADDON_PARTS:
            raise CheckError(f"addon_enabled: unknown addon {self.addon!r}; known: {', '.join(ADDON_PARTS)}")
        self.parts = ADDON_PARTS[self.addon]

    def default_title(self) -> str:
        return f"the {self.addon} addon is enabled"

    def dependencies(self) -> list[Dependency]:
        names: dict[object, set[str]] = {}
        for part in self.parts:
            names.setdefault(part.key, set()).add(part.name)
        return [Dependency(part.key, frozenset(names[part.key])) for part in {p.key: p for p in self.parts}.values()]

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        missing = [state for part in self.parts if (state := part.state(view)) is not None]
        subjects = tuple(Subject(part.kind, part.name, part.namespace) for part in self.parts)
        present = [f"{part}: in place" for part in self.parts if part.state(view) is None]
        if not missing:
            return passed(f"the {self.addon} addon is enabled", *present, subjects=subjects)
        done = len(self.parts) - len(missing)
        return waiting(
            f"the {self.addon} addon is not enabled yet ({done}/{len(self.parts)} parts in place): {missing[0]}",
            *missing,
            *present,
            subjects=subjects,
        )
