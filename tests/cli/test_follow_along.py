"""Plain follow-along: every day55 command typed in another shell, the tutor only watching.

The learner's side is played by this test, as a learner would: it reads the line that points
a shell at the sandbox and each step's commands from what the tutor prints, and runs them in
processes of its own (the port-forward and the tunnel too). `k8s-tutor day55 --sandbox
--plain`, with no keyboard, must follow along to the end.
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.cluster.conftest import wait_until
from tests.cluster.lesson_driver import Background
from tests.conftest import REPO, free_port
from tests.session.conftest import needs_kubectl
from tutor.lesson.model import Command
from tutor.lesson.parser import load
from tutor.lesson.place import Place

LESSON = load(REPO / "lessons" / "day55.md").for_place(Place.here(sandbox=True))
"""What `--sandbox` shows on this machine: commands only for a real cluster are not printed."""


class Tutor:
    """`k8s-tutor day55 --sandbox --plain` with no terminal, its lines read as they come."""

    def __init__(self, tmp: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor", "day55", "--sandbox", "--plain", "--set", f"local_port={free_port()}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
            env=dict(
                os.environ,
                K8S_TUTOR_STATE_DIR=str(tmp / "state"),
                K8S_TUTOR_SANDBOX_DELAYS="instant",
                TERM="dumb",
            ),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.completed = threading.Event()
        """It said the lesson is complete (read, or not yet): it then ends, and its sandbox with it."""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("Lesson day55 complete"):
                self.completed.set()
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, deadline: float) -> str:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "the tutor said nothing more in time:\n" + "\n".join(self.seen[-40:])
        try:
            line = self.lines.get(timeout=remaining)
        except queue.Empty:
            raise AssertionError("the tutor said nothing more in time:\n" + "\n".join(self.seen[-40:])) from None
        assert line is not None, "the tutor ended early:\n" + "\n".join(self.seen[-40:])
        self.seen.append(line)
        return line

    def until(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.next_line(deadline))
            if found:
                return found


class Learner:
    """A shell of the learner's own: the tutor's env.sh sourced, commands typed one by one."""

    def __init__(self, script: str) -> None:
        dump = subprocess.run(
            ["sh", "-c", f". {shlex.quote(script)} && env -0"], capture_output=True, check=True, timeout=30
        ).stdout
        self.env = dict(item.split("=", 1) for item in dump.decode().split("\0") if "=" in item)
        self.background: list[Background] = []

    def type(self, line: str, command: Command, *, tutor: Tutor) -> None:
        argv = shlex.split(line)
        if command.background:
            process = Background(command, argv, self.env)
            self.background.append(process)
            # As a learner does: wait until it says it is ready before the next command.
            state = wait_until(lambda: process.state() != "starting" and process.state(), 60, f"$ {line} to be ready")
            assert state == "ready", f"$ {line}: {state}"
            return
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0 and tutor.completed.wait(10):
            # The last step's checks passed before this look at the result: the lesson is over,
            # and the tutor ends its sandbox (the line may still be on its way through the pipe).
            return
        assert done.returncode == 0, f"$ {line}\n{done.stdout}{done.stderr}\n" + "\n".join(
            f"[{process.command.id}: {process.state()}] " + " | ".join(process.lines[-8:])
            for process in self.background
        )

    def close(self) -> None:
        for process in self.background:
            process.stop()


@needs_kubectl
def test_every_command_typed_in_another_shell_completes_the_lesson(tmp_path: Path) -> None:
    tutor = Tutor(tmp_path)
    learner: Learner | None = None
    try:
        script = tutor.until(r"^Your own terminal: source (\S+)$").group(1)
        learner = Learner(shlex.split(script)[0])
        for number, step in enumerate(LESSON.steps, 1):
            tutor.until(rf"^Step {number} of {len(LESSON.steps)}: ")
            for command in step.commands:
                typed = tutor.until(r"^    \$ (.*?)(   \((background|type this yourself)\))?$")
                learner.type(typed.group(1), command, tutor=tutor)
        tutor.until("^Lesson day55 complete: every step's checks pass.", timeout=120)
        assert tutor.process.wait(30) == 0
        log = "\n".join(tutor.seen)
        # The tutor ran nothing itself: every command was the learner's.
        assert "[run] $" not in log and "[start] $" not in log
        # The learner's own forward and tunnel were the lesson's app all along.
        assert "something else answers" not in log
    finally:
        if learner is not None:
            learner.close()
        if tutor.process.poll() is None:
            tutor.process.terminate()
            tutor.process.wait(20)
        tutor.reader.join(10)
        assert tutor.process.stdout is not None
        tutor.process.stdout.close()
