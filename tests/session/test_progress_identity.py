"""One cluster, one identity for its progress: the lesson, `check`, `list` and `reset` agree on it,
and a sandbox never shares a real minikube profile's record of the same name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port
from tests.session.conftest import needs_kubectl
from tutor.cli import main
from tutor.cluster.kubeconfig import Source, load
from tutor.lesson.model import Lesson
from tutor.progress import Progress, ProgressStore
from tutor.sandbox import Delays, Sandbox
from tutor.session.events import Event, LessonOpened, Notice
from tutor.session.factory import Setup, build_session

pytestmark = needs_kubectl


@pytest.fixture
def foreground(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox as `k8s-tutor sandbox` runs it, its cluster not started yet; its shims on PATH."""
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "kubecache"))
    monkeypatch.setenv("MINIKUBE_HOME", str(tmp_path / "minikube-home"))
    with Sandbox(delays=Delays.instant(), started=False, profile="mc-demo") as sandbox:
        for key, value in sandbox.env(base={}).items():
            monkeypatch.setenv(key, value)
        yield sandbox


def real_minikube_record() -> ProgressStore:
    """A real minikube profile of the same name, two steps done on it."""
    store = ProgressStore()
    store.save(Progress("day55", "mc-demo", completed=["start", "default-storageclass"], memory={"score": 1}))
    return store


def test_a_sandbox_and_a_minikube_profile_of_the_same_name_are_two_clusters(tmp_path: Path) -> None:
    def context(path: Path, extensions: list[object]) -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "current-context": "mc-demo",
                    "clusters": [
                        {"name": "mc-demo", "cluster": {"server": "https://127.0.0.1:8443", "extensions": extensions}}
                    ],
                    "contexts": [{"name": "mc-demo", "context": {"cluster": "mc-demo"}}],
                }
            )
        )
        return path

    minikube = load(Source.resolve(context(tmp_path / "real", []))).info
    sandbox = load(Source.resolve(context(tmp_path / "sandbox", [{"name": "k8s-tutor-sandbox", "extension": {}}]))).info
    assert (minikube.identity, sandbox.identity) == ("mc-demo", "sandbox-mc-demo")


def test_a_session_started_before_its_cluster_takes_that_clusters_record(day55: Lesson, foreground: Sandbox) -> None:
    store = real_minikube_record()
    setup = Setup(kubeconfig=foreground.kubeconfig, overrides={"local_port": str(free_port())}, save_progress=True)
    session = build_session(day55, setup)
    events: list[Event] = []
    session.subscribe(events.append)
    try:
        session.open()
        opened = next(e for e in events if isinstance(e, LessonOpened))
        # Nothing of the real profile's record is shown for a cluster not known yet.
        assert opened.completed == ()
        assert session.play(["start"])
    finally:
        session.close()
    assert session.cluster == "sandbox-mc-demo"
    assert any(isinstance(e, Notice) and "kept as sandbox-mc-demo" in e.text for e in events)
    assert store.load("day55", "sandbox-mc-demo").completed[0] == "start"
    assert "score" not in store.load("day55", "sandbox-mc-demo").memory
    # The real profile's record is untouched.
    assert store.load("day55", "mc-demo").completed == ["start", "default-storageclass"]


def test_lesson_check_list_and_reset_agree_on_the_sandboxs_identity(
    day55: Lesson, foreground: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    store = real_minikube_record()
    foreground.start_cluster()
    kubeconfig = str(foreground.kubeconfig)
    session = build_session(
        day55, Setup(kubeconfig=foreground.kubeconfig, overrides={"local_port": str(free_port())}, save_progress=True)
    )
    try:
        session.open()
        assert session.play(["start"])
    finally:
        session.close()
    assert session.cluster == "sandbox-mc-demo"

    assert main(["list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    clusters = {item["cluster"] for item in listed["lessons"][0]["progress"]}
    assert clusters == {"mc-demo", "sandbox-mc-demo"}

    main(["check", "day55", "--kubeconfig", kubeconfig, "--step", "start", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["context"]["cluster_kind"] == "sandbox"

    assert main(["reset", "day55", "--kubeconfig", kubeconfig, "--yes"]) == 0
    capsys.readouterr()
    assert store.peek("day55", "sandbox-mc-demo") is None
    assert store.load("day55", "mc-demo").completed == ["start", "default-storageclass"]
