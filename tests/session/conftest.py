"""A fresh simulated cluster per test, not yet started (the lesson's first step starts it),
and a Setup for a session on it, as `k8s-tutor LESSON --sandbox` builds one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port
from tutor.lesson.model import Lesson
from tutor.lesson.parser import load
from tutor.sandbox import Delays, Sandbox
from tutor.session.factory import Setup

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl on PATH")


@dataclass
class Simulated:
    sandbox: Sandbox
    env: dict[str, str]
    variables: dict[str, str]

    def setup(self, **kwargs: object) -> Setup:
        values: dict[str, object] = {
            # Tests run side by side: each port-forward gets a port of its own.
            "overrides": {"local_port": str(free_port())},
            "kubeconfig": self.sandbox.kubeconfig,
            "env": self.env,
            "cluster_variables": self.variables,
            "sandbox": True,
            "save_progress": False,
        }
        values.update(kwargs)
        return Setup(**values)  # type: ignore[arg-type]


@pytest.fixture
def day55() -> Lesson:
    return load(REPO / "lessons" / "day55.md")


@pytest.fixture
def simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulated]:
    # kubectl's discovery cache must not outlive one simulated cluster.
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "kubecache"))
    with Sandbox(delays=Delays.instant(), started=False, profile="mc-demo") as sandbox:
        env = sandbox.env()
        env["KUBECACHEDIR"] = os.environ["KUBECACHEDIR"]
        yield Simulated(sandbox, env, sandbox.variable_overrides())
