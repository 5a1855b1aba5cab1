"""`http`: an HTTP endpoint answers (any of `urls`), with a status, text, or a non-empty JSON body.

With `served_by`, the answer must also come from a pod of the lesson's workload on the
watched cluster (`served_by.py`): another program on the port does not pass.
"""

from __future__ import annotations

import json
from typing import Any

from tutor.cluster import http_probe, objects
from tutor.cluster.checks.base import Check
from tutor.cluster.checks.context import CheckContext
from tutor.cluster.checks.memory import remember_once
from tutor.cluster.checks.served_by import ServedBy, clean
from tutor.cluster.results import CheckResult, failed, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, WatchKey

_UNSET = object()


def node_addresses(view: ClusterView) -> list[str]:
    return [ip for node in view.objects(WatchKey.of("node")) if (ip := objects.node_internal_ip(node))]


def short(text: str, limit: int = 160) -> str:
    """A body as one line of evidence: whatever answered wrote it, so no control characters."""
    return clean(text, limit)


class Http(Check):
    kind = "http"
    polled = True
    interval = 1.0

    def setup(self) -> None:
        urls = self.fields.get("urls") or [self.fields.get("url")]
        self.urls = [str(url) for url in urls if url]
        self.host = str(self.fields["host"]) if self.fields.get("host") else None
        self.status = self.optional_int("status") or 200
        self.contains = str(self.fields["contains"]) if self.fields.get("contains") is not None else None
        self.json_nonempty = bool(self.fields.get("json_nonempty"))
        self.remember = str(self.fields["remember"]) if self.fields.get("remember") else None
        self.served_by = ServedBy.from_fields(self.fields.get("served_by"))

    def default_title(self) -> str:
        via = f" (Host: {self.host})" if self.host else ""
        return f"{self.urls[0]} answers{via}"

    def dependencies(self) -> list[Dependency]:
        return [
            # Node addresses are the only non-loopback hosts a probe may reach.
            Dependency(WatchKey.of("node"), required=False),
            # Re-probe when what serves the URL changes, without waiting for the interval.
            Dependency(WatchKey.of("pod", self.namespace), required=self.remember is not None),
            Dependency(WatchKey.of("service", self.namespace), required=False),
            Dependency(WatchKey.of("ingress", self.namespace), required=False),
            *(self.served_by.dependencies(self.namespace) if self.served_by else []),
        ]

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        nodes = node_addresses(view)
        results = [self.probe(view, ctx, url, nodes) for url in self.urls]
        for result, value in results:
            if result.passed:
                if self.remember and value is not _UNSET:
                    remember_once(ctx, view, self.remember, value, self.namespace)
                return result
        # The most telling failure: an HTTP answer says more than a refused connection.
        ranked = sorted(results, key=lambda item: {"fail": 0, "waiting": 1}.get(item[0].status, 2))
        if len(results) > 1:
            best = ranked[0][0]
            others = tuple(f"{r.reason}" for r, _ in ranked[1:])
            return CheckResult(best.status, best.reason, best.evidence + others)
        return ranked[0][0]

    def probe(self, view: ClusterView, ctx: CheckContext, url: str, nodes: list[str]) -> tuple[CheckResult, Any]:
        answer = http_probe.get(url, host_header=self.host, node_addresses=nodes)
        if self.served_by is not None and answer.status is not None:
            stranger = self.served_by.judge(
                view, ctx, self.namespace, answer, host_header=self.host, node_addresses=nodes
            )
            if stranger is not None:
                return stranger, _UNSET
        return self.judge(answer)

    def judge(self, answer: http_probe.Answer) -> tuple[CheckResult, Any]:
        url = answer.url
        via = f" with Host: {self.host}" if self.host else ""
        if answer.refused_by_policy:
            return failed(answer.error or "refused"), _UNSET
        if answer.status is None:
            return waiting(f"nothing answers at {url} yet: {answer.error}"), _UNSET
        body = short(answer.text)
        if answer.status != self.status:
            if answer.status >= 500 and self.status < 500:
                return waiting(f"{url} answered {answer.status}{via}: the service behind it is not ready", body), _UNSET
            return failed(f"{url} answered {answer.status}{via}, expected {self.status}", body), _UNSET
        if self.contains is not None and self.contains not in answer.text:
            return failed(f"{url} answered {answer.status} without '{self.contains}' in its body", body), _UNSET
        value: Any = answer.text
        if self.json_nonempty or self.remember:
            try:
                value = json.loads(answer.text)
            except ValueError:
                if self.json_nonempty:
                    return failed(f"{url} did not answer JSON", body), _UNSET
                value = answer.text
            if self.json_nonempty and not (isinstance(value, list | dict) and value):
                return waiting(f"{url} answered an empty {type(value).__name__}: nothing saved yet", body), _UNSET
        detail = f", {len(value)} entr{'y' if len(value) == 1 else 'ies'}" if isinstance(value, list) else ""
        return passed(f"{url} answered {answer.status}{via}{detail}", body), value
