"""Background commands as the learner meets them: the port-forward becomes ready, comes
back after its pod goes away, gives up with the reason when it cannot work, and is gone
when stopped."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.run import (
    BackgroundEvent,
    Exited,
    Failed,
    MissingExecutable,
    NeedKind,
    Output,
    ProcessState,
    Ready,
    Restarting,
    RestartPolicy,
    ShExecutor,
    Starting,
    Stopped,
    TerminalNeeded,
)
from tutor.run.cleanup import GroupRegistry

from .helpers import MARK, marked_processes, needs_proc, script, wait_for_marked

pytestmark = needs_proc

FAST = RestartPolicy(initial_delay=0.05, max_delay=0.2)
FORWARDING = "Forwarding from 127.0.0.1:9090 -> 8080"


class Events:
    """Collects events from the supervisor's threads; waits for the one a test needs."""

    def __init__(self) -> None:
        self.all: list[BackgroundEvent] = []
        self._queue: queue.Queue[BackgroundEvent] = queue.Queue()

    def __call__(self, event: BackgroundEvent) -> None:
        self._queue.put(event)

    def wait_for(self, kind: type, within: float = 10.0) -> BackgroundEvent:
        deadline = time.monotonic() + within
        while True:
            event = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            self.all.append(event)
            if isinstance(event, kind):
                return event

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.all]


@pytest.fixture
def background(registry: GroupRegistry, token: str) -> Iterator[ShExecutor]:
    executor = ShExecutor(env={MARK: token}, grace=0.5, registry=registry, restart=FAST)
    yield executor
    executor.close()


def test_ready_when_a_line_matches(background: ShExecutor) -> None:
    events = Events()
    forward = f"echo 'starting'; sleep 0.2; echo '{FORWARDING}'; exec sleep 300"
    background.start_background("pf", ["sh", "-c", forward], "Forwarding from", events)
    assert background.processes()["pf"].state in (ProcessState.STARTING, ProcessState.RUNNING)
    ready = events.wait_for(Ready)
    assert isinstance(ready, Ready)
    assert ready.line is not None
    assert ready.line.text == FORWARDING
    assert 0.1 < ready.after < 10
    assert events.kinds() == ["Starting", "Output", "Output", "Ready"]
    info = background.processes()["pf"]
    assert info.state is ProcessState.READY
    assert info.pid is not None
    assert info.attempt == 1


def test_without_a_ready_pattern_it_is_ready_once_started(background: ShExecutor) -> None:
    events = Events()
    background.start_background("sleeper", ["sleep", "300"], on_event=events)
    ready = events.wait_for(Ready)
    assert isinstance(ready, Ready)
    assert ready.line is None
    assert background.processes()["sleeper"].state is ProcessState.READY


def test_restarted_after_its_pod_went_away(background: ShExecutor, tmp_path: Path) -> None:
    # First run: forwards, then loses its pod. Second run: forwards and stays.
    forward = script(
        tmp_path,
        "kubectl",
        f"echo '{FORWARDING}'\n"
        f"if [ ! -e {tmp_path}/ran ]; then touch {tmp_path}/ran; sleep 0.2;\n"
        "  echo 'error: lost connection to pod' >&2; exit 1; fi\n"
        "exec sleep 300\n",
    )
    events = Events()
    background.start_background("pf", [str(forward)], "Forwarding from", events)
    exited = events.wait_for(Exited)
    assert isinstance(exited, Exited)
    assert exited.result.exit_code == 1
    assert exited.result.tail[-1] == "error: lost connection to pod"
    restarting = events.wait_for(Restarting)
    assert isinstance(restarting, Restarting)
    assert restarting.attempt == 2
    events.wait_for(Ready)
    assert events.kinds() == [
        "Starting",
        "Output",
        "Ready",
        "Output",
        "Exited",
        "Restarting",
        "Starting",
        "Output",
        "Ready",
    ]
    info = background.processes()["pf"]
    assert (info.state, info.attempt) == (ProcessState.READY, 2)


def test_a_command_that_dies_at_once_every_time_fails_with_the_reason(
    background: ShExecutor,
) -> None:
    events = Events()
    busy = (
        "echo 'Unable to listen on port 9090: Listeners failed to create with the following "
        "errors: [unable to create listener: Error listen tcp4 127.0.0.1:9090: bind: address "
        "already in use]' >&2; exit 1"
    )
    started = time.monotonic()
    background.start_background("pf", ["sh", "-c", busy], "Forwarding from", events)
    failed = events.wait_for(Failed)
    assert isinstance(failed, Failed)
    assert time.monotonic() - started < 10
    assert "address already in use" in failed.reason
    assert "exited 4 times" in failed.reason
    assert events.kinds().count("Starting") == FAST.max_restarts + 1
    info = background.processes()["pf"]
    assert info.state is ProcessState.FAILED
    assert info.reason == failed.reason
    # It stays failed: no further start.
    time.sleep(0.3)
    assert background.processes()["pf"].attempt == FAST.max_restarts + 1


def test_a_long_healthy_run_does_not_count_towards_the_cap(registry: GroupRegistry, tmp_path: Path) -> None:
    policy = RestartPolicy(max_restarts=1, initial_delay=0.01, stable_after=0.2)
    executor = ShExecutor(grace=0.5, registry=registry, restart=policy)
    counter = tmp_path / "runs"
    forward = script(
        tmp_path,
        "forward",
        f"echo run >> {counter}\necho '{FORWARDING}'\n"
        f'[ "$(wc -l < {counter})" -ge 4 ] && exec sleep 300\nsleep 0.3; exit 1\n',
    )
    events = Events()
    executor.start_background("pf", [str(forward)], "Forwarding", events)
    while events.kinds().count("Ready") < 4:
        event = events.wait_for(Ready)
        assert not isinstance(event, Failed)
    assert "Failed" not in events.kinds()
    executor.close()


