"""Rules about the cluster as a whole: the API itself, namespaces."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.cluster import objects
from tutor.cluster.diagnosis.case import Case
from tutor.cluster.results import Finding
from tutor.cluster.view import find


def api_unreachable(case: Case) -> Iterator[Finding]:
    status = case.view.connection
    if status.state in ("reconnecting", "unreachable"):
        where = status.server or "the API server"
        evidence = tuple(item for item in (status.last_error,) if item)
        yield Finding(
            "api_unreachable",
            f"{where} does not answer ({status.describe()}); what is shown may be out of date",
            evidence,
            case.minikube("status") if case.profile else "kubectl cluster-info",
        )


def namespace_terminating(case: Case) -> Iterator[Finding]:
    seen = set()
    for subject in case.subjects:
        ns = subject.namespace
        if ns is None or ns in seen:
            continue
        seen.add(ns)
        namespace = find(case.view, "namespace", None, ns)
        if namespace is not None and (
            objects.terminating(namespace) or objects.status(namespace).get("phase") == "Terminating"
        ):
            yield Finding(
                "namespace_terminating",
                f"namespace {ns} is being deleted (Terminating): wait until it is gone, then create it again",
                (f"{ns}  Terminating",),
                f"kubectl get namespace {ns}",
            )
