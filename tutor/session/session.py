"""The lesson session: one lesson, one cluster, one learner.

It owns the lesson, the learner's progress, the active checks and the running
commands, and it tells its views what happens through `tutor.session.events`. Its
rules:

- A step is done when its checks pass, whoever ran the commands. The checks of the
  *frontier* (the first step not done) are always watched; when they all pass the
  step is saved as done and the next one unlocks.
- The learner looks at any unlocked step (`show`), and moves on when ready; only
  autoplay moves on by itself.
- Background commands (port-forward, tunnel) belong to the lesson from their step
  on: they keep running across later steps and stop when the session closes.
- On resume and replay, earlier steps are checked again: what no longer holds is
  reported (drift) and can be fast-forwarded by running those steps' commands.
- Opening a lesson never erases saved progress. A drifted step is not done for the
  session (it is the step to work on), but the record on disk keeps it: only the
  learner's actions change the record (a step done, `reset`).
- Progress belongs to one cluster identity (`ContextInfo.identity`). A session that
  starts before its cluster exists saves nothing until the cluster is known; then it
  takes that cluster's record (`adopt_identity`), never another cluster's.
- The lesson's variables live here and nowhere else. A background command's port can
  change during the lesson (`set_variable`): another program holds it, or the learner
  prefers another; what is shown, run and checked uses the new value from then on.
- Any step can be done from another terminal: a background command whose port already
  serves the lesson's app (the learner's own port-forward) is not started a second time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tutor.lesson.model import Command, Hint, Lesson, Step
from tutor.lesson.variables import problem as variable_problem
from tutor.lesson.variables import substitute
from tutor.progress import Progress, ProgressStore
from tutor.run.output import Repeats
from tutor.session.backends import CheckBackend, ProcessState, RunBackend, RunOutcome
from tutor.session.events import (
    AlreadyServed,
    AutoplayStopped,
    CheckResult,
    ChecksChanged,
    CommandFinished,
    CommandStarted,
    ConnectionChanged,
    DriftFound,
    Event,
    InputNeeded,
    LessonCompleted,
    LessonOpened,
    Notice,
    OutputLine,
    OutputRepeated,
    PortTaken,
    ProcessChanged,
    ShellSetup,
    StepCompleted,
    StepRunning,
    StepShown,
    StepUnlocked,
    VariableChanged,
    shown_safely,
)

Listener = Callable[[Event], None]

READY_TIMEOUT = 60.0
"""Seconds to wait for a background command's readiness marker before going on."""
RETRIES = 3
"""Times autoplay runs a failed command again while its step's checks do not pass."""
RETRY_PAUSE = 3.0
"""Seconds autoplay waits after a failed command before it runs it again (grows per try)."""
SERVED_SETTLE = 10.0
"""Seconds the one-off look at a taken port may wait for the cluster's lists: it answers as soon
as they are in, and a slow answer only delays a command that could not start anyway."""


@dataclass
class Opening:
    """What `open` found: where the learner is, and which earlier steps need work."""

    current: str
    missing: list[str] = field(default_factory=list)
    """Steps before `current` whose checks do not pass (never done, or drifted)."""
    drifted: list[str] = field(default_factory=list)


class BadVariable(ValueError):
    """A variable the lesson cannot take now; the message says why."""


RUNNING_STATES = ("ready", "starting", "restarting")


