"""day55's port-forward step on the sandbox, done from another terminal, or blocked by a stranger."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import free_port
from tests.impostor import Impostor
from tests.session.conftest import Simulated, needs_kubectl
from tutor.lesson.model import Lesson
from tutor.session.backends import RunOutcome
from tutor.session.events import AlreadyServed, Event, PortTaken, VariableChanged
from tutor.session.factory import build_session
from tutor.session.session import LessonSession

pytestmark = needs_kubectl

BEFORE_THE_FORWARD = ["start", "default-storageclass", "deploy", "volumes"]


@pytest.fixture
def deployed(day55: Lesson, simulated: Simulated) -> Iterator[tuple[LessonSession, list[Event]]]:
    """A session whose lesson is done up to the port-forward step."""
    session = build_session(day55, simulated.setup())
    events: list[Event] = []
    session.subscribe(events.append)
    try:
        session.open()
        assert session.play(BEFORE_THE_FORWARD)
        session.show("port-forward")
        yield session, events
    finally:
        session.close()


def run_forward(session: LessonSession) -> RunOutcome:
    step = session.lesson.step("port-forward")
    return session.run_command(step, step.commands[0])


def check_of(session: LessonSession, step: str) -> str:
    (check,) = session.results(step)
    return f"{check.result.status}: {check.result.reason}"


def wait_for_reason(session: LessonSession, step: str, wanted: str, timeout: float = 30) -> str:
    """The step's check once its result says `wanted` (the engine probes once a second)."""
    import time

    deadline = time.monotonic() + timeout
    while wanted not in check_of(session, step):
        assert time.monotonic() < deadline, f"waited for {wanted!r}; the check says {check_of(session, step)}"
        session.wait_done(step, 0.1)
    return check_of(session, step)


def test_a_stranger_on_the_port_fails_the_step_until_another_port_is_used(
    deployed: tuple[LessonSession, list[Event]],
) -> None:
    session, events = deployed
    port = int(session.variables["local_port"])
    impostor = Impostor("pacman-fake-12345", port)
    try:
        # The check sees through the imitation, and says who answers there.
        said = wait_for_reason(session, "port-forward", "something else answers")
        assert said.startswith(
            f"fail: something else answers on 127.0.0.1:{port}: it names pod pacman-fake-12345, "
            "which does not exist in namespace pacman"
        )
        (check,) = session.results("port-forward")
        assert any(f"(pid {os.getpid()})" in line for finding in check.result.findings for line in finding.evidence)
        # Run: reported before it starts, with the program that holds the port.
        outcome = run_forward(session)
        assert not outcome.ok and session.runner.process_state("pacman-forward") is None
        taken = next(e for e in events if isinstance(e, PortTaken))
        assert taken.variable == "local_port" and taken.suggestion is not None
        assert f"(pid {os.getpid()})" in taken.use.describe()
        # Another port, without restarting: the forward and the checks move there.
        other = free_port()
        session.set_variable("local_port", str(other))
        assert VariableChanged("local_port", str(other)) in events
        outcome = run_forward(session)
        assert outcome.ok, outcome.detail
        assert session.wait_done("port-forward", 30), session.results("port-forward")
        assert f"http://127.0.0.1:{other}/location/metadata answered 200" in check_of(session, "port-forward")
    finally:
        impostor.close()


def test_a_forward_the_learner_runs_elsewhere_completes_the_step(
    deployed: tuple[LessonSession, list[Event]], simulated: Simulated
) -> None:
    session, events = deployed
    port = session.variables["local_port"]
    own = subprocess.Popen(
        ["kubectl", "port-forward", "svc/pacman", f"{port}:80", "-n", "pacman"],
        env=simulated.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert session.wait_done("port-forward", 60), session.results("port-forward")
        # Run now: the port already serves the game, so no second forward collides with it.
        outcome = run_forward(session)
        assert outcome.ok
        assert [e.port for e in events if isinstance(e, AlreadyServed)] == [int(port)]
        assert session.runner.process_state("pacman-forward") is None
        assert own.poll() is None
    finally:
        os.killpg(own.pid, signal.SIGTERM)
        own.wait(10)
