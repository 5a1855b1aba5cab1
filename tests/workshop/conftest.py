"""Fixtures for the workshop's tests: a private data folder, and servers on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tutor.workshop.server.serve import ServerThread


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("K8S_TUTOR_DATA_DIR", str(data))
    monkeypatch.delenv("K8S_TUTOR_WORKSHOP_TOKEN", raising=False)
    return data


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerThread]]:
    """Start workshop servers (default database: tmp_path/workshop.sqlite3); all stop at teardown,
    and no server thread may be left behind."""
    started: list[ServerThread] = []

    def start(db: Path | None = None, port: int = 0) -> ServerThread:
        server = ServerThread(db or tmp_path / "workshop.sqlite3", port=port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    left = [t.name for t in threading.enumerate() if t.name == "k8s-tutor workshop server"]
    assert not left, f"workshop server threads left behind: {left}"


@pytest.fixture
def server(server_factory: Callable[..., ServerThread]) -> ServerThread:
    return server_factory()
