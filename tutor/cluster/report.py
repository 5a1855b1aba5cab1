"""The headless check's report: a table for people, a stable JSON document for scripts.

JSON schema, version 2 (docs/checks.md describes every field; fields are only ever
added within a version; 2 added the status `not_judged`):

    {"version": 2,
     "lesson": {"id", "title"},
     "context": {"name", "server", "cluster_kind", "local", "profile"} | null,
     "connection": {"state", "message", "last_error"},
     "passed": bool,
     "summary": {"pass": n, "waiting": n, "fail": n, "not_judged": n},
     "start": bool,
     "started": [{"id", "step", "command", "ready", "detail"}],
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

SCHEMA_VERSION = 2
STATUSES = ("pass", "waiting", "fail", "not_judged")
STATUS_WORDS = {"pass": "PASS", "waiting": "WAIT", "fail": "FAIL", "not_judged": "NOT JUDGED"}


@dataclass(frozen=True)
class CheckLine:
    kind: str
    title: str
    result: CheckResult
    note: str = ""
    """What this run did for the check that the learner should know (a command it started, which failed)."""
    not_judged: str | None = None
    """Why this run does not judge the check (what it needs is not running, and was not
    started); None when it is judged. A check not judged is neither passed nor failed: it is
    shown, with `result` as what was seen, and left out of `passed` and the exit status."""

    @property
    def counts(self) -> bool:
        return self.not_judged is None

    @property
    def status(self) -> str:
        return self.result.status if self.not_judged is None else "not_judged"

    def to_json(self) -> dict[str, Any]:
        fields = {"kind": self.kind, "title": self.title, "counts": self.counts, **self.result.to_json()}
        if self.note:
            fields["evidence"] = [*fields["evidence"], self.note]
        if self.not_judged is not None:
            seen = [f"seen without it: {self.result.reason}", *self.result.evidence]
            fields.update(status="not_judged", reason=self.not_judged, evidence=seen, findings=[])
        return fields


@dataclass(frozen=True)
class Started:
    """A background command of the lesson this run started for its checks, and stopped after."""

    process: str
    step: str
    command: str
    ready: bool
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.process,
            "step": self.step,
            "command": self.command,
            "ready": self.ready,
            "detail": self.detail,
        }


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
    started: tuple[Started, ...] = ()
    start: bool = True
    """Whether this run could start what its checks need (False: `--no-start`)."""

    @property
    def passed(self) -> bool:
        """Every check judged passes, and at least one was judged: nothing judged is no answer."""
        return any(line.counts for step in self.steps for line in step.checks) and all(
            step.passed for step in self.steps
        )

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for step in self.steps:
            for line in step.checks:
                counts[line.status] += 1
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
            "start": self.start,
            "started": [item.to_json() for item in self.started],
            "steps": [
                {
                    "id": step.id,
                    "title": step.title,
                    "passed": step.passed,
                    "checks": [line.to_json() for line in step.checks],
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
        if self.started:
            lines.append("started for this check, and stopped after it:")
            lines.extend(
                f"  {item.command}  ({'ready' if item.ready else 'not ready: ' + item.detail})" for item in self.started
            )
        lines.append("")
        width = max((len(step.id) for step in self.steps), default=4)
        shown = {line.status for step in self.steps for line in step.checks}
        column = max((len(STATUS_WORDS[status]) for status in shown), default=4)
        indent = " " * (width + column + 4)
        for step in self.steps:
            for line in step.checks:
                lines.append(f"{step.id:<{width}}  {STATUS_WORDS[line.status]:<{column}}  {line.title}")
                if line.not_judged is not None:
                    lines.append(f"{indent}{line.not_judged}")
                elif not line.result.passed:
                    lines.append(f"{indent}{line.result.reason}")
                    if line.note:
                        lines.append(f"{indent}{line.note}")
                    for finding in line.result.findings:
                        lines.extend(_finding_lines(finding, indent=indent))
        counted = [line for step in self.steps for line in step.checks if line.counts]
        counts = {status: sum(line.status == status for line in counted) for status in ("pass", "waiting", "fail")}
        unjudged = self.summary()["not_judged"]
        lines.append("")
        lines.append(
            f"{counts['pass']}/{len(counted)} checks pass"
            + (f", {counts['waiting']} waiting" if counts["waiting"] else "")
            + (f", {counts['fail']} failing" if counts["fail"] else "")
            + (f"; {unjudged} not judged" if unjudged else "")
            + ("" if counted or not unjudged else ": nothing was judged, which is no answer")
        )
        return "\n".join(lines)


def _finding_lines(finding: Any, indent: str) -> Sequence[str]:
    out = [f"{indent}- {finding.message}"]
    out.extend(f"{indent}    {item}" for item in finding.evidence)
    if finding.command:
        out.append(f"{indent}    see: {finding.command}")
    return out