class LessonSession:
    def __init__(
        self,
        lesson: Lesson,
        *,
        variables: Mapping[str, str],
        checks: CheckBackend,
        runner: RunBackend,
        cluster: str,
        sandbox: bool = False,
        store: ProgressStore | None = None,
        settle: float = 3.0,
        untrusted: str | None = None,
        notices: Sequence[str] = (),
        provisional: bool = False,
        shell: ShellSetup | None = None,
    ) -> None:
        """`untrusted`: why the lesson may run nothing (no command, background command or
        `command` check: it is from elsewhere and not trusted); None when it may.
        `notices`: what the learner is told when the lesson opens."""
        self.lesson = lesson
        self.untrusted = untrusted
        self._notices = tuple(notices)
        self.variables = dict(variables)
        """The lesson's variables on this cluster: the one place they are kept (see set_variable)."""
        self.shell = shell
        self.checks = checks
        self.runner = runner
        self.cluster = cluster
        self.sandbox = sandbox
        self.store = store
        self.settle = settle
        self._provisional = provisional
        """The cluster is not known yet: `cluster` is a guess, and nothing is saved under it."""
        self.progress = store.load(lesson.id, cluster) if store and not provisional else Progress(lesson.id, cluster)
        self._record: list[str] = list(self.progress.completed)
        """The steps the saved record says are done: what is saved, drift or not."""
        self._remembered: set[str] = set()
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._frontier_done = threading.Condition(self._lock)
        self._announcing: set[str] = set()
        """Steps marked done whose StepCompleted is not emitted yet: not done for wait_done,
        so that autoplay shows the next step only after the views heard this one is done."""
        self._results: dict[str, tuple[CheckResult, ...]] = {}
        self._viewing = lesson.steps[0].id
        self._hints_shown: dict[str, int] = {}
        self._run_ids = itertools.count(1)
        self._closed = False
        self._active: str | None = None
        self._forced: str | None = None
        self.on_processes_changed: Callable[[], None] | None = None
        self._connection: tuple[str, str, str, str] | None = None
        self._unsaved = False
        """Saving failed once (and the learner was told): progress lives in memory."""
        checks.on_connection(self._connection_changed)

    # --- listeners -------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: Event) -> None:
        event = shown_safely(event)
        for listener in list(self._listeners):
            listener(event)

    # --- where the learner is ----------------------------------------------------------

    @property
    def frontier(self) -> Step | None:
        """The first step not done; None when the whole lesson is done."""
        for step in self.lesson.steps:
            if not self.progress.is_done(step.id):
                return step
        return None

    @property
    def viewing(self) -> Step:
        return self.lesson.step(self._viewing)

    def is_unlocked(self, step_id: str) -> bool:
        """Steps up to the frontier, any step right after a done one, and a replayed step."""
        index = self.lesson.index(step_id)
        frontier = self.frontier
        if frontier is None or index <= self.lesson.index(frontier.id) or step_id == self._forced:
            return True
        return self.progress.is_done(self.lesson.steps[index - 1].id)

    def results(self, step_id: str) -> tuple[CheckResult, ...]:
        return self._results.get(step_id, ())

    def open(self, step_id: str | None = None) -> Opening:
        """Start or resume the lesson, or replay from `step_id`; emits LessonOpened first.

        Earlier completed steps are checked again, after their background commands are
        restarted; those that no longer hold are reported as drift and become undone.
        """
        notices = [self.progress.notice] if self.progress.notice else []
        notices.extend(self._notices)
        if self.untrusted:
            notices.append(self.untrusted)
        done_before = tuple(s.id for s in self.lesson.steps if self.progress.is_done(s.id))
        if step_id is None:
            frontier = self.frontier
            target = frontier.id if frontier else self.lesson.steps[-1].id
        else:
            target = step_id
            self._forced = step_id
        self._emit(
            LessonOpened(
                lesson=self.lesson.id,
                title=self.lesson.title,
                cluster=self.cluster,
                sandbox=self.sandbox,
                completed=done_before,
                current=target,
                notices=tuple(notices),
                shell=self.shell,
            )
        )
        for problem in self.runner.missing(self.lesson.requires):
            self._emit(Notice(f"This lesson's commands need a program you do not have: {problem}", "warning"))
        if self._connection is not None:
            self._emit(ConnectionChanged(*self._connection))  # type: ignore[arg-type]
        earlier = list(self.lesson.steps[: self.lesson.index(target)])
        opening = Opening(current=target)
        if earlier:
            for step in earlier:
                if self.progress.is_done(step.id):
                    self._start_background(step)
            found = self.checks.evaluate(earlier, self.variables, self.settle)
            for step in earlier:
                results = found.get(step.id, ())
                self._results[step.id] = results
                if results and all(r.status == "pass" for r in results):
                    self.progress.mark_done(step.id)
                    continue
                opening.missing.append(step.id)
                if step.id in done_before:
                    opening.drifted.append(step.id)
                    self.progress.forget_from([step.id])
                    self._emit(DriftFound(step.id, results))
        if step_id is None and opening.missing:
            # Resume where the lesson no longer holds, not past it.
            opening.current = opening.missing[0]
            opening.missing = []
        self._save()
        self.show(opening.current)
        return opening

    def show(self, step_id: str) -> Step:
        """Look at an unlocked step; its checks are watched until it is done."""
        with self._lock:
            if not self.is_unlocked(step_id):
                frontier = self.frontier
                raise ValueError(f"step '{step_id}' is locked until '{frontier.id if frontier else ''}' is done")
            self._viewing = step_id
            self.progress.current = step_id
        self._emit(StepShown(step_id, self.lesson.index(step_id), self.progress.is_done(step_id)))
        self._activate()
        return self.lesson.step(step_id)

    def next_step(self) -> Step | None:
        """The step after the one being viewed, if it is unlocked."""
        index = self.lesson.index(self._viewing) + 1
        if index >= len(self.lesson.steps):
            return None
        step = self.lesson.steps[index]
        return step if self.is_unlocked(step.id) else None

    def hint(self, step_id: str | None = None) -> Hint | None:
        """The next hint of the step (each call reveals one more); None when all are shown."""
        step = self.lesson.step(step_id or self._viewing)
        shown = self._hints_shown.get(step.id, 0)
        if shown >= len(step.hints):
            return None
        self._hints_shown[step.id] = shown + 1
        return step.hints[shown]

    def text(self, value: str) -> str:
        """A lesson string with the variables filled in (unknown ones left as written)."""
        return substitute(value, self.variables, strict=False)

    # --- checks ------------------------------------------------------------------------

    def _active_step(self) -> Step | None:
        """The step whose checks are watched: the one in view, or the frontier once it is done."""
        if not self.progress.is_done(self._viewing):
            return self.viewing
        return self.frontier

    def _activate(self, *, again: bool = False) -> None:
        """Watch the active step's checks; `again`: anew, with the variables as they are now."""
        with self._lock:
            if self._closed:
                return
            if again:
                self._active = None
            step = self._active_step()
            if step is None:
                if self._active is not None:
                    self.checks.deactivate()
                self._active = None
                return
            if self._active == step.id:
                return
            self._active = step.id
        self.checks.activate(step, self.variables, lambda results: self._on_results(step, results))

    def _on_results(self, step: Step, results: tuple[CheckResult, ...]) -> None:
        completed = False
        with self._lock:
            if self._closed or self._active != step.id:
                return
            self._results[step.id] = results
            if results and all(result.status == "pass" for result in results):
                self.progress.mark_done(step.id)
                self._save()
                self._announcing.add(step.id)
                completed = True
        self._emit(ChecksChanged(step.id, results))
        if not completed:
            return
        try:
            self._emit(StepCompleted(step.id))
            index = self.lesson.index(step.id)
            if self.frontier is None:
                self._emit(LessonCompleted(self.lesson.id))
            elif index + 1 < len(self.lesson.steps):
                self._emit(StepUnlocked(self.lesson.steps[index + 1].id))
        finally:
            with self._lock:
                self._announcing.discard(step.id)
                self._frontier_done.notify_all()
        self._activate()

    def remember(self, key: str, value: object) -> None:
        """Keep what a check saw (`remember: KEY`) with the learner's progress."""
        with self._lock:
            self.progress.memory[key] = value
            self._remembered.add(key)
            self._save()

    def recall(self, key: str) -> object | None:
        return self.progress.memory.get(key)

    def wait_done(self, step_id: str, timeout: float) -> bool:
        """Block until `step_id` is done or `timeout` passes (for autoplay and fast-forward)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._announced(step_id) and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._frontier_done.wait(min(remaining, 0.5))
            return self._announced(step_id)

    def _announced(self, step_id: str) -> bool:
        return self.progress.is_done(step_id) and step_id not in self._announcing

    # --- commands ----------------------------------------------------------------------

    def argv(self, command: Command) -> list[str]:
        return [substitute(arg, self.variables) for arg in command.argv]

    def run_step(self, step_id: str | None = None) -> list[RunOutcome]:
        """Run a step's commands in order (blocking; call from a worker thread).

        Background commands are started and waited for until ready (or a minute) before
        the next command runs, so `curl` after a port-forward finds it listening.
        """
        step = self.lesson.step(step_id or self._viewing)
        if self.untrusted:
            self._emit(Notice(self.untrusted, "warning"))
            return []
        outcomes = []
        with self._running_step(step):
            for command in step.runnable:
                if self._closed:
                    break
                outcomes.append(self.run_command(step, command))
        return outcomes

    @contextlib.contextmanager
    def _running_step(self, step: Step) -> Iterator[None]:
        self._emit(StepRunning(step.id, True))
        try:
            yield
        finally:
            self._emit(StepRunning(step.id, False))

    @property
    def runs_commands(self) -> bool:
        """False for a lesson from elsewhere that the learner has not trusted."""
        return self.untrusted is None

    def run_command(self, step: Step, command: Command) -> RunOutcome:
        if self.untrusted:
            self._emit(Notice(self.untrusted, "warning"))
            return RunOutcome(ok=False, exit_status=None, detail="not run: the lesson is not trusted")
        run_id = f"r{next(self._run_ids)}"
        text = command.display(self.variables)
        argv = self.argv(command)
        process = (command.id or run_id) if command.background else None
        self._emit(CommandStarted(run_id, step.id, text, command.background, process))
        prompts: list[str] = []

        def on_line(line: str) -> None:
            self._emit(OutputLine(run_id, line))

        def needs_terminal() -> bool:
            """Tell the views; True when the command can be run again with the terminal."""
            lend = self.runner.lends_terminal
            self._emit(InputNeeded(run_id, text, prompts[-1] if prompts else "", lend))
            return lend

        if command.background:
            repeats = Repeats()

            def on_background_line(line: str) -> None:
                # "Handling connection for 9090" once a second from the checks' own probes:
                # counted, so that the lines that matter stay in view.
                count = repeats.see(line)
                self._emit(OutputLine(run_id, line) if count == 1 else OutputRepeated(run_id, line, count))

            outcome = self._run_background(step, command, run_id, argv, on_background_line, prompts, needs_terminal)
        else:
            outcome = self.runner.run(
                argv, timeout=command.timeout, ok_exit=command.ok_exit, on_line=on_line, on_prompt=prompts.append
            )
            if outcome.needs_terminal and needs_terminal():
                outcome = self.runner.run(
                    argv,
                    timeout=command.timeout,
                    ok_exit=command.ok_exit,
                    on_line=on_line,
                    on_prompt=prompts.append,
                    interactive=True,
                )
        self._emit(CommandFinished(run_id, step.id, text, outcome.ok, outcome.exit_status, outcome.detail))
        return outcome

    def _run_background(
        self,
        step: Step,
        command: Command,
        run_id: str,
        argv: list[str],
        on_line: Callable[[str], None],
        prompts: list[str],
        needs_terminal: Callable[[], bool],
    ) -> RunOutcome:
        process_id = command.id or run_id
        if self.runner.process_state(process_id) not in RUNNING_STATES:
            refused = self._port_refused(step, command, run_id, process_id)
            if refused is not None:
                return refused
        settled = threading.Event()

        def on_state(state: ProcessState, detail: str) -> None:
            self._emit(ProcessChanged(process_id, state, detail))
            if state in ("ready", "failed", "stopped"):
                settled.set()
            self._processes_changed()

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
        if prompts and self.runner.process_state(process_id) != "ready" and needs_terminal():
            start(True)
        state = self.runner.process_state(process_id)
        return RunOutcome(
            ok=state == "ready", exit_status=None, detail="" if state == "ready" else (state or "not started")
        )

    # --- ports -------------------------------------------------------------------------

    def port(self, command: Command) -> int | None:
        """The local port a background command listens on, with the variables as they are now."""
        if command.port is None:
            return None
        value = substitute(command.port, self.variables, strict=False)
        return int(value) if value.isascii() and value.isdigit() else None

    def _port_refused(self, step: Step, command: Command, run_id: str, process_id: str) -> RunOutcome | None:
        """Why the command must not start on its port now, or None when it may.

        Another program on the port would make it die at once ("address already in
        use"). When that program serves the lesson's app there (the step's checks on that
        port pass: the learner's own port-forward), the step needs nothing more.
        """
        port = self.port(command)
        if port is None:
            return None
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
        results = self.checks.evaluate([probe], self.variables, max(self.settle, SERVED_SETTLE)).get(step.id, ())
        return bool(results) and all(result.status == "pass" for result in results)

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
                if self.runner.process_state(command.id) in RUNNING_STATES:
                    self.runner.stop(command.id)
                    stopped.append(command.id)
        changed = VariableChanged(name, new, tuple(stopped))
        self._emit(changed)
        self._activate(again=True)
        return changed

    def _processes_changed(self) -> None:
        """A background command changed: checks that depend on processes look again."""
        hook = self.on_processes_changed
        if hook is not None:
            hook()

    def _start_background(self, step: Step) -> None:
        """A done step's background commands come back when the lesson resumes past it."""
        if self.untrusted:
            return
        for command in step.runnable:
            if command.background and self.runner.process_state(command.id or "") not in RUNNING_STATES:
                self.run_command(step, command)

    # --- autoplay and fast-forward -----------------------------------------------------

    def play(self, steps: Sequence[str], *, on_step: Callable[[Step], None] | None = None) -> bool:
        """Run each step's commands and wait for its checks, in order; False when one times out."""
        for step_id in steps:
            step = self.lesson.step(step_id)
            if self._closed:
                return False
            self._forced = step.id if not self.is_unlocked(step.id) else self._forced
            self.show(step.id)
            if on_step:
                on_step(step)
            if self.progress.is_done(step.id):
                continue
            if self.untrusted:
                self._emit(AutoplayStopped(step.id, self._results.get(step.id, ()), self.untrusted))
                return False
            with self._running_step(step):
                played = self._play_step(step)
            if not played:
                results = self._results.get(step.id, ())
                self._emit(AutoplayStopped(step.id, results, f"the checks did not pass within {step.timeout:.0f} s"))
                return False
        return True

    def _play_step(self, step: Step) -> bool:
        """Run the step's commands until its checks pass, within its timeout.

        A command that failed (the API answered 500, a tool crashed) is run again after
        a pause, as a learner would: at most RETRIES times, and only while the checks
        still do not pass. Commands that succeeded are not repeated.
        """
        deadline = time.monotonic() + step.timeout
        pending = list(step.runnable)
        for attempt in range(RETRIES + 1):
            failed = [command for command in pending if not self.run_command(step, command).ok and not self._closed]
            remaining = deadline - time.monotonic()
            if not failed:
                return self.wait_done(step.id, max(remaining, 0.0))
            if self.wait_done(step.id, min(RETRY_PAUSE * (attempt + 1), max(remaining, 0.0))):
                return True
            if time.monotonic() >= deadline or self._closed:
                return False
            texts = ", ".join(f"`{command.display(self.variables)}`" for command in failed)
            self._emit(Notice(f"Running {texts} again: the step's checks do not pass yet.", "warning"))
            pending = failed
        return self.wait_done(step.id, max(deadline - time.monotonic(), 0.0))

    def autoplay(self, on_step: Callable[[Step], None] | None = None) -> bool:
        """Play from the frontier to the end of the lesson."""
        frontier = self.frontier
        if frontier is None:
            return True
        remaining = [step.id for step in self.lesson.steps[self.lesson.index(frontier.id) :]]
        return self.play(remaining, on_step=on_step)

    # --- connection and lifetime -------------------------------------------------------

    def _connection_changed(self, state: str, detail: str, context: str = "", server: str = "") -> None:
        self._connection = (state, detail, context, server)
        self._emit(ConnectionChanged(state, detail, context, server))  # type: ignore[arg-type]

    def adopt_identity(self, cluster: str) -> None:
        """The cluster is known now: keep progress under its identity, with its own record.

        Called once the connection has read the context (possibly only after the lesson's
        first step created it). Steps done in this session are added to that record;
        nothing of the record the session opened with moves over, unless it is the same.
        """
        with self._lock:
            if cluster == self.cluster and not self._provisional:
                return
            moved = cluster != self.cluster
            self.cluster = cluster
            self._provisional = False
            if moved:
                stored = self.store.load(self.lesson.id, cluster) if self.store else Progress(self.lesson.id, cluster)
                done_here = [step for step in self.progress.completed if step not in self._record]
                memory = {key: self.progress.memory[key] for key in self._remembered if key in self.progress.memory}
                self._record = [*stored.completed, *(s for s in done_here if s not in stored.completed)]
                self.progress = dataclasses.replace(
                    self.progress,
                    cluster=cluster,
                    completed=[*self.progress.completed],
                    memory={**stored.memory, **memory},
                    notice=None,
                )
            self._save()
        if moved:
            self._emit(Notice(f"Progress on this cluster is kept as {cluster}."))

    def notice(self, text: str, level: str = "info") -> None:
        self._emit(Notice(text, level))  # type: ignore[arg-type]

    def _save(self) -> None:
        """Save the record: the steps it had (drifted or not) and those done since."""
        if self.store is None or self._provisional:
            return
        self._record += [step for step in self.progress.completed if step not in self._record]
        saved = dataclasses.replace(self.progress, completed=list(self._record))
        try:
            self.store.save(saved)
        except OSError as err:
            # A read-only, full or foreign state folder: the lesson goes on, from memory.
            if not self._unsaved:
                self._unsaved = True
                reason = err.strerror if isinstance(err.strerror, str) else str(err)
                self._emit(
                    Notice(
                        f"Your progress cannot be saved ({reason}); it is kept for this run only.",
                        "warning",
                    )
                )
            return
        self.progress.updated = saved.updated

    def close(self) -> None:
        """Stop watching and stop every process; progress is already saved."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._frontier_done.notify_all()
        try:
            self.checks.deactivate()
            self.checks.close()
        finally:
            self.runner.stop_all()
            self._save()
            if self._unsaved:
                self._emit(Notice("The progress of this run was not saved.", "warning"))
