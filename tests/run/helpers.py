"""Helpers for the run layer's tests: the process table, and stand-in commands."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.polling import poll

PY = sys.executable
MARK = "K8S_TUTOR_TEST_MARK"

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes through /proc")


def marked_processes(token: str) -> list[int]:
    """Live (non-zombie) processes whose environment carries `MARK=token`."""
    needle = f"{MARK}={token}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as environ:
                if needle not in environ.read().split(b"\0"):
                    continue
            with open(f"/proc/{name}/stat", "rb") as stat:
                data = stat.read()
        except OSError:
            continue
        if data[data.rfind(b")") + 2 : data.rfind(b")") + 3] not in (b"Z", b"X"):
            found.append(int(name))
    return found


def wait_for_marked(token: str, count: int, within: float = 5.0) -> list[int]:
    """Marked processes, once there are `count` of them (or `within` seconds have passed).

    A process being exec'd cannot have its environment read for a moment, so a tree
    that exists may briefly look one short.
    """
    return poll(lambda: marked_processes(token), lambda found: len(found) == count, within)


def wait_for_no_marked(token: str, within: float = 5.0) -> list[int]:
    """Marked processes still alive after `within` seconds (ideally none)."""
    return poll(lambda: marked_processes(token), lambda alive: not alive, within)


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def script(directory: Path, name: str, body: str) -> Path:
    """An executable shell script: a stand-in for minikube, kubectl or sudo."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path
