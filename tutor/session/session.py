"""The lesson session: one lesson, one cluster, one learner.

It owns the lesson, the learner's progress, the active checks and the running
commands, and it tells its views what happens through `tutor.session.events`. Its
rules:

- It is built at once, from the lesson, its variables and the progress saved for the
  cluster the learner most likely comes back to: a view draws it before the cluster is
  reached. The cluster (the check backend and the command runner) is attached later,
  from a worker (`attach`); then `open` starts the lesson.
- A step is done when its checks pass, whoever ran the commands, and its blocking
  questions (if the author made any) are answered right. The checks of the *frontier*
  (the first step not done) are always watched; when they all pass the step is saved
  as done and the next one unlocks. Other questions never hold anything up; every
  answer is kept with the progress.
- The learner looks at any unlocked step (`show`), and moves on when ready; only
  autoplay moves on by itself.
- On resume and replay, earlier steps are checked again: what no longer holds is
  reported (drift) and can be fast-forwarded by running those steps' commands.
- Progress is the `Record`'s (tutor/session/record.py): one cluster identity's, saved as
  steps are done.
- The lesson's variables live here and nowhere else; a background command's port can
  change during the lesson (tutor/session/commands.py). Questions are answered in
  tutor/session/answering.py, autoplay plays in tutor/session/autoplay.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tutor.lesson.model import Hint, Lesson, Step
from tutor.lesson.variables import substitute
from tutor.progress import Progress, ProgressStore
from tutor.session.autoplay import SessionAutoplay
from tutor.session.backends import CheckBackend, RunBackend
from tutor.session.events import (
    ChecksChanged,
    ConnectionChanged,
    DriftFound,
    Event,
    HintShown,
    LessonCompleted,
    LessonOpened,
    MapChanged,
    Notice,
    ShellSetup,
    StepCheck,
    StepCompleted,
    StepShown,
    all_pass,
    shown_safely,
)
from tutor.session.record import Record

if TYPE_CHECKING:  # named only: the session loads before the cluster layer
    from tutor.cluster.object_map import ObjectMap
    from tutor.cluster.status import ConnectionStatus

Listener = Callable[[Event], None]


@dataclass
class Opening:
    """What `open` found: where the learner is, and which earlier steps need work."""

    current: str
    missing: list[str] = field(default_factory=list)
    """Steps before `current` whose checks do not pass (never done, or drifted)."""
    drifted: list[str] = field(default_factory=list)
    fast_forwarded: bool | None = None
    """Whether running the missing steps' commands made them pass; None: not tried."""


