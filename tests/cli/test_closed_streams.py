"""Started with standard input (or output) closed, `k8s-tutor day55 --sandbox --plain <&-`:
no traceback, and no file of the tutor's takes the place of the missing stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tutor", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=dict(os.environ, K8S_TUTOR_STATE_DIR=str(tmp_path), KUBECACHEDIR=str(tmp_path / "cache")),
        preexec_fn=lambda: os.close(0),  # `<&-`
    )


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc to see what descriptor 0 is")
def test_plain_mode_with_standard_input_closed(tmp_path: Path) -> None:
    process = start(tmp_path, "day55", "--sandbox", "--plain", "--set", f"local_port={free_port()}")
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Run the commands in your own terminal"):
                break
        else:
            raise AssertionError(f"the lesson never came up: {process.stderr.read() if process.stderr else ''}")
        # Descriptor 0 is /dev/null, not the sandbox's event loop or a socket a child could read.
        assert os.readlink(f"/proc/{process.pid}/fd/0") == "/dev/null"
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM)
    assert "Traceback" not in err


def test_the_lesson_list_with_standard_input_closed(tmp_path: Path) -> None:
    process = start(tmp_path)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "day55" in out
    assert "Traceback" not in err
