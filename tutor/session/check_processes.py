"""What a one-shot `check` starts for the time of the check: the lesson's own background commands.

A lesson leaves some things running only while the tutor runs: the port-forward its http
checks request, the tunnel the Ingress is reached through. Once the tutor has quit, those
checks cannot pass, however well the learner did the lesson. `k8s-tutor check` therefore
starts, for the checks that do not pass without it, the background command of the lesson
that serves them, waits until it is ready, judges again, and stops it:

- which command serves a check is read from the lesson: the one a `process_alive` check
  names, or the one whose `port` is a port of this machine that the check requests;
- it runs as the session runs it: the same executor, command policy (only on the
  session's cluster) and trust rules, with no terminal to lend (a command that asks for a
  password is not answered);
- a port another program holds is not taken from it: what answers there is judged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tutor.lesson.model import CheckSpec, Command, Lesson, Step
from tutor.lesson.variables import substitute
from tutor.run import ProcessState
from tutor.session.backends import RunBackend


@dataclass(frozen=True)
class Background:
    """A background command of the lesson, as the session would run it."""

    step: Step
    command: Command
    process_id: str

    def text(self, variables: Mapping[str, str]) -> str:
        return self.command.display(variables)

    def port(self, variables: Mapping[str, str]) -> int | None:
        """The port of this machine it listens on, with the variables filled in; None if it says none."""
        value = substitute(self.command.port or "", variables, strict=False)
        return int(value) if value.isascii() and value.isdigit() else None


def backgrounds(lesson: Lesson) -> list[Background]:
    """Every background command of the lesson, in order, with the id it runs under."""
    found = []
    for step in lesson.steps:
        for index, command in enumerate(step.runnable):
            if command.background:
                found.append(Background(step, command, command.id or f"{step.id}-{index}"))
    return found


def serving(spec: CheckSpec, candidates: Sequence[Background], variables: Mapping[str, str]) -> Background | None:
    """The background command that must run for `spec` to pass once the tutor has quit, or None."""
    if spec.kind == "process_alive":
        name = str(spec.fields.get("process", ""))
        return next((item for item in candidates if item.process_id == name), None)
    for item in candidates:
        port = item.port(variables)
        if port is not None and spec.on_local_port(variables, port) is not None:
            return item
    return None


READY_TIMEOUT = 20.0
"""Seconds a check waits for the commands it started to be ready (all at once) before it judges
anyway: a command that runs but has not printed its marker may serve all the same."""


SIGNAL_SLICE = 0.2
"""Longest a wait on the main thread lasts before Python runs the signal handlers that came meanwhile."""


@dataclass(frozen=True)
class Start:
    """How starting one background command for the check went."""

    background: Background
    command: str
    """As it ran (the variables filled in, quoted)."""
    running: bool
    """It runs (ready, or at least not ended): the checks that need it are judged with it."""
    detail: str = ""
    """Why it is not ready: its last words, the program holding its port, a password prompt."""
    needs_terminal: bool = False
    """It asked for a password or a terminal, which a check cannot give: not the learner's doing."""
    attempted: bool = True
    """False: not started at all (another program holds its port)."""

    @property
    def ready(self) -> bool:
        return self.running and not self.detail

    def note(self) -> str:
        """What the check did for the checks that need it, when that did not go well; "" when it did."""
        if self.ready:
            return ""
        if not self.attempted:
            return f"k8s-tutor check did not start `{self.command}` for it: {self.detail}"
        return f"k8s-tutor check started `{self.command}` for it: {self.detail}"


class _Launch:
    """One command on its way up: what it said, and whether it has settled."""

    def __init__(self) -> None:
        self.settled = threading.Event()
        self.states: list[tuple[ProcessState, str]] = []
        self.lines: list[str] = []
        self.prompts: list[str] = []

    def on_state(self, state: ProcessState, detail: str) -> None:
        self.states.append((state, detail))
        if state is ProcessState.READY or state.finished:
            self.settled.set()


class CheckProcesses:
    """Starts the background commands a check needs, once each, and stops them all at the end."""

    def __init__(self, runner: RunBackend, variables: Mapping[str, str], *, ready_timeout: float = READY_TIMEOUT):
        self.runner = runner
        self.variables = dict(variables)
        self.ready_timeout = ready_timeout
        self._started: dict[str, Start] = {}

    @property
    def started(self) -> list[Start]:
        return list(self._started.values())

    def start(self, wanted: Sequence[Background]) -> dict[str, Start]:
        """Start each (once), all at once, and wait until each is ready, has failed, or the timeout.

        By process id. A port another program holds is left to it: nothing is started there."""
        launches: dict[str, tuple[Background, _Launch]] = {}
        for background in wanted:
            if background.process_id in self._started or background.process_id in launches:
                continue
            port = background.port(self.variables)
            use = self.runner.port_in_use(port) if port is not None else None
            if use is not None:
                text = background.text(self.variables)
                variable = background.command.port_variable
                move = f"; to use another, --set {variable}=PORT" if variable else ""
                self._started[background.process_id] = Start(
                    background, text, False, use.describe() + move, attempted=False
                )
                continue
            launch = _Launch()
            self.runner.start_background(
                background.process_id,
                [substitute(arg, self.variables) for arg in background.command.argv],
                ready=background.command.ready,
                on_line=launch.lines.append,
                on_state=launch.on_state,
                on_prompt=launch.prompts.append,
            )
            launches[background.process_id] = (background, launch)
        deadline = time.monotonic() + self.ready_timeout
        for process_id, (background, launch) in launches.items():
            # In slices: a signal the kernel hands to another thread (the process's readers) runs
            # its Python handler only once this, the main thread, wakes; Ctrl+C must not wait 20 s.
            while not launch.settled.wait(min(SIGNAL_SLICE, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    break
            self._started[process_id] = self._outcome(background, launch)
        return {item.process_id: self._started[item.process_id] for item in wanted}

    def _outcome(self, background: Background, launch: _Launch) -> Start:
        text = background.text(self.variables)
        state = self.runner.process_state(background.process_id)
        if state is ProcessState.READY:
            return Start(background, text, True)
        words = next((line.strip() for line in reversed(launch.lines) if line.strip()), "")
        if state is not None and not state.finished and not launch.prompts:
            # Up, but its marker not seen: judged with it, and said.
            return Start(
                background,
                text,
                True,
                f"running, not ready within {self.ready_timeout:g} s" + (f": {words}" if words else ""),
            )
        self.runner.stop(background.process_id)
        if state is ProcessState.NEEDS_TERMINAL or launch.prompts:
            asked = launch.prompts[-1].strip() if launch.prompts else "it needs a terminal"
            return Start(background, text, False, f"it asks for input ({asked}), which a check cannot give", True)
        said = next((detail for _, detail in reversed(launch.states) if detail), "")
        return Start(background, text, False, said or words or str(state or "not started"))

    def stop_all(self) -> None:
        self.runner.stop_all()
