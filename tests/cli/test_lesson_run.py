"""`k8s-tutor LESSON` from the command line, as CI and a screen reader use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, run_tutor
from tests.session.conftest import needs_kubectl


def tutor(*args: str, tmp: Path, timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
    if "--sandbox" in args and "day55" in args:
        args = (*args, "--set", f"local_port={free_port()}")  # tests run side by side
    return run_tutor(
        *args, env={"K8S_TUTOR_STATE_DIR": str(tmp), "KUBECACHEDIR": str(tmp / "cache"), **env}, timeout=timeout
    )


@needs_kubectl
def test_autoplay_on_the_sandbox_completes_day55(tmp_path: Path) -> None:
    result = tutor("day55", "--sandbox", "--plain", "--autoplay", tmp=tmp_path, TERM="dumb", NO_COLOR="1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Cluster: the SIMULATED cluster built into k8s-tutor (the sandbox)" in out
    for number in range(1, 12):
        assert f"Step {number} done:" in out
        # A log reads in order: the step, then its commands' output, then that it is done.
        assert out.index(f"Step {number} of 11") < out.index(f"Step {number} done:")
        if number < 11:
            assert out.index(f"Step {number} done:") < out.index(f"Step {number + 1} of 11")
    assert "Lesson day55 complete: every step's checks pass." in out
    assert out.rindex("[done] ") < out.index("Lesson day55 complete")
    for line_number, line in enumerate(out.splitlines()):
        if line.startswith("[run] $ "):
            # No "Step N done" lands between a command and its result.
            rest = out.splitlines()[line_number + 1 :]
            until = next(i for i, later in enumerate(rest) if later.startswith(("[done] ", "[failed] ")))
            assert not any(later.startswith("Step ") for later in rest[:until]), line
    # Plain means plain: no escape sequences for a screen reader or a log to trip over.
    assert "\x1b" not in out
    assert "Traceback" not in result.stderr


@needs_kubectl
def test_autoplay_replay_of_one_step_fast_forwards_the_rest(tmp_path: Path) -> None:
    result = tutor("day55", "--sandbox", "--plain", "--autoplay", "--step", "volumes", tmp=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Before 'Look at the volume and its claim', these steps are not done on this cluster" in result.stdout
    assert "Lesson day55 complete" in result.stdout


@needs_kubectl
def test_autoplay_stops_with_the_reason_when_a_step_cannot_pass(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (tmp_path / "manifests").mkdir()
    (lessons / "stuck.md").write_text(
        "---\nid: stuck\ntitle: Stuck\nprofile: mc-demo\nrequires: [minikube, kubectl]\n---\n\n"
        '::: step {#start title="Start" timeout=120}\n```sh\nminikube start -p {profile}\n```\n\n'
        "> [!TIP]\n> Start it.\n\n```yaml {checks}\n- kind: exists\n  object: node/{profile}\n```\n:::\n\n"
        '::: step {#never title="Never" timeout=3}\n```sh\nkubectl get pods\n```\n\n'
        "> [!TIP]\n> Nothing creates it.\n\n```yaml {checks}\n- kind: exists\n  object: deployment/ghost\n```\n:::\n"
    )
    result = tutor("stuck", "--lessons", str(lessons), "--trust", "--sandbox", "--plain", "--autoplay", tmp=tmp_path)
    assert result.returncode == 1
    assert "Autoplay stopped at step 'Never': the checks did not pass within 3 s." in result.stdout
    assert "[check waiting] deployment/ghost exists in namespace default: deployment/ghost does not exist yet" in (
        result.stdout
    )


def test_plain_without_a_terminal_follows_along(tmp_path: Path) -> None:
    # No cluster at all (an empty kubeconfig): the view says so and waits; here it is stopped.
    config = tmp_path / "config"
    config.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "tutor", "day55", "--plain", "--kubeconfig", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=dict(os.environ, K8S_TUTOR_STATE_DIR=str(tmp_path), TERM="dumb"),
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "this view moves on when each step's checks pass" in line:
                break
        process.terminate()
        process.wait(20)
    finally:
        if process.poll() is None:
            process.kill()
    text = "".join(lines)
    assert "Step 1 of 11: Start minikube with the storage addons" in text
    assert "[cluster] No cluster yet: run the first step (minikube start)" in text
    assert "$ minikube start -p mc-demo" in text


@pytest.mark.parametrize("flags", [["--sandbox", "--kubeconfig", "x"], ["--sandbox", "--context", "y"]])
def test_sandbox_cannot_be_combined_with_a_kubeconfig(tmp_path: Path, flags: list[str]) -> None:
    result = tutor("day55", "--plain", *flags, tmp=tmp_path, timeout=30)
    assert result.returncode == 2
    assert "--sandbox runs its own simulated cluster" in result.stderr
