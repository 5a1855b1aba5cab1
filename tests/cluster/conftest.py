"""Fixtures for the cluster layer's tests: a sandbox per test, and no network but loopback.

Every test here that needs a cluster runs against the sandbox (`tutor.sandbox`) with the
real kubernetes client, and kubectl where a test runs a lesson's commands. A guard on
`socket.connect` fails any test that tries to reach an address outside 127.0.0.0/8 and
::1, even to see it fail: the context guard must refuse remote clusters before any
connection is attempted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, wait_until  # noqa: F401  (re-exported for the tests beside it)
from tests.network import loopback_only
from tutor.cluster.results import CheckResult
from tutor.cluster.status import ConnectionStatus

KUBECTL = shutil.which("kubectl")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_network_but_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    loopback_only(monkeypatch)


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from tutor.sandbox import Delays, Sandbox

    with Sandbox(delays=Delays.instant(), profile="mc-demo", started=True) as sb:
        yield sb


def kubectl(sb: Any, *args: str, stdin: str | None = None) -> str:
    """Run the real kubectl against the sandbox; the test fails with kubectl's output if it fails."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    env = {**os.environ, **sb.env()}
    done = subprocess.run([KUBECTL, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"kubectl {' '.join(args)} failed: {done.stdout}{done.stderr}"
    return done.stdout


class Recorder:
    """Collects what the engine reports, and on which thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.results: dict[str, list[CheckResult]] = {}
        self.statuses: list[ConnectionStatus] = []
        self.threads: set[str] = set()

    def on_result(self, check_id: str, result: CheckResult) -> None:
        with self.lock:
            self.results.setdefault(check_id, []).append(result)
            self.threads.add(threading.current_thread().name)

    def on_status(self, status: ConnectionStatus) -> None:
        with self.lock:
            self.statuses.append(status)
            self.threads.add(threading.current_thread().name)

    def last(self, check_id: str) -> CheckResult | None:
        with self.lock:
            history = self.results.get(check_id)
            return history[-1] if history else None

    def status_of(self, check_id: str) -> str | None:
        result = self.last(check_id)
        return result.status if result else None

    def states(self) -> list[str]:
        with self.lock:
            return [status.state for status in self.statuses]


@pytest.fixture
def engine(sandbox: Any) -> Iterator[tuple[Any, Recorder]]:
    """The check engine on ``sandbox`` with the real client, and what it reported."""
    from tutor.cluster.checks import BasicContext
    from tutor.cluster.connection import ClusterConnection
    from tutor.cluster.engine import CheckEngine
    from tutor.cluster.kubeconfig import Source

    recorder = Recorder()
    connection = ClusterConnection(Source.resolve(sandbox.kubeconfig))
    eng = CheckEngine(connection, BasicContext(), on_result=recorder.on_result, on_status=recorder.on_status)
    eng.start()
    yield eng, recorder
    assert eng.close() == []
    connection.close()


def activate(eng: Any, **checks: tuple[str, dict[str, Any]]) -> None:
    """Make these checks (id -> (kind, fields)) the engine's active ones, in namespace pacman."""
    from tutor.cluster.checks import build_check

    eng.set_active({cid: build_check(kind, fields, namespace="pacman") for cid, (kind, fields) in checks.items()})


def tutor_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("k8s-tutor ")]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
