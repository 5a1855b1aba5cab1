"""`read_now`: an object as the API server has it now, past the watches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import factory as f
from tutor.cluster import objects
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import Source


@pytest.fixture
def connection(sandbox: Any) -> Iterator[ClusterConnection]:
    conn = ClusterConnection(Source.resolve(sandbox.kubeconfig))
    conn.open()
    yield conn
    conn.close()


def test_a_pod_written_a_moment_ago_is_there(sandbox: Any, connection: ClusterConnection) -> None:
    sandbox.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pacman"}})
    sandbox.store.create(f.pod("pacman-7469bbb6d7-n3w3r"))  # straight into the store: no watch has seen it
    found = connection.read_now("pod", "pacman", "pacman-7469bbb6d7-n3w3r")
    assert found is not None and objects.name(found) == "pacman-7469bbb6d7-n3w3r"
    # Only that name: not a pod whose name starts the same, nor one of another namespace.
    assert connection.read_now("pod", "pacman", "pacman-7469bbb6d7") is None
    assert connection.read_now("pod", "default", "pacman-7469bbb6d7-n3w3r") is None


def test_a_cluster_wide_kind(connection: ClusterConnection) -> None:
    found = connection.read_now("node", None, "mc-demo")
    assert found is not None and objects.name(found) == "mc-demo"
    assert connection.read_now("node", None, "elsewhere") is None


def test_a_server_that_cannot_answer_is_not_a_yes(sandbox: Any, connection: ClusterConnection) -> None:
    sandbox.stop_listening()  # connection refused, as with a crashed API server
    assert connection.read_now("node", None, "mc-demo") is None