class LessonSession(SessionAutoplay):
    def __init__(
        self,
        lesson: Lesson,
        *,
        variables: Mapping[str, str],
        cluster: str | None = None,
        store: ProgressStore | None = None,
        sandbox: bool = False,
        step: str | None = None,
        settle: float = 3.0,
    ) -> None:
        """`cluster`: the identity of the cluster the learner most likely uses (its saved progress
        is shown until `attach` knows); None when it cannot be told yet. `step`: replay from it."""
        super().__init__(lesson, variables)
        self.sandbox = sandbox
        self.settle = settle
        self.record = Record(lesson.id, store, cluster or "current-context", expected=cluster is not None)
        self.shell: ShellSetup | None = None
        self._notices: tuple[str, ...] = ()
        self._listeners: list[Listener] = []
        self._frontier_done = threading.Condition(self._lock)
        self._announcing: set[str] = set()
        """Steps marked done whose StepCompleted is not emitted yet: not done for wait_done,
        so that autoplay shows the next step only after the views heard this one is done."""
        self._results: dict[str, tuple[StepCheck, ...]] = {}
        self._hints_shown: dict[str, int] = {}
        self._forced = step
        frontier = self.frontier
        self._viewing = step or (frontier.id if frontier else lesson.steps[-1].id)
        self._active: str | None = None
        self._connection: ConnectionStatus | None = None
        self._map_shown = False
        self.object_map: ObjectMap | None = None
        """The live object map as last told (MapChanged), while it is shown."""

    # --- the cluster ---------------------------------------------------------------------

    def attach(
        self,
        checks: CheckBackend,
        runner: RunBackend,
        *,
        cluster: str | None,
        variables: Mapping[str, str] | None = None,
        sandbox: bool | None = None,
        untrusted: str | None = None,
        notices: Sequence[str] = (),
        shell: ShellSetup | None = None,
    ) -> None:
        """The cluster layer is loaded and the cluster chosen: watch and run through these.

        `cluster`: its identity, None while it does not exist yet (the lesson's first step
        creates it; `adopt_identity` follows). `variables`: the lesson's variables once the
        cluster's own are known (a simulated cluster's kubeconfig names its ingress port); None
        keeps those the session was built with. `untrusted`: why the lesson may run nothing (no
        command, background command or `command` check: it is from elsewhere and not
        trusted); None when it may. `notices`: what the learner is told when the lesson opens.
        A session closed meanwhile closes what it is given.
        """
        with self._lock:
            closed = self._closed
            if not closed:
                self._checks, self._runner = checks, runner
                if variables is not None:
                    self.variables = dict(variables)
                self.record.identify(cluster)
                self.sandbox = self.sandbox if sandbox is None else sandbox
                self.untrusted, self._notices, self.shell = untrusted, tuple(notices), shell
        if closed:
            checks.close()
            runner.stop_all()
            return
        checks.on_connection(self._connection_changed)
        if self._map_shown:
            checks.show_map(self.lesson, self.variables, self._map_changed)

    @property
    def cluster(self) -> str:
        return self.record.cluster

    @property
    def progress(self) -> Progress:
        return self.record.progress

    def adopt_identity(self, cluster: str) -> None:
        """The cluster is known now (possibly only after the lesson's first step created it)."""
        with self._lock:
            moved = self.record.adopt(cluster)
            self._save()
        if moved and self.record.store is not None:
            self._emit(Notice(f"Progress on this cluster is kept as {cluster}."))

    def _connection_changed(self, status: ConnectionStatus) -> None:
        self._connection = status
        self._emit(ConnectionChanged(status))

    # --- the live object map ----------------------------------------------------------------

    def show_map(self) -> None:
        """Keep the map of what the lesson builds current: MapChanged events follow, at once and
        whenever it changes, until `hide_map`. It watches what no check watches only meanwhile.
        Asked before the cluster is attached, it starts once the cluster is."""
        with self._lock:
            self._map_shown = True
            checks = None if self._closed else self._checks
        if checks is not None:
            checks.show_map(self.lesson, self.variables, self._map_changed)

    def hide_map(self) -> None:
        with self._lock:
            self._map_shown = False
            self.object_map = None
            checks = self._checks
        if checks is not None:
            checks.hide_map()

    @property
    def map_shown(self) -> bool:
        return self._map_shown

    def _map_changed(self, found: ObjectMap) -> None:
        with self._lock:
            if not self._map_shown or self._closed:
                return
            self.object_map = found
        self._emit(MapChanged(found))

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

    def results(self, step_id: str) -> tuple[StepCheck, ...]:
        return self._results.get(step_id, ())

    def open(self, *, fast_forward: Callable[[Opening], bool] | None = None) -> Opening:
        """Start or resume the lesson, or replay from the session's `step`; emits LessonOpened first.

        Earlier completed steps are checked again, after their background commands are
        restarted; those that no longer hold are reported as drift and become undone. When
        a replayed step's earlier steps do not hold, `fast_forward` is asked whether to run
        their commands first. Runs asked for before the lesson is open wait for it.
        """
        try:
            opening = self._open()
            if opening.missing and self.runs_commands and fast_forward is not None and fast_forward(opening):
                opening.fast_forwarded = self.play(opening.missing)
                if opening.fast_forwarded and not self._closed:
                    self.show(opening.current)
            return opening
        finally:
            self._opened.set()

    def _open(self) -> Opening:
        notices = [self.progress.notice] if self.progress.notice else []
        notices.extend(self._notices)
        if self.untrusted:
            notices.append(self.untrusted)
        done_before = tuple(s.id for s in self.lesson.steps if self.progress.is_done(s.id))
        frontier = self.frontier
        target = self._forced or (frontier.id if frontier else self.lesson.steps[-1].id)
        self._emit(
            LessonOpened(
                self.lesson.id,
                self.lesson.title,
                self.cluster,
                self.sandbox,
                done_before,
                target,
                tuple(notices),
                self.shell,
            )
        )
        for problem in self.runner.missing(self.lesson.requires):
            self._emit(Notice(f"This lesson's commands need a program you do not have: {problem}", "warning"))
        if self._connection is not None:
            self._emit(ConnectionChanged(self._connection))
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
                # A step done before stays done by its checks alone (its questions were then).
                if all_pass(results) and (step.id in done_before or not self.questions_pending(step.id)):
                    self.progress.mark_done(step.id)
                    continue
                opening.missing.append(step.id)
                if step.id in done_before:
                    opening.drifted.append(step.id)
                    self.progress.forget_from([step.id])
                    self._emit(DriftFound(step.id, results))
        if self._forced is None and opening.missing:
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
        self._emit(HintShown(step.id, shown + 1))
        return step.hints[shown]

    def hints_shown(self, step_id: str) -> tuple[Hint, ...]:
        """The step's hints revealed so far, in order."""
        return self.lesson.step(step_id).hints[: self._hints_shown.get(step_id, 0)]

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

    def _on_results(self, step: Step, results: tuple[StepCheck, ...]) -> None:
        completed = False
        with self._lock:
            if self._closed or self._active != step.id:
                return
            self._results[step.id] = results
            if all_pass(results) and not self.questions_pending(step.id):
                self.progress.mark_done(step.id)
                self._save()
                self._announcing.add(step.id)
                completed = True
        self._emit(ChecksChanged(step.id, results))
        if not completed:
            return
        try:
            self._emit(StepCompleted(step.id))
            if self.frontier is None:
                self._emit(LessonCompleted(self.lesson.id))
        finally:
            with self._lock:
                self._announcing.discard(step.id)
                self._frontier_done.notify_all()
        self._activate()

    def remember(self, key: str, value: object) -> None:
        """Keep what a check saw (`remember: KEY`) with the learner's progress."""
        with self._lock:
            self.record.remember(key, value)
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

    # --- lifetime ----------------------------------------------------------------------

    def _save(self) -> None:
        problem = self.record.save()
        if problem is not None:
            self._emit(Notice(problem, "warning"))

    def close(self) -> None:
        """Stop watching and stop every process; progress is already saved."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._frontier_done.notify_all()
            checks, runner = self._checks, self._runner
        self._opened.set()
        try:
            if checks is not None:
                checks.deactivate()
                checks.close()
        finally:
            if runner is not None:
                runner.stop_all()
            self._save()
            if self.record.unsaved:
                self._emit(Notice("The progress of this run was not saved.", "warning"))
