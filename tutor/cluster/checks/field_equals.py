"""`field_equals`: a field of an object has a value, compared as text."""

from __future__ import annotations

import json
from typing import Any

from tutor.cluster import objects
from tutor.cluster.checks.base import Check, CheckError
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, Subject, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, find
from tutor.lesson.schema import parse_field_path


def as_text(value: Any) -> str:
    """A field's value as a lesson author writes it: `true`, `3`, `Bound`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


class FieldEquals(Check):
    kind = "field_equals"

    def setup(self) -> None:
        self.target = self.ref()
        self.path = self.text("path")
        try:
            self.parts = parse_field_path(self.path)
        except ValueError as err:
            raise CheckError(f"field_equals: {err}") from None
        self.expected = as_text(self.fields.get("equals"))

    def default_title(self) -> str:
        return f"{self.target} has {self.path} = {self.expected}"

    def dependencies(self) -> list[Dependency]:
        deps = [Dependency(self.key_for(self.target.kind), frozenset({self.target.name}))]
        if self.target.kind.namespaced:
            deps += self.diagnosis_dependencies()
        return deps

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        ns = self.namespace if self.target.kind.namespaced else None
        subjects = (Subject(self.target.kind.name, self.target.name, ns),)
        obj = find(view, self.target.kind.name, ns, self.target.name)
        if obj is None:
            return waiting(f"{self.target} does not exist yet{self.where(self.target)}", subjects=subjects)
        value = objects.get_path(obj, self.parts)
        if objects.is_missing(value):
            return waiting(f"{self.target} has no {self.path} yet (expected {self.expected})", subjects=subjects)
        actual = as_text(value)
        if actual == self.expected:
            return passed(f"{self.target} has {self.path} = {actual}", subjects=subjects)
        return waiting(
            f"{self.target} has {self.path} = {actual or '(empty)'}, expected {self.expected}", subjects=subjects
        )
