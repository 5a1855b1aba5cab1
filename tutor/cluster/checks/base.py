"""The shape every check kind shares.

A check is built from a lesson's `CheckSpec` with its variables already substituted.
It declares the watch keys it reads (`dependencies`) and evaluates to a `CheckResult`
over a `ClusterView`. Watch-driven kinds are pure functions of the view and run on the
engine's thread whenever an event touches one of their keys; `polled` kinds do I/O
(HTTP, processes, commands) and run on the engine's probe thread, every `interval`
seconds and whenever one of their keys changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult
from tutor.cluster.view import ClusterView, Dependency, WatchKey
from tutor.lesson import resources


class CheckError(ValueError):
    """A check that cannot be built from its fields (after substitution); the message says why."""


class Check(ABC):
    kind: ClassVar[str]
    polled: ClassVar[bool] = False
    interval: ClassVar[float] = 0.0
    """Seconds between two probes of a polled check."""
    wanted_default: str | None = None
    """The StorageClass the check wants as the only default: diagnosis then looks for what
    undoes that (a minikube restart)."""

    def __init__(self, fields: Mapping[str, Any], *, namespace: str, title: str | None = None) -> None:
        self.fields = dict(fields)
        self.namespace = str(self.fields.get("namespace") or namespace)
        self._title = title or (str(self.fields["title"]) if self.fields.get("title") else None)
        self.setup()

    def setup(self) -> None:  # noqa: B027 - most kinds have fields to read, a few have none
        """Read and check the kind's own fields; raise CheckError with a message."""

    @property
    def title(self) -> str:
        return self._title or self.default_title()

    @abstractmethod
    def default_title(self) -> str:
        """What the learner reads when the author gave no title."""

    @abstractmethod
    def dependencies(self) -> list[Dependency]:
        """The watch keys this check (and the diagnosis of its subjects) reads."""

    @abstractmethod
    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult: ...

    # --- helpers for the kinds ---------------------------------------------------------

    def text(self, key: str) -> str:
        return str(self.fields[key])

    def optional_int(self, key: str) -> int | None:
        value = self.fields.get(key)
        if value is None:
            return None
        try:
            return int(str(value).strip())
        except ValueError:
            raise CheckError(f"{self.kind}: '{key}' must be a whole number, not {value!r}") from None

    def ref(self, key: str = "object") -> resources.ObjectRef:
        try:
            return resources.parse_ref(self.text(key))
        except resources.BadObjectRef as err:
            raise CheckError(f"{self.kind}: {err}") from None

    def where(self, ref: resources.ObjectRef) -> str:
        """` in namespace pacman` for a namespaced object, nothing for a cluster-wide one."""
        return f" in namespace {self.namespace}" if ref.kind.namespaced else ""

    def key_for(self, kind: resources.ResourceKind, selector: str | None = None) -> WatchKey:
        return WatchKey.of(kind.name, self.namespace if kind.namespaced else None, selector)

    def namespace_dependency(self) -> Dependency:
        """Namespace status, for the 'namespace is Terminating' diagnosis."""
        return Dependency(WatchKey.of("namespace"), frozenset({self.namespace}), required=False)

    def diagnosis_dependencies(self) -> list[Dependency]:
        """What diagnosing objects in this check's namespace reads: events, claims, classes."""
        return [
            self.namespace_dependency(),
            Dependency(WatchKey.of("event", self.namespace), required=False),
            Dependency(WatchKey.of("pvc", self.namespace), required=False),
            Dependency(WatchKey.of("storageclass"), required=False),
        ]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.title!r}>"
