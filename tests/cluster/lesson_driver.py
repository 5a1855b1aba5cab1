"""Running a lesson's commands as a learner would, against a sandbox: for end-to-end tests.

Foreground commands run to completion; background ones (port-forward, tunnel) run in
their own process group and count as ready once a line of their output matches the
lesson's `ready` pattern. `LessonContext` is the check context the session would give
the engine: process states from these processes, memory in a dict, commands run with
the sandbox's environment.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from tests.polling import poll
from tutor.lesson.model import Command
from tutor.lesson.variables import substitute
from tutor.run import describe_holders


class Background:
    def __init__(self, command: Command, argv: Sequence[str], env: Mapping[str, str]) -> None:
        self.command = command
        self.ready_pattern = re.compile(command.ready) if command.ready else None
        self.lines: list[str] = []
        self.ready = self.ready_pattern is None
        self.process = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if self.ready_pattern and self.ready_pattern.search(line):
                self.ready = True

    def state(self) -> str:
        code = self.process.poll()
        if code is not None:
            return f"exited: status {code}: {self.lines[-1] if self.lines else 'no output'}"
        return "ready" if self.ready else "starting"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


class LessonContext:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.memory: dict[str, Any] = {}
        self.processes: dict[str, Background] = {}
        self.lock = threading.Lock()

    def process_state(self, process_id: str) -> str | None:
        with self.lock:
            process = self.processes.get(process_id)
        return process.state() if process else None

    def remember(self, key: str, value: Any) -> None:
        with self.lock:
            self.memory[key] = value

    def recall(self, key: str) -> Any | None:
        with self.lock:
            return self.memory.get(key)

    def run_command(self, argv: Sequence[str], timeout: float) -> tuple[int | None, str]:
        try:
            done = subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            return 127, f"{argv[0]}: command not found"
        except subprocess.TimeoutExpired:
            return None, ""
        return done.returncode, done.stdout + done.stderr

    def listener(self, port: int) -> str | None:
        return describe_holders(port)

    def run(self, command: Command, variables: Mapping[str, str]) -> None:
        """Run one of the lesson's commands (substituted); a foreground one must succeed."""
        argv = [substitute(part, variables) for part in command.argv]
        if command.background:
            assert command.id is not None
            process = Background(command, argv, self.env)
            with self.lock:
                self.processes[command.id] = process
            # As the tutor does: the commands after a background one run once it is ready.
            poll(process.state, lambda state: state != "starting", within=30)
            assert process.state() == "ready", f"{' '.join(argv)}: {process.state()} {process.lines}"
            return
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=command.timeout or 120)
        assert done.returncode in command.ok_exit, (
            f"{' '.join(argv)} exited {done.returncode}: {done.stdout}{done.stderr}"
        )

    def close(self) -> None:
        for process in self.processes.values():
            process.stop()
