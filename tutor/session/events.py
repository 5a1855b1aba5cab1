"""What a lesson session tells its views, as past events.

The TUI and the plain line mode both consume exactly these; neither reaches into the
session's state. Events are immutable and carry what a view needs to draw them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeVar

from tutor.safe_text import strip_controls

if TYPE_CHECKING:  # the run layer's own type, named only: events load before it
    from tutor.run.ports import PortUse

Status = Literal["pass", "waiting", "fail"]
_T = TypeVar("_T")


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
class ShellSetup:
    """How the learner points a shell of their own at the lesson's cluster."""

    line: str
    """What to type there: one line, to copy."""
    about: str
    """What it does, in a sentence."""


@dataclass(frozen=True)
class LessonOpened(Event):
    lesson: str
    title: str
    cluster: str
    sandbox: bool
    completed: tuple[str, ...]
    current: str
    notices: tuple[str, ...] = ()
    shell: ShellSetup | None = None


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
    process: str | None = None
    """A background command's id (what ProcessChanged names)."""


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
    """One line of output: no control characters, but its colours (SGR sequences) if it had any."""


@dataclass(frozen=True)
class OutputRepeated(Event):
    """A background command printed its last line again: `count` times in a row so far
    ("Handling connection for 9090"). Its first time came as an OutputLine."""

    run: str
    text: str
    count: int


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
class PortTaken(Event):
    """A background command was not started: another program holds the port it would listen on."""

    run: str
    step: str
    process: str
    port: int
    use: PortUse
    """What holds it, as far as the system says."""
    variable: str | None = None
    """The lesson variable that moves the command to another port (`set_variable`), if one does."""
    suggestion: int | None = None
    """A port that is free now, to offer."""


@dataclass(frozen=True)
class AlreadyServed(Event):
    """A background command was not started: the lesson's app already answers at its port
    (a forward the learner started in a terminal of their own); a second one would collide."""

    run: str
    step: str
    process: str
    port: int


@dataclass(frozen=True)
class VariableChanged(Event):
    """A lesson variable has a new value from now on: commands shown and run, checks."""

    name: str
    value: str
    stopped: tuple[str, ...] = ()
    """Background commands stopped because they listened on the old value."""


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


def shown_safely(event: Event) -> Event:
    """`event` with every text in it fit for a terminal (`tutor.safe_text`).

    The session emits only what this returns: whatever the cluster, a lesson or a command
    wrote reaches a view without control sequences; output lines keep their colours.
    """
    if isinstance(event, OutputLine):
        text = strip_controls(event.text, keep_colours=True)
        return event if text is event.text else OutputLine(event.run, text)
    return _safe(event)


def _safe(value: _T) -> _T:
    if isinstance(value, str):
        return strip_controls(value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        items = tuple(_safe(item) for item in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items  # type: ignore[return-value]
    if is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for item in fields(value):
            current = getattr(value, item.name)
            cleaned = _safe(current)
            if cleaned is not current:
                changed[item.name] = cleaned
        return replace(value, **changed) if changed else value
    return value
