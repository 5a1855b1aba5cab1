"""No process the tutor started survives it: checked in the process table after a host
program using the run layer is interrupted, terminated, hung up on, crashes, or exits
with a worker still blocked on a command."""

from __future__ import annotations

import os
import select
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tutor.run.cleanup import GroupRegistry
from tutor.run.errors import ShuttingDown

from .helpers import MARK, PY, needs_proc, wait_for_marked, wait_for_no_marked

pytestmark = needs_proc

HOST = Path(__file__).with_name("host_program.py")
StartHost = Callable[..., subprocess.Popen[str]]
CHILDREN = 6
"""Per host: two command trees of a shell and two sleeps each."""


@pytest.fixture
def start_host(token: str) -> Iterator[StartHost]:
    hosts: list[subprocess.Popen[str]] = []

    def start(mode: str, *flags: str) -> subprocess.Popen[str]:
        host = subprocess.Popen(
            [PY, str(HOST), mode, *flags],
            env={**os.environ, MARK: token},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        hosts.append(host)
        ready, _, _ = select.select([host.stdout], [], [], 20)
        assert ready, "the host program did not start"
        assert host.stdout is not None
        assert host.stdout.readline() == "host ready\n"
        return host

    yield start
    for host in hosts:
        if host.poll() is None:
            host.kill()
        host.communicate()


def children_of_host(token: str, count: int) -> int:
    """How many processes the host has started, once it is `count` (or after a while)."""
    return len(wait_for_marked(token, count + 1)) - 1  # the host carries the marker too


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_tutor_ends_every_child(start_host: StartHost, token: str, sig: int) -> None:
    host = start_host("wait")
    assert children_of_host(token, CHILDREN) == CHILDREN
    host.send_signal(sig)
    assert host.wait(10) == -sig, "dies of the same signal: the conventional status"
    assert wait_for_no_marked(token, within=2) == []


def test_a_crash_ends_every_child(start_host: StartHost, token: str) -> None:
    host = start_host("raise")
    _, stderr = host.communicate(timeout=10)
    assert host.returncode == 1
    assert "RuntimeError: host crashed" in stderr
    assert wait_for_no_marked(token, within=2) == []


def test_returning_with_a_worker_blocked_on_a_command_ends_it(start_host: StartHost, token: str) -> None:
    host = start_host("return")
    assert host.wait(10) == 0
    assert wait_for_no_marked(token, within=2) == []


def test_sigkill_cannot_clean_up_without_the_watchdog(start_host: StartHost, token: str) -> None:
    # The documented limit: no code runs in a SIGKILLed process. (The fixture then
    # kills what is left by its marker.)
    host = start_host("wait")
    host.kill()
    host.wait(10)
    assert len(wait_for_no_marked(token, within=1)) == CHILDREN


def test_sigkill_is_cleaned_up_by_the_watchdog(start_host: StartHost, token: str) -> None:
    host = start_host("wait", "--watchdog")
    assert children_of_host(token, CHILDREN + 1) == CHILDREN + 1  # and the guard itself
    host.kill()
    host.wait(10)
    assert wait_for_no_marked(token, within=5) == []


def test_the_watchdog_leaves_with_the_tutor(start_host: StartHost, token: str) -> None:
    host = start_host("return", "--watchdog")
    assert host.wait(10) == 0
    assert wait_for_no_marked(token, within=5) == []


def test_no_new_group_once_cleanup_has_begun() -> None:
    registry = GroupRegistry()
    assert registry.terminate_all(grace=0.1) == set()
    assert registry.closed
    assert registry.terminate_all(grace=0.1) == set()  # idempotent
    with pytest.raises(ShuttingDown), registry.spawning():
        pass
    assert registry.register(os.getpgrp(), "late") is False
