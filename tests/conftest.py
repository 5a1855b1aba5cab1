"""Shared fixtures: every test gets its own progress and cache folders, never the user's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("K8S_TUTOR_STATE_DIR", str(state))
    monkeypatch.setenv("K8S_TUTOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("K8S_TUTOR_LESSONS", raising=False)
    # Tests run side by side (xdist): two sandboxes' tunnels must not both serve port 80,
    # or one test's HTTP check would be answered by the other's Ingress.
    monkeypatch.setenv("K8S_TUTOR_SANDBOX_INGRESS_PORT", str(free_port()))
    return state


def run_tutor(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m tutor ARGS` as a learner runs it, with no input; `env` is added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(autouse=True)
def _no_exit_handlers_in_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` guards the processes it starts with signal handlers and a watchdog: pytest owns
    this process's signals, so tests that call it in-process run without them (the program's
    own are tested in a child process)."""
    monkeypatch.setattr("tutor.commands.check.guard_processes", lambda: None)
