"""Fixtures for the run layer: executors with a private registry, and a marker that
finds every process a test started, through the process table, after the fact."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tutor.run import ShExecutor
from tutor.run.cleanup import GroupRegistry

from .helpers import MARK, kill_all, marked_processes


@pytest.fixture
def token() -> Iterator[str]:
    """A marker to put in a child's environment; whatever still carries it at the end
    of the test is killed, so a failing test does not leak processes into the next."""
    value = uuid.uuid4().hex
    yield value
    kill_all(marked_processes(value))


@pytest.fixture
def registry() -> Iterator[GroupRegistry]:
    reg = GroupRegistry()
    yield reg
    reg.terminate_all(grace=0.5)


@pytest.fixture
def executor(registry: GroupRegistry, token: str) -> Iterator[ShExecutor]:
    ex = ShExecutor(env={MARK: token}, grace=0.5, registry=registry)
    yield ex
    ex.close()
