"""The sandbox's temporary folders: removed on close, and swept after a killed owner."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor.sandbox import tempdirs


def ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def folder(base: Path, name: str, owner: str | None) -> Path:
    path = base / name
    (path / "data").mkdir(parents=True)
    (path / "data" / "scores.json").write_text("[]")
    if owner is not None:
        (path / tempdirs.OWNER).write_text(owner)
    return path


def test_only_folders_whose_owner_has_ended_are_swept(tmp_path: Path) -> None:
    gone = folder(tmp_path, "k8s-tutor-sandbox-gone", str(ended_pid()))
    mine = folder(tmp_path, "k8s-tutor-sandbox-mine", tempdirs._identity(os.getpid()) or str(os.getpid()))
    parent = folder(tmp_path, "k8s-tutor-sandbox-parent", str(os.getppid()))
    other = folder(tmp_path, "unrelated-gone", str(ended_pid()))

    removed = tempdirs.sweep("k8s-tutor-sandbox-", tmp_path)

    assert removed == [gone]
    assert not gone.exists()
    assert mine.exists() and parent.exists() and other.exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to tell a reused pid")
def test_a_reused_pid_is_not_taken_for_the_owner(tmp_path: Path) -> None:
    pid, started = (tempdirs._identity(os.getppid()) or "").split()
    reused = folder(tmp_path, "k8s-tutor-sandbox-reused", f"{pid} {int(started) - 100}")
    assert tempdirs.sweep("k8s-tutor-sandbox-", tmp_path) == [reused]


def test_a_folder_without_owner_is_kept_until_it_is_old(tmp_path: Path) -> None:
    fresh = folder(tmp_path, "k8s-tutor-standins-fresh", None)
    old = folder(tmp_path, "k8s-tutor-standins-old", None)
    long_ago = time.time() - tempdirs.ORPHAN_AGE - 60
    os.utime(old, (long_ago, long_ago))
    assert tempdirs.sweep("k8s-tutor-standins-", tmp_path) == [old]
    assert fresh.exists()


def test_a_sandbox_removes_its_folders_and_a_killed_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.sandbox import Delays, Sandbox

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    killed = folder(tmp_path, "k8s-tutor-sandbox-killed", str(ended_pid()))
    killed_shims = folder(tmp_path, "k8s-tutor-standins-killed", str(ended_pid()))
    with Sandbox(delays=Delays.instant(), started=False) as sb:
        assert not killed.exists() and not killed_shims.exists()
        assert sb.state_dir.parent == tmp_path
        assert (sb.state_dir / tempdirs.OWNER).read_text().split()[0] == str(os.getpid())
    assert list(tmp_path.iterdir()) == []
