"""Without minikube, the tutor says where to go: `doctor` and the lesson picker suggest --sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tutor.cli import main


def no_minikube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink("/usr/bin/kubectl", bin_dir / "kubectl")
    monkeypatch.setenv("PATH", str(bin_dir))


def test_doctor_suggests_the_sandbox_when_minikube_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_minikube(tmp_path, monkeypatch)
    code = main(["doctor", "day55", "--kubeconfig", str(tmp_path / "none")])
    out = capsys.readouterr().out
    assert code == 1
    assert "[fail] minikube: minikube is not installed" in out
    assert "or take the lesson on a simulated cluster: k8s-tutor day55 --sandbox" in out


def test_doctor_with_the_sandbox_does_not_ask_for_minikube(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_minikube(tmp_path, monkeypatch)
    main(["doctor", "day55", "--sandbox"])
    out = capsys.readouterr().out
    assert "minikube is not installed" not in out and "--sandbox: the simulated cluster" in out


def test_the_picker_suggests_the_sandbox_when_minikube_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.commands import lesson

    shown: list[str] = []
    monkeypatch.setattr("tutor.ui.app.pick_lesson", lambda choices, note="": shown.append(note))
    no_minikube(tmp_path, monkeypatch)
    lesson._pick_lesson((), sandbox=False)
    lesson._pick_lesson((), sandbox=True)
    assert "minikube is not installed" in shown[0] and "k8s-tutor --sandbox" in shown[0]
    assert shown[1] == "", "with --sandbox already, nothing to suggest"
