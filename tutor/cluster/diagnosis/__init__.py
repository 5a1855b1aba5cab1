"""Diagnosis: when a check does not pass, what an expert would look at, and how to see it.

Each rule is a function of a `Case` (the check's subjects and the watched objects
around them) that yields `Finding`s; rules run in the order of `RULES`, which puts
the root causes (API down, image cannot be pulled) ahead of their symptoms (events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tutor.cluster.diagnosis import cluster_rules, event_rules, network_rules, pod_rules, storage_rules
from tutor.cluster.diagnosis.case import Case
from tutor.cluster.results import Finding

Rule = Callable[[Case], Iterable[Finding]]

RULES: tuple[Rule, ...] = (
    cluster_rules.api_unreachable,
    cluster_rules.namespace_terminating,
    pod_rules.image_pull,
    pod_rules.crash_loop,
    pod_rules.container_config,
    pod_rules.unschedulable,
    pod_rules.init_containers,
    storage_rules.minikube_restarted_default,
    storage_rules.default_class_count,
    storage_rules.pvc_pending,
    network_rules.ingress_controller,
    network_rules.ingress_no_address,
    network_rules.loadbalancer_pending,
    network_rules.rollout_stuck,
    event_rules.recent_events,
)

MAX_FINDINGS = 6

UNREAD_RULES: tuple[Rule, ...] = (cluster_rules.api_unreachable,)
"""The rules that still hold while the cluster's objects cannot be read (no cluster, API
down, a list not in yet): the others would judge an empty cache ("no default
StorageClass") and mislead."""


def diagnose(case: Case, *, objects_read: bool = True) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for rule in RULES if objects_read else UNREAD_RULES:
        findings.extend(rule(case))
    return tuple(findings[:MAX_FINDINGS])


__all__ = ["RULES", "Case", "Finding", "diagnose"]
