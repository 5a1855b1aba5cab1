"""The session's commands: run for the learner, watched, and kept on their ports.

The part of `LessonSession` that runs a step's commands through the run backend:

- Foreground commands run to the end; background commands (port-forward, tunnel) are
  started and waited for until ready (or a minute) before the next command runs, so a
  `curl` after a port-forward finds it listening. They belong to the lesson from their
  step on: they keep running across later steps and stop when the session closes.
- A run asked for before the lesson is open waits for it (a view offers its keys before
  that); it then runs only if the lesson opened on that step.
- A background command's port can change during the lesson (`set_variable`): another
  program holds it, or the learner prefers another; what is shown, run and checked uses
  the new value from then on.
- Any step can be done from another terminal: a background command whose port already
  serves the lesson's app (the learner's own port-forward) is not started a second time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from tutor.lesson.model import Command, Lesson, Step
from tutor.lesson.variables import problem as variable_problem
from tutor.lesson.variables import substitute
from tutor.session.backends import CheckBackend, RunBackend, RunOutcome
from tutor.session.events import (
    AlreadyServed,
    CommandFinished,
    CommandStarted,
    Event,
    InputNeeded,
    Notice,
    OutputLine,
    PortTaken,
    ProcessChanged,
    StepRunning,
    VariableChanged,
    all_pass,
)

if TYPE_CHECKING:
    from tutor.run import ProcessState

READY_TIMEOUT = 60.0
"""Seconds to wait for a background command's readiness marker before going on."""
SERVED_SETTLE = 10.0
"""Seconds the one-off look at a taken port may wait for the cluster's lists: it answers as soon
as they are in, and a slow answer only delays a command that could not start anyway."""


class BadVariable(ValueError):
    """A variable the lesson cannot take now; the message says why."""


def running(state: ProcessState | None) -> bool:
    return state is not None and not state.finished


