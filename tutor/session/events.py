"""What a lesson session tells its views, as past events.

The TUI and the plain line mode both consume exactly these (`Event`, a closed union a view
dispatches with `match`); neither reaches into the session's state for what happened.
Events are values: made once, never changed (plain dataclasses: frozen ones take twice as
long to define, and this module loads with the session, at start-up), and carry the lower
layers' own types: a check's result is the
cluster layer's `CheckResult`, a connection is its `ConnectionStatus`, a background
command's state is the run layer's `ProcessState`. Those are named here for the type
checker only: the session and its events load at start-up, the cluster and run layers
once the cluster is attached.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeVar

from tutor.safe_text import strip_controls

if TYPE_CHECKING:
    from tutor.cluster.object_map import ObjectMap
    from tutor.cluster.results import CheckResult
    from tutor.cluster.status import ConnectionStatus
    from tutor.lesson.questions import Verdict
    from tutor.run import PortUse, ProcessState

_T = TypeVar("_T")


@dataclass(frozen=True)
class CheckId:
    """Which check: its step, and its place among the step's checks."""

    step: str
    index: int


@dataclass(frozen=True)
class StepCheck:
    """A check of a step as the learner follows it: which, its title, how it stands."""

    id: CheckId
    title: str
    result: CheckResult


def all_pass(checks: tuple[StepCheck, ...]) -> bool:
    return bool(checks) and all(check.result.passed for check in checks)


@dataclass
class ShellSetup:
    """How the learner points a shell of their own at the lesson's cluster."""

    line: str
    """What to type there: one line, to copy."""
    about: str
    """What it does, in a sentence."""


@dataclass
class LessonOpened:
    lesson: str
    title: str
    cluster: str
    sandbox: bool
    completed: tuple[str, ...]
    current: str
    notices: tuple[str, ...] = ()
    shell: ShellSetup | None = None


@dataclass
class ConnectionChanged:
    status: ConnectionStatus


@dataclass
class StepShown:
    step: str
    index: int
    done: bool


@dataclass
class StepCompleted:
    """The step's checks all pass: it is done, and the step after it is unlocked."""

    step: str


@dataclass
class ChecksChanged:
    step: str
    checks: tuple[StepCheck, ...]


@dataclass
class DriftFound:
    """A step completed earlier no longer holds on this cluster."""

    step: str
    checks: tuple[StepCheck, ...]


@dataclass
class HintShown:
    """The learner asked for a hint: `shown` of the step's hints are revealed now."""

    step: str
    shown: int


@dataclass
class QuestionAnswered:
    """The learner answered one of a step's questions (or asked to see the answer), and how it went.

    Sent for every try, right or wrong; an answer that is not one (`z` to a three-choice
    question) is judged UNREADABLE and is not a try. What the instructor's board counts.
    """

    step: str
    question: str
    answer: str
    """What was given: the learner's words, or the right answer when it was `revealed`."""
    verdict: Verdict
    """The lesson layer's judgement; its explanation has the variables filled in."""
    tries: int
    """Answers judged right or wrong so far, this one included."""
    revealed: bool = False
    """The tutor gave the answer: the learner asked to see it, or autoplay answered."""


@dataclass
class CommandStarted:
    run: str
    """Identifies this run of the command in later OutputLine/CommandFinished events."""
    step: str
    text: str
    background: bool = False
    process: str | None = None
    """A background command's id (what ProcessChanged names)."""


@dataclass
class StepRunning:
    """The session starts (`running`) or ends running a step's commands, one after another
    (the learner's "run this step", autoplay, fast-forward); single commands are not framed."""

    step: str
    running: bool


@dataclass
class OutputLine:
    run: str
    text: str
    """One line of output: no control characters, but its colours (SGR sequences) if it had any."""
    count: int = 1
    """More than 1: a background command printed this line again, `count` times in a row so
    far ("Handling connection for 9090"); its first time came with a count of 1."""


@dataclass
class CommandFinished:
    run: str
    step: str
    text: str
    ok: bool
    exit_status: int | None
    detail: str = ""


@dataclass
class ProcessChanged:
    """A background command (port-forward, tunnel) changed state."""

    process: str
    state: ProcessState
    detail: str = ""


@dataclass
class PortTaken:
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


@dataclass
class AlreadyServed:
    """A background command was not started: the lesson's app already answers at its port
    (a forward the learner started in a terminal of their own); a second one would collide."""

    run: str
    step: str
    process: str
    port: int


@dataclass
class VariableChanged:
    """A lesson variable has a new value from now on: commands shown and run, checks."""

    name: str
    value: str
    stopped: tuple[str, ...] = ()
    """Background commands stopped because they listened on the old value."""


@dataclass
class InputNeeded:
    """A command waits for the learner at the terminal (a sudo password)."""

    run: str
    text: str
    prompt: str
    lent: bool = False
    """True: the command is run again with the learner's terminal; False: run it yourself."""


@dataclass
class Notice:
    text: str
    level: Literal["info", "warning", "error"] = "info"


@dataclass
class MapChanged:
    """The live object map (shown on the learner's request: `LessonSession.show_map`) changed."""

    map: ObjectMap


@dataclass
class LessonCompleted:
    lesson: str


@dataclass
class AutoplayStopped:
    """Autoplay or fast-forward gave up on a step: its checks did not pass in time."""

    step: str
    checks: tuple[StepCheck, ...] = ()
    reason: str = ""


Event = (
    LessonOpened
    | ConnectionChanged
    | StepShown
    | StepCompleted
    | ChecksChanged
    | DriftFound
    | HintShown
    | QuestionAnswered
    | CommandStarted
    | StepRunning
    | OutputLine
    | CommandFinished
    | ProcessChanged
    | PortTaken
    | AlreadyServed
    | VariableChanged
    | InputNeeded
    | Notice
    | MapChanged
    | LessonCompleted
    | AutoplayStopped
)


def shown_safely(event: Event) -> Event:
    """`event` with every text in it fit for a terminal (`tutor.safe_text`).

    The session emits only what this returns: whatever the cluster, a lesson or a command
    wrote reaches a view without control sequences; output lines keep their colours.
    """
    if isinstance(event, OutputLine):
        text = strip_controls(event.text, keep_colours=True)
        return event if text is event.text else replace(event, text=text)
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
