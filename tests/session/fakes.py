"""Fake cluster and runner for the session's rules: a 'cluster' that is a set of satisfied steps."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from tutor.cluster.results import passed, waiting
from tutor.lesson.model import Step
from tutor.run import PortUse, ProcessState
from tutor.session.backends import (
    ConnectionCallback,
    LineCallback,
    ProcessCallback,
    PromptCallback,
    ResultsCallback,
    RunOutcome,
)
from tutor.session.events import CheckId, StepCheck
from tutor.session.session import LessonSession


class FakeCluster:
    """Step ids whose checks pass; commands containing 'do:STEP' make them pass."""

    def __init__(self) -> None:
        self.satisfied: set[str] = set()
        self.lock = threading.Lock()
        self.active: tuple[Step, ResultsCallback] | None = None
        self.activations: list[str] = []
        self.variables: list[dict[str, str]] = []
        """The variables of each activation, in order."""
        self.connection: ConnectionCallback | None = None

    def results(self, step: Step) -> tuple[StepCheck, ...]:
        result = passed("") if step.id in self.satisfied else waiting("not yet")
        return tuple(
            StepCheck(CheckId(step.id, i), check.title or check.kind, result) for i, check in enumerate(step.checks)
        )

    def satisfy(self, step_id: str, value: bool = True) -> None:
        with self.lock:
            if value:
                self.satisfied.add(step_id)
            else:
                self.satisfied.discard(step_id)
            active = self.active
        if active and active[0].id == step_id:
            active[1](self.results(active[0]))

    # CheckBackend
    def activate(self, step: Step, variables: Mapping[str, str], on_results: ResultsCallback) -> None:
        self.active = (step, on_results)
        self.activations.append(step.id)
        self.variables.append(dict(variables))
        on_results(self.results(step))

    def deactivate(self) -> None:
        self.active = None

    def evaluate(
        self, steps: Sequence[Step], variables: Mapping[str, str], settle: float
    ) -> dict[str, tuple[StepCheck, ...]]:
        return {step.id: self.results(step) for step in steps}

    def on_connection(self, callback: ConnectionCallback) -> None:
        self.connection = callback

    def processes_changed(self) -> None:
        pass

    def close(self) -> None:
        self.active = None


class FakeRunner:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.ran: list[list[str]] = []
        self.processes: dict[str, ProcessState] = {}
        self.stopped = False
        self.taken: dict[int, PortUse] = {}
        """Ports another program holds."""
        self.chatter: list[str] = []
        """Lines a background command prints once started."""
        self._states: dict[str, ProcessCallback] = {}

    def _effects(self, argv: Sequence[str]) -> None:
        for arg in argv:
            if arg.startswith("do:"):
                self.cluster.satisfy(arg[3:])

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None,
        ok_exit: Sequence[int],
        on_line: LineCallback,
        on_prompt: PromptCallback,
        interactive: bool = False,
    ) -> RunOutcome:
        self.ran.append(list(argv))
        on_line(" ".join(argv))
        if "fail" in argv:
            return RunOutcome(False, 1, "exit status 1")
        self._effects(argv)
        return RunOutcome(True, 0)

    def start_background(
        self,
        process_id: str,
        argv: Sequence[str],
        *,
        ready: str | None,
        on_line: LineCallback,
        on_state: ProcessCallback,
        on_prompt: PromptCallback,
        interactive: bool = False,
    ) -> None:
        self.ran.append(list(argv))
        self.processes[process_id] = ProcessState.READY
        self._states[process_id] = on_state
        on_state(ProcessState.STARTING, "")
        for line in self.chatter:
            on_line(line)
        on_state(ProcessState.READY, "")
        self._effects(argv)

    def missing(self, programs: Sequence[str]) -> list[str]:
        return []

    def process_state(self, process_id: str) -> ProcessState | None:
        return self.processes.get(process_id)

    def stop(self, process_id: str) -> None:
        if self.processes.get(process_id) is ProcessState.READY:
            self.processes[process_id] = ProcessState.STOPPED
            self._states[process_id](ProcessState.STOPPED, "")

    def port_in_use(self, port: int) -> PortUse | None:
        return self.taken.get(port)

    def free_port_near(self, port: int) -> int | None:
        return next(candidate for candidate in range(port + 1, 65536) if candidate not in self.taken)

    def stop_all(self) -> None:
        self.stopped = True
        for process_id in list(self.processes):
            self.stop(process_id)
        self.processes = {key: ProcessState.STOPPED for key in self.processes}

    @property
    def lends_terminal(self) -> bool:
        return False


def attached(lesson_session: LessonSession, cluster: FakeCluster | None = None, **kwargs: object) -> FakeRunner:
    """Attach a fake cluster (a new one by default) and its runner to the session; the runner."""
    cluster = cluster or FakeCluster()
    runner = FakeRunner(cluster)
    lesson_session.attach(cluster, runner, **{"cluster": lesson_session.cluster, **kwargs})  # type: ignore[arg-type]
    return runner