class SessionCommands(ABC):
    def __init__(self, lesson: Lesson, variables: Mapping[str, str]) -> None:
        self.lesson = lesson
        self.variables = dict(variables)
        """The lesson's variables on this cluster: the one place they are kept (see set_variable)."""
        self.untrusted: str | None = None
        self.settle = 3.0
        self._checks: CheckBackend | None = None
        self._runner: RunBackend | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._opened = threading.Event()
        """Set once `open` has returned (or the session closed)."""
        self._run_ids = itertools.count(1)

    @abstractmethod
    def _emit(self, event: Event) -> None: ...

    @abstractmethod
    def _activate(self, *, again: bool = False) -> None: ...

    @property
    @abstractmethod
    def viewing(self) -> Step: ...

    @property
    def checks(self) -> CheckBackend:
        if self._checks is None:
            raise RuntimeError("the session's cluster is not attached yet")
        return self._checks

    @property
    def runner(self) -> RunBackend:
        if self._runner is None:
            raise RuntimeError("the session's cluster is not attached yet")
        return self._runner

    @property
    def runs_commands(self) -> bool:
        """False for a lesson from elsewhere that the learner has not trusted."""
        return self.untrusted is None

    # --- what the learner asks for (any thread but a view's own) ----------------------------

    def run_step(self, step_id: str | None = None) -> list[RunOutcome]:
        """Run a step's commands in order (blocking; call from a worker thread)."""
        step = self.lesson.step(step_id or self.viewing.id)
        if not self._may_run(step):
            return []
        if self.untrusted:
            self._emit(Notice(self.untrusted, "warning"))
            return []
        outcomes = []
        with self._running_step(step):
            for command in step.runnable:
                if self._closed:
                    break
                outcomes.append(self._run(step, command))
        return outcomes

    def run_command(self, step: Step, command: Command) -> RunOutcome:
        """Run one command of a step (blocking; call from a worker thread)."""
        if not self._may_run(step):
            return RunOutcome(ok=False, exit_status=None, detail="not run: the lesson opened on another step")
        return self._run(step, command)

    def _may_run(self, step: Step) -> bool:
        """Whether a run may go on: one asked for before the lesson was open waits for it,
        and then runs only on the step it opened on."""
        if not self._opened.is_set():
            self._opened.wait()
            if not self._closed and step.id != self.viewing.id:
                self._emit(Notice(f"The lesson opened on “{self.viewing.title}”: run its commands from there."))
                return False
        return not self._closed

    @contextlib.contextmanager
    def _running_step(self, step: Step) -> Iterator[None]:
        self._emit(StepRunning(step.id, True))
        try:
            yield
        finally:
            self._emit(StepRunning(step.id, False))

    # --- running -----------------------------------------------------------------------

    def _run(self, step: Step, command: Command) -> RunOutcome:
        if self.untrusted:
            self._emit(Notice(self.untrusted, "warning"))
            return RunOutcome(ok=False, exit_status=None, detail="not run: the lesson is not trusted")
        run_id = f"r{next(self._run_ids)}"
        text = command.display(self.variables)
        argv = [substitute(arg, self.variables) for arg in command.argv]
        process = (command.id or run_id) if command.background else None
        self._emit(CommandStarted(run_id, step.id, text, command.background, process))
        prompts: list[str] = []

        def needs_terminal() -> bool:
            """Tell the views; True when the command can be run again with the terminal."""
            lend = self.runner.lends_terminal
            self._emit(InputNeeded(run_id, text, prompts[-1] if prompts else "", lend))
            return lend

        if command.background:
            outcome = self._run_background(step, command, run_id, argv, prompts, needs_terminal)
        else:

            def run(interactive: bool) -> RunOutcome:
                return self.runner.run(
                    argv,
                    timeout=command.timeout,
                    ok_exit=command.ok_exit,
                    on_line=lambda line: self._emit(OutputLine(run_id, line)),
                    on_prompt=prompts.append,
                    interactive=interactive,
                )

            outcome = run(False)
            if outcome.needs_terminal and needs_terminal():
                outcome = run(True)
        self._emit(CommandFinished(run_id, step.id, text, outcome.ok, outcome.exit_status, outcome.detail))
        return outcome

    def _run_background(
        self,
        step: Step,
        command: Command,
        run_id: str,
        argv: list[str],
        prompts: list[str],
        needs_terminal: Callable[[], bool],
    ) -> RunOutcome:
        from tutor.run import ProcessState, Repeats  # the run layer: loaded once the cluster is attached

        process_id = command.id or run_id
        if not running(self.runner.process_state(process_id)):
            refused = self._port_refused(step, command, run_id, process_id)
            if refused is not None:
                return refused
        settled = threading.Event()
        repeats = Repeats()

        def on_line(line: str) -> None:
            # "Handling connection for 9090" once a second from the checks' own probes:
            # counted, so that the lines that matter stay in view.
            self._emit(OutputLine(run_id, line, repeats.see(line)))

        def on_state(state: ProcessState, detail: str) -> None:
            self._emit(ProcessChanged(process_id, state, detail))
            if state is ProcessState.READY or state.finished:
                settled.set()
            self.checks.processes_changed()

        def start(interactive: bool) -> None:
            settled.clear()
            self.runner.start_background(
                process_id,
                argv,
                ready=command.ready,
                on_line=on_line,
                on_state=on_state,
                on_prompt=prompts.append,
                interactive=interactive,
            )
            settled.wait(READY_TIMEOUT)

        start(False)
        if prompts and self.runner.process_state(process_id) is not ProcessState.READY and needs_terminal():
            start(True)
        state = self.runner.process_state(process_id)
        ready = state is ProcessState.READY
        return RunOutcome(ok=ready, exit_status=None, detail="" if ready else (state or "not started"))

    def _start_background(self, step: Step) -> None:
        """A done step's background commands come back when the lesson resumes past it."""
        if self.untrusted:
            return
        for command in step.runnable:
            if command.background and not running(self.runner.process_state(command.id or "")):
                self._run(step, command)

    # --- ports -------------------------------------------------------------------------

    def _port_refused(self, step: Step, command: Command, run_id: str, process_id: str) -> RunOutcome | None:
        """Why the command must not start on its port now, or None when it may.

        Another program on the port would make it die at once ("address already in
        use"). When that program serves the lesson's app there (the step's checks on that
        port pass: the learner's own port-forward), the step needs nothing more.
        """
        value = substitute(command.port or "", self.variables, strict=False)  # as it is now
        if not value.isascii() or not value.isdigit():
            return None
        port = int(value)
        use = self.runner.port_in_use(port)
        if use is None:
            return None
        if self._app_serves(step, port):
            self._emit(AlreadyServed(run_id, step.id, process_id, port))
            return RunOutcome(True, None, f"port {port} already serves the lesson's app: not started again")
        variable = command.port_variable
        suggestion = self.runner.free_port_near(port) if variable else None
        self._emit(PortTaken(run_id, step.id, process_id, port, use, variable, suggestion))
        return RunOutcome(False, None, use.describe())

    def _app_serves(self, step: Step, port: int) -> bool:
        """Whether the step's checks that request this machine's `port` pass now."""
        narrowed = [spec for spec in (check.on_local_port(self.variables, port) for check in step.checks) if spec]
        if not narrowed:
            return False
        probe = dataclasses.replace(step, checks=tuple(narrowed))
        settle = max(self.settle, SERVED_SETTLE)
        return all_pass(self.checks.evaluate([probe], self.variables, settle).get(step.id, ()))

    def port_variables(self) -> dict[str, Command]:
        """The variables that are a background command's port: the ones a learner may change."""
        found: dict[str, Command] = {}
        for step in self.lesson.steps:
            for command in step.commands:
                variable = command.port_variable
                if variable is not None:
                    found.setdefault(variable, command)
        return found

    def variable_problem(self, name: str, value: str) -> str | None:
        """Why `name` cannot be `value` now, in a sentence; None when it can."""
        if name not in self.port_variables():
            changeable = ", ".join(sorted(self.port_variables())) or "none in this lesson"
            return f"{name} cannot be changed during the lesson; what can: {changeable}"
        text = value.strip()
        wrong = variable_problem("port", text)
        if wrong is not None:
            return f"{value!r} is not a port: {wrong}"
        port = int(text)
        if str(port) == self.variables.get(name):
            return None
        if port < 1024:
            return "ports below 1024 are privileged (only root may listen there): choose one from 1024 to 65535"
        use = self.runner.port_in_use(port)
        if use is not None:
            return f"{use.describe()}: choose another"
        return None

    def set_variable(self, name: str, value: str) -> VariableChanged:
        """Give a lesson variable a new value for the rest of the lesson (a background
        command's port, see `port_variables`). Background commands that listen on the old
        value are stopped; the next run uses the new one. Raises BadVariable."""
        problem = self.variable_problem(name, value)
        if problem is not None:
            raise BadVariable(problem)
        new = str(int(value.strip()))
        with self._lock:
            if self.variables.get(name) == new:
                return VariableChanged(name, new)
            self.variables[name] = new
        stopped = []
        for step in self.lesson.steps:
            for command in step.commands:
                if command.port_variable != name or command.id is None:
                    continue
                if running(self.runner.process_state(command.id)):
                    self.runner.stop(command.id)
                    stopped.append(command.id)
        changed = VariableChanged(name, new, tuple(stopped))
        self._emit(changed)
        self._activate(again=True)
        return changed
