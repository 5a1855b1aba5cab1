"""One cluster per session: whatever the learner's kubeconfig says, no command reaches another cluster.

Two clusters: the lesson's, a sandbox (profile mc-demo), and "production": a loopback
port that records every connection, as the current context of the learner's default
kubeconfig. The `kubectl` and `minikube` first on PATH record their argv, KUBECONFIG
and the server that kubeconfig names, then hand over to the sandbox's own. A whole
autoplayed day55 (plain mode), `check`, `doctor` and `reset --cluster --yes` run as a
learner runs them (`python -m tutor`), given `--kubeconfig`, `--context` or neither.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, free_port
from tests.session.conftest import needs_kubectl
from tutor.lesson.model import Lesson
from tutor.sandbox import Delays, Sandbox
from tutor.sandbox.shims import MARKER
from tutor.session.factory import Setup, build_session
from tutor.session.targeting import profile_of

pytestmark = needs_kubectl

RECORDER = """#!/bin/sh
# {marker}: a recording wrapper (tests)
server=""
if [ -n "$KUBECONFIG" ] && [ -f "$KUBECONFIG" ]; then
    server=$(sed -n 's/^ *server: *//p' "$KUBECONFIG" | tr '\\n' ' ')
fi
printf '%s\\t%s\\t%s\\t%s\\n' "{name}" "$KUBECONFIG" "$server" "$*" >> {log}
# A safety net for the tests themselves: never hand a server off this machine to a real tool.
case "$server" in
    ""|*://127.0.0.1:*) ;;
    *) echo "recorder: refusing to connect to $server" >&2; exit 99 ;;
esac
exec {real} "$@"
"""


@dataclass(frozen=True)
class Call:
    program: str
    kubeconfig: str
    server: str
    args: str


class Production:
    """A loopback port standing for production: it counts every connection made to it."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.server = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.listener.close()


@dataclass
class World:
    sandbox: Sandbox
    production: Production
    default: Path
    """The learner's default kubeconfig: production is its current context."""
    log: Path
    env: dict[str, str]
    variables: list[str] = field(default_factory=list)

    @property
    def lesson_kubeconfig(self) -> Path:
        return self.sandbox.kubeconfig

    def calls(self) -> list[Call]:
        if not self.log.exists():
            return []
        return [Call(*line.split("\t", 3)) for line in self.log.read_text().splitlines()]

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 100
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tutor", *args],
            env={**self.env, **(env or {})},
            cwd=REPO,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )

    def assert_only_the_lessons_cluster(self, learner_kubeconfig: str) -> None:
        calls = self.calls()
        kubectl = [call for call in calls if call.program == "kubectl"]
        minikube = [call for call in calls if call.program == "minikube"]
        assert kubectl and minikube, calls
        lesson_server = self.sandbox.server_url
        for call in kubectl:
            assert "k8s-tutor-session-" in call.kubeconfig, call
            assert call.server.strip() in ("", lesson_server), call
            assert self.production.server not in call.server, call
        assert any(call.server.strip() == lesson_server for call in kubectl)
        for call in minikube:
            assert profile_of(call.args.split()) == "mc-demo", call
            assert call.kubeconfig == learner_kubeconfig, call
        assert self.production.connections == 0


def record(folder: Path, name: str, log: Path) -> None:
    """Put a recorder in front of the sandbox's own `name` (its stand-in folder is first on PATH)."""
    original = folder / name
    real = folder / f".{name}-recorded"
    original.rename(real)
    original.write_text(RECORDER.format(marker=MARKER, name=name, log=log, real=real))
    original.chmod(0o700)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "kubecache"))
    monkeypatch.setenv("MINIKUBE_HOME", str(tmp_path / "minikube-home"))
    production = Production()
    default = tmp_path / "kube" / "config"
    default.parent.mkdir()
    default.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "prod",
                "clusters": [{"name": "prod", "cluster": {"server": production.server}}],
                "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "admin"}}],
                "users": [{"name": "admin", "user": {"token": "production-token"}}],
            }
        )
    )
    log = tmp_path / "calls.log"
    with Sandbox(delays=Delays.instant(), started=False, profile="mc-demo") as sandbox:
        assert sandbox.standins is not None
        shim_dir = sandbox.standins.shim_dir
        for name in ("kubectl", "minikube"):
            record(shim_dir, name, log)
        env = dict(os.environ)
        # As a learner whose shell was set up by `k8s-tutor sandbox`, with production current.
        env.update(sandbox.env(base={}))
        env["PATH"] = f"{shim_dir}{os.pathsep}{os.environ['PATH']}"
        env["KUBECONFIG"] = str(default)
        overrides = {"local_port": str(free_port()), **sandbox.variable_overrides()}
        variables = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]
        try:
            yield World(sandbox, production, default, log, env, variables)
        finally:
            production.close()


MODES = {
    # flags, KUBECONFIG in the environment (None: the default kubeconfig only)
    "--kubeconfig": "kubeconfig",
    "--context": "context",
    "neither": "neither",
}


