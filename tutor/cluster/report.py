"""The headless check's report: a table for people, a stable JSON document for scripts.

JSON schema, version 1 (docs/checks.md describes every field; fields are only ever
added within a version):

    {"version": 1,
     "lesson": {"id", "title"},
     "context": {"name", "server", "cluster_kind", "local", "profile"} | null,
     "connection": {"state", "message", "last_error"},
     "passed": bool,
     "summary": {"pass": n, "waiting": n, "fail": n},
     "steps": [{"id", "title", "passed",
                "checks": [{"kind", "title", "counts", "status", "reason", "evidence": [...],
                            "findings": [{"rule", "message", "evidence": [...], "command"}]}]}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tutor.cluster.kubeconfig import ContextInfo
from tutor.cluster.results import CheckResult
from tutor.cluster.status import ConnectionStatus

SCHEMA_VERSION = 1
STATUS_WORDS = {"pass": "PASS", "waiting": "WAIT", "fail": "FAIL"}


@dataclass(frozen=True)
class CheckLine:
    kind: str
    title: str
    result: CheckResult
    counts: bool = True
    """False for what this run cannot judge (a process only the tutor starts): shown, but
    left out of `passed` and the exit status."""


@dataclass(frozen=True)
class StepReport:
    id: str
    title: str
    checks: tuple[CheckLine, ...]

    @property
    def passed(self) -> bool:
        return all(line.result.passed for line in self.checks if line.counts)


@dataclass(frozen=True)
class Report:
    lesson_id: str
    lesson_title: str
    steps: tuple[StepReport, ...]
    context: ContextInfo | None
    connection: ConnectionStatus

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)

    def summary(self) -> dict[str, int]:
        counts = {"pass": 0, "waiting": 0, "fail": 0}
        for step in self.steps:
            for line in step.checks:
                counts[line.result.status] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        context = None
        if self.context is not None:
            context = {
                "name": self.context.name,
                "server": self.context.server,
                "cluster_kind": (self.context.kind or "loopback") if self.context.is_local else "remote",
                "local": self.context.is_local,
                "profile": self.context.minikube_profile,
            }
        return {
            "version": SCHEMA_VERSION,
            "lesson": {"id": self.lesson_id, "title": self.lesson_title},
            "context": context,
            "connection": {
                "state": self.connection.state,
                "message": self.connection.message or self.connection.describe(),
                "last_error": self.connection.last_error,
            },
            "passed": self.passed,
            "summary": self.summary(),
            "steps": [
                {
                    "id": step.id,
                    "title": step.title,
                    "passed": step.passed,
                    "checks": [
                        {"kind": line.kind, "title": line.title, **line.result.to_json()} for line in step.checks
                    ],
                }
                for step in self.steps
            ],
        }

    def to_text(self) -> str:
        lines = [f"{self.lesson_id}: {self.lesson_title}"]
        if self.context is not None:
            lines.append(f"cluster: {self.context.describe()}")
        if not self.connection.ok:
            lines.append(f"connection: {self.connection.describe()}")
        lines.append("")
        width = max((len(step.id) for step in self.steps), default=4)
        for step in self.steps:
            for line in step.checks:
                status = STATUS_WORDS[line.result.status]
                note = "" if line.counts else " (not counted here)"
                lines.append(f"{step.id:<{width}}  {status}  {line.title}{note}")
                if not line.result.passed:
                    lines.append(f"{'':<{width}}        {line.result.reason}")
                    for finding in line.result.findings:
                        lines.extend(_finding_lines(finding, indent=" " * (width + 8)))
        counted = [line for step in self.steps for line in step.checks if line.counts]
        uncounted = sum(len(step.checks) for step in self.steps) - len(counted)
        counts = {
            status: sum(line.result.status == status for line in counted) for status in ("pass", "waiting", "fail")
        }
        lines.append("")
        lines.append(
            f"{counts['pass']}/{len(counted)} checks pass"
            + (f", {counts['waiting']} waiting" if counts["waiting"] else "")
            + (f", {counts['fail']} failing" if counts["fail"] else "")
            + (f" ({uncounted} more not counted here)" if uncounted else "")
        )
        return "\n".join(lines)


def _finding_lines(finding: Any, indent: str) -> Sequence[str]:
    out = [f"{indent}- {finding.message}"]
    out.extend(f"{indent}    {item}" for item in finding.evidence)
    if finding.command:
        out.append(f"{indent}    see: {finding.command}")
    return out
