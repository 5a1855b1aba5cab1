"""`--autoplay --pause` in line mode: the presenter's Enter before each step's commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, free_port, run_tutor
from tests.session.conftest import needs_kubectl


def _present(tmp: Path, answers: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tutor", "day55", "--sandbox", "--plain", "--autoplay", "--pause", *args],
        input=answers,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        env={**os.environ, "K8S_TUTOR_STATE_DIR": str(tmp), "KUBECACHEDIR": str(tmp / "cache"), "NO_COLOR": "1"},
        check=False,
    )


@needs_kubectl
def test_each_steps_commands_wait_for_enter_and_q_stops_there(tmp_path: Path) -> None:
    result = _present(tmp_path, "\nq\n", "--set", f"local_port={free_port()}")
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    first = out.index("Paused before the commands of “Start minikube with the storage addons”")
    ran = out.index("[run] $ minikube start -p mc-demo")
    second = out.index("Paused before the commands of “Make csi-hostpath-sc the default StorageClass”")
    assert first < ran < second
    assert out.rstrip().endswith("Autoplay stopped here, as asked. Your progress is saved.")
    assert "[run] $ kubectl get storageclass" not in out  # the second step's commands never ran


@needs_kubectl
def test_without_more_input_it_plays_on_without_pauses(tmp_path: Path) -> None:
    result = _present(tmp_path, "\n", "--set", f"local_port={free_port()}", "--step", "default-storageclass")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "No more input: playing on without pauses." in result.stdout
    assert result.stdout.count("Paused before the commands of") == 2


def test_pause_needs_autoplay_and_present_needs_the_tui() -> None:
    alone = run_tutor("day55", "--pause", "--sandbox")
    assert alone.returncode == 2
    assert "--pause pauses autoplay before each step's commands: give it with --autoplay" in alone.stderr
    plain = run_tutor("day55", "--present", "--plain", "--sandbox")
    assert plain.returncode == 2
    assert "--present is a layout of the TUI: leave out --plain" in plain.stderr
