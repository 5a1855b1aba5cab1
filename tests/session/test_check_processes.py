"""What `check` starts for a finished lesson's checks: which command serves which check, and
what a check can and cannot start (a taken port, a password prompt, no ready line)."""

from __future__ import annotations

from collections.abc import Sequence

from tests.session.fakes import FakeCluster, FakeRunner
from tutor.lesson.model import CheckSpec, Lesson
from tutor.run import PortHolder, PortUse, ProcessState
from tutor.session.backends import LineCallback, ProcessCallback, PromptCallback
from tutor.session.check_processes import Background, CheckProcesses, backgrounds, serving


def _spec(lesson: Lesson, step: str, index: int = 0) -> CheckSpec:
    return lesson.step(step).checks[index]


def test_each_check_that_needs_a_process_is_served_by_the_lessons_own_command(day55: Lesson) -> None:
    variables = day55.defaults(local_port="9090")
    found = backgrounds(day55)
    assert [(item.process_id, item.step.id) for item in found] == [
        ("pacman-forward", "port-forward"),
        ("tunnel", "tunnel"),
    ]
    by_check = {
        (step.id, index): served.process_id if (served := serving(spec, found, variables)) else None
        for step in day55.steps
        for index, spec in enumerate(step.checks)
    }
    assert {key: value for key, value in by_check.items() if value} == {
        ("port-forward", 0): "pacman-forward",
        ("high-score", 0): "pacman-forward",
        ("mongo-restart", 1): "pacman-forward",
        ("tunnel", 0): "tunnel",
    }
    # The port is the variable's value now: a check on another port is not this forward's.
    moved = {**variables, "local_port": "18080"}
    assert serving(_spec(day55, "port-forward"), found, moved) is not None
    assert serving(_spec(day55, "port-forward"), found[1:], moved) is None


class Stuck(FakeRunner):
    """A background command that never gets ready: it stops at a password prompt (`sudo` in
    `minikube tunnel`), or runs without ever printing its ready line."""

    def __init__(self, *, prompt: str | None) -> None:
        super().__init__(FakeCluster())
        self.prompt = prompt

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
        if self.prompt is not None:
            self.processes[process_id] = ProcessState.NEEDS_TERMINAL
            on_prompt(self.prompt)
            on_state(ProcessState.NEEDS_TERMINAL, "it asks for a password")
            return
        self.processes[process_id] = ProcessState.RUNNING
        on_line("* Starting something")
        on_state(ProcessState.RUNNING, "")


def _forward(day55: Lesson) -> Background:
    return backgrounds(day55)[0]


def test_a_ready_command_is_started_once_for_all_its_checks(day55: Lesson) -> None:
    runner = FakeRunner(FakeCluster())
    processes = CheckProcesses(runner, day55.defaults(local_port="9090"))
    first = processes.start([_forward(day55), _forward(day55)])["pacman-forward"]
    again = processes.start([_forward(day55)])["pacman-forward"]
    assert first is again and first.ready and first.note() == ""
    assert runner.ran == [["kubectl", "port-forward", "svc/pacman", "9090:80", "-n", "pacman"]]
    processes.stop_all()
    assert runner.processes == {"pacman-forward": ProcessState.STOPPED}


def test_a_taken_port_is_left_to_its_program_and_the_note_says_how_to_move(day55: Lesson) -> None:
    runner = FakeRunner(FakeCluster())
    runner.taken[9090] = PortUse(9090, (PortHolder(4242, "python3", "python3 -m http.server 9090"),))
    start = CheckProcesses(runner, day55.defaults(local_port="9090")).start([_forward(day55)])["pacman-forward"]
    assert runner.ran == []
    assert (start.running, start.attempted) == (False, False)
    assert start.note() == (
        "k8s-tutor check did not start `kubectl port-forward svc/pacman 9090:80 -n pacman` for it: port 9090 on "
        "127.0.0.1 is taken by python3 (pid 4242): python3 -m http.server 9090; to use another, --set local_port=PORT"
    )


def test_a_password_prompt_is_not_answered_and_the_command_is_stopped(day55: Lesson) -> None:
    runner = Stuck(prompt="[sudo] password for learner:")
    tunnel = backgrounds(day55)[1]
    start = CheckProcesses(runner, day55.defaults()).start([tunnel])["tunnel"]
    assert start.needs_terminal and not start.running
    assert start.detail == "it asks for input ([sudo] password for learner:), which a check cannot give"


def test_a_command_up_without_its_ready_line_is_judged_with_all_the_same(day55: Lesson) -> None:
    runner = Stuck(prompt=None)
    start = CheckProcesses(runner, day55.defaults(), ready_timeout=0.3).start([backgrounds(day55)[1]])["tunnel"]
    assert start.running and not start.ready
    assert start.detail == "running, not ready within 0.3 s: * Starting something"
