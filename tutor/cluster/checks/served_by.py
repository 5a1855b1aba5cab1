"""`served_by`: the answer at a URL comes from the lesson's app on the watched cluster.

Anything can listen on 127.0.0.1:9090: a learner's old port-forward to another cluster,
a web server left running, a program that imitates the game. The Pac-Man app names the
pod that served a request (`GET /location/metadata` answers `{"cloud", "zone", "host"}`,
`host` being the pod's hostname, which is its name), so an `http` or `data_survives`
check with

    served_by: {kind: deployment, name: pacman}

passes only when the pod named there exists in the check's namespace on the watched
cluster, runs, and is one of that workload's pods, followed through its owners with
their uids (pod -> ReplicaSet -> Deployment, or pod -> StatefulSet). `path` asks a
second URL on the same address for the name (the check's own URL is used without it);
`field` is where the name is in its JSON (default `host`).

What this proves: whatever answers relays to a pod of the lesson's app on this cluster
(a port-forward, a tunnel, an Ingress), not which program relays it, so the learner's
own `kubectl port-forward` counts as much as the tutor's. A program that copies the
name of a running pod would pass: it is a guard against mistakes and look-alikes, not
against someone who can read the cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tutor.cluster import http_probe, objects
from tutor.cluster.checks.base import CheckError
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.objects import Obj
from tutor.cluster.results import CheckResult, failed, waiting
from tutor.cluster.view import ClusterView, Dependency, WatchKey, find
from tutor.lesson import schema

WORKLOAD_KINDS = schema.SERVED_BY_KINDS
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(text: str, limit: int = 160) -> str:
    """Text a stranger wrote, fit for a line on the learner's screen: one line, no control characters."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class ServedBy:
    kind: str
    """deployment, statefulset, daemonset or replicaset."""
    name: str
    path: str | None = None
    field: tuple[str | int, ...] = ("host",)

    @classmethod
    def from_fields(cls, value: Any) -> ServedBy | None:
        if value is None:
            return None
        problem = schema.served_by(value)
        if problem:
            raise CheckError(f"served_by {problem}")
        assert isinstance(value, Mapping)
        field_path = schema.parse_field_path(str(value.get("field", "host")))
        return cls(str(value["kind"]), str(value["name"]), value.get("path"), field_path)

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    def dependencies(self, namespace: str) -> list[Dependency]:
        keys = [WatchKey.of("pod", namespace), WatchKey.of(self.kind, namespace)]
        if self.kind == "deployment":
            keys.append(WatchKey.of("replicaset", namespace))
        return [Dependency(key) for key in keys]

    def judge(
        self,
        view: ClusterView,
        ctx: CheckContext,
        namespace: str,
        answer: http_probe.Answer,
        *,
        host_header: str | None,
        node_addresses: list[str],
    ) -> CheckResult | None:
        """None when the lesson's app answered `answer`; otherwise why not (waiting or fail)."""
        parts = urlsplit(answer.url)
        origin = parts.netloc + (f" (Host: {host_header})" if host_header else "")
        stranger = f"something else answers on {origin}"
        identity = answer
        if self.path is not None:
            url = urlunsplit((parts.scheme, parts.netloc, self.path, "", ""))
            identity = http_probe.get(url, host_header=host_header, node_addresses=node_addresses)
            if identity.status is None:
                return waiting(f"nothing answers at {url} yet: {identity.error}")
        evidence = [f"it answered {identity.url} with: {clean(identity.text) or '(nothing)'}"]
        holder = _holder(ctx, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        if holder:
            evidence.append(f"the program listening there: {holder}")
        assert identity.status is not None
        if identity.status >= 500 and self.path is None:
            return None  # the app is there but not ready: the check's own judgement says so
        if identity.status != 200:
            return failed(
                f"{stranger}: {identity.url} answered {identity.status}, where the lesson's app names its pod",
                *evidence,
                *self._pods_line(view, namespace),
            )
        pod_name = self._named_pod(identity.text)
        if pod_name is None:
            field_name = ".".join(str(part) for part in self.field)
            return failed(
                f"{stranger}: its answer names no pod (no '{field_name}' in {identity.url}'s JSON)",
                *evidence,
                *self._pods_line(view, namespace),
            )
        shown = clean(pod_name, 80)
        pod = find(view, "pod", namespace, pod_name)
        if pod is None and view.read_now("pod", namespace, pod_name) is not None:
            # Created a moment ago: the watch has not brought it yet, and will (judged again then).
            return waiting(f"{origin} names pod {shown}, which the cluster's watch has not shown yet")
        if pod is None:
            return failed(
                f"{stranger}: it names pod {shown}, which does not exist in namespace {namespace}",
                *evidence,
                *self._pods_line(view, namespace),
            )
        owner = self.owner_problem(view, namespace, pod)
        if owner:
            return failed(
                f"{stranger}: it names pod {shown}, which is not a pod of {self} ({owner})",
                *evidence,
                *self._pods_line(view, namespace),
            )
        if objects.pod_phase(pod) != "Running":
            return waiting(f"{origin} names pod {shown}, which the cluster does not show running yet")
        return None

    def _named_pod(self, body: str) -> str | None:
        try:
            value = objects.get_path(json.loads(body), self.field)
        except ValueError:
            return None
        return value if isinstance(value, str) and value else None

    def owner_problem(self, view: ClusterView, namespace: str, pod: Obj) -> str | None:
        """None when `pod` belongs to the workload; otherwise whose it is, in words."""
        owner = objects.controller_ref(pod)
        if owner is None:
            return "it has no owner"
        owner_kind, owner_name, owner_uid = owner
        if self.kind == "deployment" and owner_kind == "ReplicaSet":
            replicaset = find(view, "replicaset", namespace, owner_name)
            if replicaset is None or objects.uid(replicaset) != owner_uid:
                return f"its ReplicaSet {owner_name} is gone"
            above = objects.controller_ref(replicaset)
            if above is None:
                return f"it belongs to replicaset/{owner_name}, which no Deployment owns"
            owner_kind, owner_name, owner_uid = above
        wanted = find(view, self.kind, namespace, self.name)
        if owner_kind.lower() == self.kind and owner_name == self.name:
            if wanted is None or objects.uid(wanted) != owner_uid:
                return f"{self} is gone; the pod is left from an earlier one"
            return None
        return f"it belongs to {owner_kind.lower()}/{owner_name}"

    def _pods_line(self, view: ClusterView, namespace: str) -> list[str]:
        """The pods that would be the right answer, for the evidence."""
        if find(view, self.kind, namespace, self.name) is None:
            return [f"{self} does not exist in namespace {namespace}"]
        pods = [
            pod
            for pod in view.objects(WatchKey.of("pod", namespace))
            if self.owner_problem(view, namespace, pod) is None
        ]
        if not pods:
            return [f"{self} has no pods in namespace {namespace}"]
        names = ", ".join(sorted(f"{objects.name(pod)} ({objects.pod_phase(pod)})" for pod in pods)[:5])
        return [f"pods of {self} in namespace {namespace}: {names}"]


def _holder(ctx: CheckContext, host: str, port: int) -> str | None:
    """Which program listens there, when it is on this machine and the session can tell."""
    if not http_probe.is_loopback(host):
        return None
    return ctx.listener(port)
