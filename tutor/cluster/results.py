"""What evaluating a check gives: a status, a reason in words, evidence, and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "waiting", "fail"]
"""`waiting`: not there yet, and the next command or the cluster's own progress can get
it there. `fail`: the cluster reports a state that waiting will not mend (an image that
cannot be pulled, a crash loop, a wrong HTTP answer, a process that exited)."""

Unjudged = Literal["connection", "loading"]
"""Why a waiting result is not the check's own verdict: the cluster cannot be read now
(`connection`: no cluster yet, refused, unreachable, reconnecting), or what the check reads
is still being read (`loading`). A view says the first once for all checks, and the second
not at all."""


@dataclass(frozen=True)
class Finding:
    """One thing an expert would look at, with the command that shows it."""

    rule: str
    """Which diagnosis rule produced it (stable: scripts may match on it)."""
    message: str
    evidence: tuple[str, ...] = ()
    command: str | None = None
    """The kubectl (or minikube) command that shows the evidence."""

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "evidence": list(self.evidence), "command": self.command}


@dataclass(frozen=True)
class Subject:
    """An object a check is about, named for diagnosis (which reads it from the view)."""

    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class CheckResult:
    status: Status
    reason: str
    """One line: why it passes, what it waits for (progress in words), or why it fails."""
    evidence: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    subjects: tuple[Subject, ...] = field(default=(), compare=False)
    """The objects involved, for diagnosis; not part of what the learner sees."""
    unjudged: Unjudged | None = None
    """Set when the check could not be judged (see `Unjudged`)."""

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def with_findings(self, findings: tuple[Finding, ...]) -> CheckResult:
        return CheckResult(self.status, self.reason, self.evidence, findings, self.subjects, self.unjudged)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "findings": [finding.to_json() for finding in self.findings],
        }


def passed(reason: str, *evidence: str, subjects: tuple[Subject, ...] = ()) -> CheckResult:
    return CheckResult("pass", reason, tuple(evidence), subjects=subjects)


def waiting(
    reason: str, *evidence: str, subjects: tuple[Subject, ...] = (), unjudged: Unjudged | None = None
) -> CheckResult:
    return CheckResult("waiting", reason, tuple(evidence), subjects=subjects, unjudged=unjudged)


def failed(reason: str, *evidence: str, subjects: tuple[Subject, ...] = ()) -> CheckResult:
    return CheckResult("fail", reason, tuple(evidence), subjects=subjects)
