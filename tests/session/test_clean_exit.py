"""However the tutor ends, no process it started survives: checked in the process table.

The tutor runs day55 on the sandbox in a pseudo-terminal, fast-forwards to the last
step, and starts the tunnel from there; the Ingress host is set to one no rule
matches, so the lesson stays open with the port-forward and the tunnel running. Then
it is stopped: Ctrl+C, SIGTERM, SIGHUP, SIGKILL (the watchdog's case) and a crash.
Every process the tutor started carries a marker in its environment.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import REPO, free_port
from tests.run.helpers import MARK, kill_all, needs_proc, wait_for_no_marked
from tests.session.conftest import needs_kubectl

pytestmark = [needs_proc, needs_kubectl]

ARGS = ["day55", "--sandbox", "--plain", "--step", "tunnel", "--set", "ingress_host=nowhere.invalid"]

CRASHING = """
import sys
import tutor.plain.view as view

original = view.PlainView._handle

def handle(self, command):
    if command == "boom":
        raise RuntimeError("a bug in the view")
    return original(self, command)

view.PlainView._handle = handle
from tutor.cli import main
sys.exit(main(sys.argv[1:]))
"""


class Tutor:
    """The tutor in a pseudo-terminal, as a learner runs it."""

    def __init__(self, tmp: str, *, crash_hook: bool = False) -> None:
        self.token = uuid.uuid4().hex
        self.tmpdir = os.path.join(tmp, "tmp")
        os.makedirs(self.tmpdir)
        env = dict(
            os.environ,
            **{
                MARK: self.token,
                "K8S_TUTOR_STATE_DIR": tmp,
                "KUBECACHEDIR": tmp,
                "TERM": "xterm",
                "K8S_TUTOR_SANDBOX_DELAYS": "instant",
                "TMPDIR": self.tmpdir,
            },
        )
        self.master, slave = pty.openpty()
        args = [*ARGS, "--set", f"local_port={free_port()}"]  # tests run side by side
        argv = [sys.executable, "-c", CRASHING, *args] if crash_hook else [sys.executable, "-m", "tutor", *args]
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, start_new_session=True
        )
        os.close(slave)
        self.output = ""

    def expect(self, text: str, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                raise AssertionError(f"{text!r} never appeared; output:\n{self.output[-3000:]}")
            ready, _, _ = select.select([self.master], [], [], min(remaining, 0.5))
            if ready:
                try:
                    self.output += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def drain(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk.decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        os.close(self.master)


@pytest.fixture
def tutor(tmp_path):  # type: ignore[no-untyped-def]
    made: list[Tutor] = []

    def start(**kwargs: bool) -> Tutor:
        running = Tutor(str(tmp_path), **kwargs)
        made.append(running)
        running.expect("Fast-forward by running their commands? [Y/n]")
        running.type("\n")
        running.expect("[background] pacman-forward ready")
        running.expect("Enter: run this step's commands")
        running.type("\n")
        running.expect("[background] tunnel ready")
        return running

    yield start
    for running in made:
        survivors = wait_for_no_marked(running.token, within=0.1)
        kill_all(survivors)
        running.close()


@pytest.mark.parametrize(
    ("how", "status"),
    [
        (signal.SIGINT, None),
        (signal.SIGTERM, -signal.SIGTERM),
        (signal.SIGHUP, -signal.SIGHUP),
        (signal.SIGKILL, -signal.SIGKILL),
    ],
)
def test_no_process_survives_a_signal(tutor, how: signal.Signals, status: int | None) -> None:  # type: ignore[no-untyped-def]
    running = tutor()
    assert "[background] pacman-forward ready" in running.output
    running.process.send_signal(how)
    code = running.process.wait(20)
    if status is not None:
        assert code == status
    else:
        assert code in (130, -signal.SIGINT)
    running.drain()
    assert wait_for_no_marked(running.token, within=10.0) == []
    if how != signal.SIGKILL:
        assert os.listdir(running.tmpdir) == [], "the sandbox's files were left behind"
        return
    # Nothing tidies up after SIGKILL but the watchdog (processes only): the folders stay
    # until the next sandbox starts, which removes those whose owner is gone.
    assert os.listdir(running.tmpdir) != []
    env = {**os.environ, "TMPDIR": running.tmpdir}
    subprocess.run(
        [sys.executable, "-c", "from tutor.sandbox import Sandbox; Sandbox(standins=False).close()"],
        env=env,
        cwd=REPO,
        check=True,
        timeout=60,
    )
    assert os.listdir(running.tmpdir) == [], "a new sandbox left the killed one's files behind"


def test_no_process_survives_a_crash(tutor) -> None:  # type: ignore[no-untyped-def]
    running = tutor(crash_hook=True)
    running.type("boom\n")
    code = running.process.wait(20)
    running.drain()
    assert code != 0
    assert "a bug in the view" in running.output
    assert wait_for_no_marked(running.token, within=10.0) == []
    assert os.listdir(running.tmpdir) == []


def test_quit_saves_nothing_for_the_sandbox_and_stops_everything(tutor) -> None:  # type: ignore[no-untyped-def]
    running = tutor()
    running.type("q\n")
    assert running.process.wait(20) == 0
    running.drain()
    assert wait_for_no_marked(running.token, within=10.0) == []
    assert os.listdir(running.tmpdir) == []
