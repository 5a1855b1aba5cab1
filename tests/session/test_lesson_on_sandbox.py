"""The whole engine on the simulated cluster: autoplay, faults, replay, resume with drift, reset."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.session.conftest import Simulated, needs_kubectl
from tutor.cli import main
from tutor.commands.reset import ResetOptions, reset_cluster
from tutor.lesson.model import Lesson
from tutor.progress import ProgressStore
from tutor.session.events import (
    AutoplayStopped,
    ConnectionChanged,
    DriftFound,
    Event,
    LessonCompleted,
    ProcessChanged,
    StepShown,
)
from tutor.session.factory import build_session

pytestmark = needs_kubectl


def collect(session) -> list[Event]:  # type: ignore[no-untyped-def]
    events: list[Event] = []
    session.subscribe(events.append)
    return events


def test_autoplay_completes_the_whole_lesson(day55: Lesson, simulated: Simulated) -> None:
    session = build_session(day55, simulated.setup())
    events = collect(session)
    try:
        session.open()
        assert session.autoplay(), [e for e in events if isinstance(e, AutoplayStopped)]
    finally:
        session.close()
    assert session.frontier is None
    assert any(isinstance(e, LessonCompleted) for e in events)
    ready = {e.process for e in events if isinstance(e, ProcessChanged) and e.state == "ready"}
    assert ready == {"pacman-forward", "tunnel"}


def test_autoplay_recovers_from_api_errors_and_a_killed_port_forward(day55: Lesson, simulated: Simulated) -> None:
    session = build_session(day55, simulated.setup())
    events = collect(session)
    faults = simulated.sandbox.faults
    injected: list[str] = []

    def inject(event: Event) -> None:
        if isinstance(event, StepShown) and event.step == "volumes" and "api" not in injected:
            injected.append("api")
            # Every API request fails with 500 for three seconds, and the open watches
            # drop, so the tutor must reconnect through the failures.
            faults.fail("*", r".*", status=500, duration=3.0)
            simulated.sandbox.drop_watches()
        if isinstance(event, StepShown) and event.step == "mongo-restart" and "forward" not in injected:
            injected.append("forward")
            info = session.runner.executor.processes()["pacman-forward"]  # type: ignore[attr-defined]
            assert info.pid is not None
            os.killpg(info.pid, signal.SIGKILL)

    session.subscribe(inject)
    try:
        session.open()
        assert session.autoplay(), [e for e in events if isinstance(e, AutoplayStopped)]
    finally:
        session.close()
    assert injected == ["api", "forward"]
    states = [e.status.state for e in events if isinstance(e, ConnectionChanged)]
    assert "reconnecting" in states and states[-1] == "connected"
    forward = [e.state for e in events if isinstance(e, ProcessChanged) and e.process == "pacman-forward"]
    assert "restarting" in forward and forward.count("ready") >= 2


def test_replay_a_late_step_fast_forwards_the_missing_ones(day55: Lesson, simulated: Simulated) -> None:
    session = build_session(day55, simulated.setup(), step="scale")
    try:
        missing: list[str] = []
        opening = session.open(fast_forward=lambda opening: not missing.extend(opening.missing))
        assert missing == [step.id for step in day55.steps[: day55.index("scale")]]
        assert opening.fast_forwarded is True
        assert session.viewing.id == "scale"
        session.run_step("scale")
        assert session.wait_done("scale", 30)
    finally:
        session.close()


def test_resume_finds_the_default_storageclass_undone_by_a_minikube_restart(
    day55: Lesson, simulated: Simulated
) -> None:
    first = build_session(day55, simulated.setup(save_progress=True))
    try:
        first.open()
        assert first.play(["start", "default-storageclass", "deploy"])
    finally:
        first.close()
    # The volumes step's check already held: done without a command, as the rules say.
    saved = ProgressStore().load("day55", first.cluster).completed
    assert saved == ["start", "default-storageclass", "deploy", "volumes"]

    # minikube stop/start re-marks `standard` as the default StorageClass.
    for argv in (["minikube", "stop", "-p", "mc-demo"], ["minikube", "start", "-p", "mc-demo"]):
        subprocess.run(argv, env=simulated.env, check=True, capture_output=True, timeout=60)

    again = build_session(day55, simulated.setup(save_progress=True))
    events = collect(again)
    try:
        opening = again.open()
    finally:
        again.close()
    assert opening.drifted == ["default-storageclass"]
    assert opening.current == "default-storageclass"
    drift = next(e for e in events if isinstance(e, DriftFound))
    assert "standard" in drift.checks[0].result.reason
    # Drift is shown, never erased: only the learner's actions change the record.
    assert again.progress.completed == ["start", "deploy", "volumes"]
    assert ProgressStore().load("day55", again.cluster).completed == saved


def test_reset_cluster_removes_what_the_lesson_created(
    day55: Lesson,
    simulated: Simulated,
    monkeypatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    session = build_session(day55, simulated.setup())
    try:
        session.open()
        assert session.play([step.id for step in day55.steps[: day55.index("ingress") + 1]])
    finally:
        session.close()
    # As with `k8s-tutor sandbox` in another terminal and only KUBECONFIG exported: the
    # kubeconfig itself says where the sandbox's minikube is, for the addon's cleanup.
    monkeypatch.setenv("KUBECONFIG", simulated.env["KUBECONFIG"])
    asked: list[str] = []
    options = ResetOptions(lesson="day55", remove_created=True)
    code = reset_cluster(day55, options, ask=lambda question: asked.append(question) or True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert asked == [
        "Remove what day55 created and forget your progress on mc-demo?",
        "Also disable minikube's ingress addon?",
    ]
    store = simulated.sandbox.store
    namespace = store.get("namespaces", "", "pacman")
    assert namespace is None or "deletionTimestamp" in namespace["metadata"]
    assert store.list("ingresses.networking.k8s.io", "pacman") == []
    default = [
        sc["metadata"]["name"]
        for sc in store.list("storageclasses.storage.k8s.io")
        if sc["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]
    assert default == ["standard"]
    assert "kubectl delete -f" in out
    assert "failed" not in out
    controller = store.get("deployments.apps", "ingress-nginx", "ingress-nginx-controller")
    assert controller is None or "deletionTimestamp" in controller["metadata"]


def test_reset_acts_on_the_lessons_context_not_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
        "clusters: [{name: prod, cluster: {server: 'https://prod.example.invalid:6443'}}]\n"
        "contexts: [{name: prod, context: {cluster: prod, user: prod}}]\nusers: [{name: prod, user: {}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert main(["reset", "day55", "--cluster", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "k8s-tutor reset: nothing to reset" in err and "there is no context 'mc-demo'" in err