def mode_flags(world: World, mode: str) -> tuple[list[str], dict[str, str], str]:
    """The command-line flags, environment and learner's kubeconfig list for a mode."""
    merged = f"{world.default}{os.pathsep}{world.lesson_kubeconfig}"
    if mode == "kubeconfig":
        return ["--kubeconfig", str(world.lesson_kubeconfig)], {}, str(world.lesson_kubeconfig)
    if mode == "context":
        return ["--context", "mc-demo"], {"KUBECONFIG": merged}, merged
    return [], {"KUBECONFIG": merged}, merged


@pytest.mark.parametrize("mode", list(MODES.values()))
def test_no_command_reaches_another_cluster(world: World, mode: str) -> None:
    flags, env, learner = mode_flags(world, mode)
    if mode == "kubeconfig":
        # --kubeconfig names a file that exists only once the lesson's first step made it.
        env = {}
    lesson = world.run("day55", "--plain", "--autoplay", *flags, *world.variables, env=env, timeout=110)
    assert lesson.returncode == 0, lesson.stdout[-3000:] + lesson.stderr[-3000:]
    assert "That is the lesson." in lesson.stdout
    assert "Traceback" not in lesson.stderr

    check = world.run("check", "day55", "--json", *flags, *world.variables, env=env)
    assert "Traceback" not in check.stderr, check.stderr
    report = yaml.safe_load(check.stdout)
    assert report["context"]["name"] == "mc-demo"
    assert report["context"]["server"] == world.sandbox.server_url

    doctor = world.run("doctor", "day55", *flags, env=env)
    assert "Traceback" not in doctor.stderr, doctor.stderr
    assert f"context mc-demo: the k8s-tutor sandbox (simulated) at {world.sandbox.server_url}" in doctor.stdout

    reset = world.run("reset", "day55", "--cluster", "--yes", *flags, *world.variables, env=env)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert world.sandbox.store.list("ingresses.networking.k8s.io", "pacman") == []

    world.assert_only_the_lessons_cluster(learner)
    # Production is still what the learner's own kubectl points at: nothing changed it.
    assert yaml.safe_load(world.default.read_text())["current-context"] == "prod"


def test_another_terminal_cannot_move_the_session(world: World, day55: Lesson, monkeypatch: pytest.MonkeyPatch) -> None:
    merged = f"{world.default}{os.pathsep}{world.lesson_kubeconfig}"
    monkeypatch.setenv("PATH", world.env["PATH"])
    monkeypatch.setenv("KUBECONFIG", merged)
    world.sandbox.start_cluster()
    default = yaml.safe_load(world.default.read_text())
    world.default.write_text(yaml.safe_dump({**default, "current-context": "mc-demo"}))
    # A lesson with no minikube profile of its own and no context named: the session takes
    # the current context, mc-demo, and keeps it.
    kubectl_only = dataclasses.replace(day55, requires=("kubectl",))
    session = build_session(kubectl_only, Setup(save_progress=False))
    try:
        session.open()
        step = day55.step("start")
        nodes = step.runnable[1]
        assert session.run_command(step, nodes).ok
        # Another terminal: `kubectl config use-context prod` (what it writes), then an edit
        # that repoints mc-demo.
        world.default.write_text(yaml.safe_dump({**default, "current-context": "prod"}))
        assert session.run_command(step, nodes).ok
        ran = world.calls()
        assert len(ran) == 2 and {call.server.strip() for call in ran} == {world.sandbox.server_url}
        config = yaml.safe_load(world.lesson_kubeconfig.read_text())
        for entry in config["clusters"]:
            entry["cluster"]["server"] = "https://10.11.12.13:8443"
        world.lesson_kubeconfig.write_text(yaml.safe_dump(config))
        before = len(world.calls())
        refused = session.run_command(step, nodes)
        assert not refused.ok and "was not run" in refused.detail
        assert "10.11.12.13" in refused.detail
        assert len(world.calls()) == before
    finally:
        session.close()
    assert world.production.connections == 0


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["kubectl", "--context", "prod", "get", "pods"], "--context"),
        (["kubectl", "get", "pods", "--kubeconfig=/home/me/.kube/config"], "--kubeconfig"),
        (["kubectl", "-s", "https://127.0.0.1:1", "get", "pods"], "-s"),
        (["kubectl", "get", "pods", "--server=https://127.0.0.1:1"], "--server"),
        (["helm", "list", "--kube-context", "prod"], "--kube-context"),
        (["minikube", "-p", "prod", "addons", "list"], "the profile 'prod'"),
        (["minikube", "--profile=prod", "status"], "the profile 'prod'"),
    ],
)
def test_commands_that_name_another_cluster_are_refused(
    world: World, day55: Lesson, monkeypatch: pytest.MonkeyPatch, argv: list[str], refused: str
) -> None:
    monkeypatch.setenv("PATH", world.env["PATH"])
    monkeypatch.setenv("KUBECONFIG", str(world.default))
    world.sandbox.start_cluster()
    session = build_session(day55, Setup(kubeconfig=world.lesson_kubeconfig, save_progress=False))
    try:
        outcome = session.runner.run(argv, timeout=30, ok_exit=[0], on_line=lambda _: None, on_prompt=lambda _: None)
    finally:
        session.close()
    assert not outcome.ok and refused in outcome.detail and "was not run" in outcome.detail
    assert world.calls() == [] and world.production.connections == 0
