"""What a lesson session tells its views, as past events.

The TUI and the plain line mode both consume exactly these; neither reaches into the
session's state. Events are immutable and carry what a view needs to draw them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "waiting", "fail"]


@dataclass(frozen=True)
class Finding:
    """Evidence for why a check is not passing, with the command that shows it."""

    message: str
    evidence: tuple[str, ...] = ()
    command: str | None = None


@dataclass(frozen=True)
class CheckResult:
    step: str
    index: int
    """Position of the check in its step."""
    title: str
    kind: str
    status: Status
    reason: str = ""
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class LessonOpened(Event):
    lesson: str
    title: str
    cluster: str
    sandbox: bool
    completed: tuple[str, ...]
    current: str
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionChanged(Event):
    state: Literal["connected", "connecting", "reconnecting", "unreachable", "no-cluster", "rejected"]
    detail: str = ""
    context: str = ""
    """The context the session's commands and checks go to ("" while there is none)."""
    server: str = ""
    """Its API server's address."""


@dataclass(frozen=True)
class StepShown(Event):
    step: str
    index: int
    done: bool


@dataclass(frozen=True)
class StepCompleted(Event):
    step: str


@dataclass(frozen=True)
class StepUnlocked(Event):
    step: str


@dataclass(frozen=True)
class ChecksChanged(Event):
    step: str
    results: tuple[CheckResult, ...]

    @property
    def passing(self) -> bool:
        return bool(self.results) and all(result.status == "pass" for result in self.results)


@dataclass(frozen=True)
class DriftFound(Event):
    """A step completed earlier no longer holds on this cluster."""

    step: str
    results: tuple[CheckResult, ...]


@dataclass(frozen=True)
class CommandStarted(Event):
    run: str
    """Identifies this run of the command in later OutputLine/CommandFinished events."""
    step: str
    text: str
    background: bool = False


@dataclass(frozen=True)
class StepRunning(Event):
    """The session starts (`running`) or ends running a step's commands, one after another
    (the learner's "run this step", autoplay, fast-forward); single commands are not framed."""

    step: str
    running: bool


@dataclass(frozen=True)
class OutputLine(Event):
    run: str
    text: str


@dataclass(frozen=True)
class CommandFinished(Event):
    run: str
    step: str
    text: str
    ok: bool
    exit_status: int | None
    detail: str = ""


@dataclass(frozen=True)
class ProcessChanged(Event):
    """A background command (port-forward, tunnel) changed state."""

    process: str
    state: Literal["starting", "ready", "restarting", "exited", "failed", "stopped"]
    detail: str = ""


@dataclass(frozen=True)
class InputNeeded(Event):
    """A command waits for the learner at the terminal (a sudo password)."""

    run: str
    text: str
    prompt: str
    lent: bool = False
    """True: the command is run again with the learner's terminal; False: run it yourself."""


@dataclass(frozen=True)
class Notice(Event):
    text: str
    level: Literal["info", "warning", "error"] = "info"


@dataclass(frozen=True)
class LessonCompleted(Event):
    lesson: str


@dataclass(frozen=True)
class AutoplayStopped(Event):
    """Autoplay gave up on a step: its checks did not pass in time."""

    step: str
    results: tuple[CheckResult, ...] = field(default_factory=tuple)
    reason: str = ""
