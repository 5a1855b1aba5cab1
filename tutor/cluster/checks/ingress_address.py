"""`ingress_address`: an Ingress has been given an address by its controller."""

from __future__ import annotations

from tutor.cluster import objects
from tutor.cluster.checks.base import Check
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.results import CheckResult, Subject, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, WatchKey, find

CONTROLLER_NAMESPACE = "ingress-nginx"
"""Where minikube's ingress addon runs its controller (read for diagnosis only)."""


class IngressAddress(Check):
    kind = "ingress_address"

    def setup(self) -> None:
        self.name = self.text("name")

    def default_title(self) -> str:
        return f"ingress {self.name} has an address"

    def dependencies(self) -> list[Dependency]:
        return [
            Dependency(WatchKey.of("ingress", self.namespace), frozenset({self.name})),
            Dependency(WatchKey.of("ingressclass"), required=False),
            Dependency(WatchKey.of("deployment", CONTROLLER_NAMESPACE), required=False),
            Dependency(WatchKey.of("service", self.namespace), required=False),
            *self.diagnosis_dependencies(),
        ]

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        subjects = (Subject("ingress", self.name, self.namespace),)
        ingress = find(view, "ingress", self.namespace, self.name)
        if ingress is None:
            return waiting(f"ingress {self.name} does not exist yet in {self.namespace}", subjects=subjects)
        addresses = objects.load_balancer_addresses(ingress)
        if addresses:
            return passed(f"ingress {self.name} has the address {', '.join(addresses)}", subjects=subjects)
        return waiting(f"ingress {self.name} has no address yet: its controller has not taken it on", subjects=subjects)