def test_stop_ends_the_whole_group(background: ShExecutor, token: str) -> None:
    events = Events()
    tree = "sleep 300 & (trap '' TERM; sleep 300) & echo 'Tunnel successfully started'; wait"
    background.start_background("tunnel", ["sh", "-c", tree], "Tunnel successfully started", events)
    events.wait_for(Ready)
    assert len(wait_for_marked(token, 3)) == 3
    background.stop("tunnel")
    stopped = events.wait_for(Stopped, within=0)
    assert isinstance(stopped, Stopped)
    assert stopped.result is not None
    assert stopped.result.cancelled
    assert marked_processes(token) == []
    assert background.processes()["tunnel"].state is ProcessState.STOPPED
    background.stop("tunnel")  # already stopped: nothing happens


def test_several_at_once_each_by_id(background: ShExecutor, token: str) -> None:
    events = {name: Events() for name in ("pf-a", "pf-b", "tunnel")}
    for name, collector in events.items():
        background.start_background(
            name, ["sh", "-c", f"echo 'ready {name}'; exec sleep 300"], f"ready {name}", collector
        )
    for collector in events.values():
        collector.wait_for(Ready)
    states = {name: info.state for name, info in background.processes().items()}
    assert states == dict.fromkeys(events, ProcessState.READY)
    with pytest.raises(ValueError, match="already running"):
        background.start_background("pf-a", ["sleep", "1"])
    background.stop("pf-a")
    assert background.processes()["pf-b"].state is ProcessState.READY
    background.stop_all()
    states = {name: info.state for name, info in background.processes().items()}
    assert states == dict.fromkeys(events, ProcessState.STOPPED)
    assert marked_processes(token) == []
    # A stopped id can be used again.
    again = Events()
    background.start_background("pf-a", ["sh", "-c", "echo 'ready'; exec sleep 300"], "ready", again)
    again.wait_for(Ready)


def test_stopping_during_the_backoff(registry: GroupRegistry) -> None:
    slow = RestartPolicy(initial_delay=30.0)
    executor = ShExecutor(grace=0.5, registry=registry, restart=slow)
    events = Events()
    executor.start_background("pf", ["sh", "-c", "exit 1"], "Forwarding", events)
    events.wait_for(Restarting)
    started = time.monotonic()
    executor.stop("pf")
    assert time.monotonic() - started < 5
    stopped = events.wait_for(Stopped, within=0)
    assert isinstance(stopped, Stopped)
    assert stopped.result is None


def test_a_password_prompt_is_surfaced_and_not_retried(background: ShExecutor, token: str) -> None:
    events = Events()
    tunnel = (
        "echo '❗  The service/ingress pacman-ingress requires privileged ports to be exposed: "
        "[80 443]'; echo '🔑  sudo permission will be asked for it.';"
        "printf '[sudo] password for you: '; read -r pw || sleep 300"
    )
    background.start_background("tunnel", ["sh", "-c", tunnel], "Tunnel successfully", events)
    needed = events.wait_for(TerminalNeeded)
    assert isinstance(needed, TerminalNeeded)
    assert needed.need.kind is NeedKind.PASSWORD
    assert needed.need.text == "[sudo] password for you:"
    info = background.processes()["tunnel"]
    assert info.state is ProcessState.NEEDS_TERMINAL
    assert info.reason == "is waiting for input: [sudo] password for you:"
    time.sleep(0.3)
    assert events.kinds().count("Starting") == 1
    assert marked_processes(token) == []


def test_sudo_refusing_to_run_without_a_terminal_is_surfaced(background: ShExecutor, tmp_path: Path) -> None:
    minikube = script(
        tmp_path,
        "minikube",
        "echo '🔑  sudo permission will be asked for it.'\n"
        "echo 'sudo: a terminal is required to read the password; either use the -S option "
        "to read from standard input or configure an askpass helper' >&2\n"
        "exec sleep 300\n",
    )
    events = Events()
    background.start_background("tunnel", [str(minikube), "tunnel"], "Tunnel successfully", events)
    needed = events.wait_for(TerminalNeeded)
    assert isinstance(needed, TerminalNeeded)
    assert needed.need.kind is NeedKind.NO_TERMINAL
    assert background.processes()["tunnel"].state is ProcessState.NEEDS_TERMINAL


def test_a_failing_callback_does_not_stop_supervision(background: ShExecutor) -> None:
    seen: list[BackgroundEvent] = []
    ready = threading.Event()

    def clumsy(event: BackgroundEvent) -> None:
        seen.append(event)
        if isinstance(event, Ready):
            ready.set()
        if isinstance(event, Output):
            raise RuntimeError("consumer bug")

    background.start_background("pf", ["sh", "-c", "echo a; echo ready; exec sleep 300"], "ready", clumsy)
    assert ready.wait(10)
    background.stop("pf")
    assert [type(event) for event in seen] == [Starting, Output, Output, Ready, Stopped]


def test_a_missing_program_is_reported_before_anything_starts(background: ShExecutor) -> None:
    with pytest.raises(MissingExecutable, match=re.escape("https://kubernetes.io/docs/tasks/tools/")):
        background.start_background("pf", ["kubectl", "port-forward"], "Forwarding", env={"PATH": "/nonexistent"})
    assert "pf" not in background.processes()
