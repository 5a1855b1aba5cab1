"""The session kubeconfig: the one context the session decided on, private, and nothing else."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import Source
from tutor.cluster.pin import NO_CONTEXT, SessionKubeconfig


def learner_kubeconfig(path: Path, server: str = "https://localhost:6443") -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": "prod",
                "clusters": [
                    {"name": "kind-dev", "cluster": {"server": server, "certificate-authority-data": "Q0E="}},
                    {"name": "prod", "cluster": {"server": "https://10.0.0.1:6443"}},
                ],
                "contexts": [
                    {"name": "kind-dev", "context": {"cluster": "kind-dev", "user": "dev", "namespace": "pacman"}},
                    {"name": "prod", "context": {"cluster": "prod", "user": "admin"}},
                ],
                "users": [{"name": "dev", "user": {"token": "dev-token"}}, {"name": "admin", "user": {"token": "x"}}],
            }
        )
    )
    return path


def test_it_holds_only_the_sessions_context_privately(tmp_path: Path) -> None:
    connection = ClusterConnection(Source.resolve(learner_kubeconfig(tmp_path / "config"), "kind-dev"), pin=True)
    try:
        assert connection.open().state == "connecting"
        pin = connection.pin
        assert pin is not None
        data = yaml.safe_load(pin.path.read_text())
        assert data["current-context"] == "kind-dev"
        assert [c["name"] for c in data["contexts"]] == ["kind-dev"]
        assert [c["name"] for c in data["clusters"]] == ["kind-dev"]
        assert [u["name"] for u in data["users"]] == ["dev"]
        assert "x" not in str(data["users"])  # production's credentials are not copied
        assert data["contexts"][0]["context"]["namespace"] == "pacman"
        # localhost is connected to as 127.0.0.1, the name kept for TLS.
        assert data["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
        assert data["clusters"][0]["cluster"]["tls-server-name"] == "localhost"
        # The tutor's own client connects to the same address.
        client = connection.client()
        assert client.configuration.host == "https://127.0.0.1:6443"
        assert client.configuration.tls_server_name == "localhost"
        assert stat.S_IMODE(pin.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(pin.folder.stat().st_mode) == 0o700
        folder = pin.folder
    finally:
        connection.close()
    assert not folder.exists()


def test_without_a_usable_context_kubectl_finds_none(tmp_path: Path) -> None:
    connection = ClusterConnection(Source.resolve(learner_kubeconfig(tmp_path / "config"), "missing"), pin=True)
    try:
        assert connection.open().state == "no_cluster"
        assert connection.pin is not None
        data = yaml.safe_load(connection.pin.path.read_text())
        assert data["contexts"] == [] and data["current-context"] == NO_CONTEXT
    finally:
        connection.close()


def test_folders_of_ended_sessions_are_removed_by_the_next(tmp_path: Path) -> None:
    dead = tmp_path / "k8s-tutor-session-999999999-abc"
    dead.mkdir()
    (dead / "kubeconfig").write_text("secret")
    alive = tmp_path / f"k8s-tutor-session-{os.getppid()}-abc"
    alive.mkdir()
    pin = SessionKubeconfig(tmp_path)
    try:
        assert not dead.exists() and alive.exists()
    finally:
        pin.close()
