"""`kubectl port-forward` against the sandbox, through the kubectl shim as a learner types it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.sandbox.standins import StandIns

try:
    from standins_helpers import (
        StoreHost,
        background,
        free_port,
        http,
        http_json,
        mongo_pod,
        pacman_pod,
        pacman_scene,
        run,
        write_kubeconfig,
    )
except ImportError:  # tests/ became a package
    from tests.sandbox.standins_helpers import (  # type: ignore[no-redef]
        StoreHost,
        background,
        free_port,
        http,
        http_json,
        mongo_pod,
        pacman_pod,
        pacman_scene,
        run,
        write_kubeconfig,
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[StoreHost, StandIns, dict[str, str]]]:
    host = StoreHost(tmp_path)
    pacman_scene(host.store)
    with StandIns(host, ingress_port=free_port(), existing_profile="mc-demo") as si:
        yield host, si, si.env()


def test_forwards_the_service_port_to_the_pods_target_port(
    cluster: tuple[StoreHost, StandIns, dict[str, str]],
) -> None:
    host, _, env = cluster
    port = free_port()
    with background(["kubectl", "port-forward", "svc/pacman", f"{port}:80", "-n", "pacman"], env) as pf:
        assert pf.read_line() == f"Forwarding from 127.0.0.1:{port} -> 8080"
        assert pf.read_line() == f"Forwarding from [::1]:{port} -> 8080"
        assert http_json(f"http://127.0.0.1:{port}/location/metadata")["host"] == "pacman-7469bbb6d7-00000"
        assert pf.read_line() == f"Handling connection for {port}"
        assert http(f"http://[::1]:{port}/")[0] == 200
        # Deleting the database does not touch the forward: it is pinned to the game's pod.
        host.store.delete("pods", "pacman", "mongo-0")
        assert http(f"http://127.0.0.1:{port}/highscores/list")[0] == 500
        mongo_pod(host.store)
        assert http(f"http://127.0.0.1:{port}/highscores/list")[0] == 200
        assert pf.proc.poll() is None
        # Deleting the pod it pinned ends it, as kubectl does.
        host.store.delete("pods", "pacman", "pacman-7469bbb6d7-00000")
        assert pf.wait() == 1
        assert "error: lost connection to pod" in pf.stderr()


def test_the_pod_is_pinned_even_when_the_service_gains_pods(
    cluster: tuple[StoreHost, StandIns, dict[str, str]],
) -> None:
    host, _, env = cluster
    port = free_port()
    with background(["kubectl", "-n", "pacman", "port-forward", "deploy/pacman", f"{port}:8080"], env) as pf:
        pf.read_until("Forwarding from [::1]")
        for i in range(1, 4):
            pacman_pod(host.store, f"pacman-7469bbb6d7-{i:05d}")
        hosts = {http_json(f"http://127.0.0.1:{port}/location/metadata")["host"] for _ in range(5)}
        assert hosts == {"pacman-7469bbb6d7-00000"}


def test_a_random_local_port_and_the_contexts_namespace(
    cluster: tuple[StoreHost, StandIns, dict[str, str]],
) -> None:
    host, _, env = cluster
    write_kubeconfig(host.kubeconfig, "mc-demo", namespace="pacman")
    with background(["kubectl", "port-forward", "pacman-7469bbb6d7-00000", ":8080"], env) as pf:
        line = pf.read_line()
        assert line.startswith("Forwarding from 127.0.0.1:")
        assert line.endswith(" -> 8080")
        port = int(line.split(":")[1].split(" ")[0])
        assert pf.read_line() == f"Forwarding from [::1]:{port} -> 8080"
        assert http(f"http://127.0.0.1:{port}/")[0] == 200
        assert pf.read_line() == f"Handling connection for {port}"


def test_bind_conflict_is_reported_like_kubectl(
    cluster: tuple[StoreHost, StandIns, dict[str, str]],
) -> None:
    _, _, env = cluster
    port = free_port()
    with socket.socket() as v4, socket.socket(socket.AF_INET6) as v6:
        v4.bind(("127.0.0.1", port))
        v4.listen()
        v6.bind(("::1", port))
        v6.listen()
        result = run(["kubectl", "port-forward", "svc/pacman", f"{port}:80", "-n", "pacman"], env)
    assert result.returncode == 1
    assert f"Unable to listen on port {port}: Listeners failed to create with the following errors:" in result.stderr
    assert f"Error listen tcp4 127.0.0.1:{port}: bind: address already in use" in result.stderr
    assert f"error: unable to listen on any of the requested ports: [{{{port} 8080}}]" in result.stderr


def test_one_address_in_use_still_forwards_on_the_other(
    cluster: tuple[StoreHost, StandIns, dict[str, str]],
) -> None:
    _, _, env = cluster
    port = free_port()
    with socket.socket(socket.AF_INET6) as v6:
        v6.bind(("::1", port))
        v6.listen()
        with background(["kubectl", "port-forward", "svc/pacman", f"{port}:80", "-n", "pacman"], env) as pf:
            assert pf.read_line() == f"Forwarding from 127.0.0.1:{port} -> 8080"
            assert http(f"http://127.0.0.1:{port}/")[0] == 200


def test_a_pod_without_a_stand_in_listens_and_fails_per_connection(
    cluster: tuple[StoreHost, StandIns, dict[str, str]],
) -> None:
    host, _, env = cluster
    pacman_pod(host.store, "web", image="nginx:1.27")
    port = free_port()
    with background(["kubectl", "port-forward", "pod/web", f"{port}:80", "-n", "pacman"], env) as pf:
        pf.read_until("Forwarding from [::1]")
        with pytest.raises(ConnectionError):
            http(f"http://127.0.0.1:{port}/")
        pf.read_until(f"Handling connection for {port}")
        pf.stop()
        assert f"an error occurred forwarding {port} -> 80" in pf.proc.stderr.read()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["svc/nope", "9090:80"], 'Error from server (NotFound): services "nope" not found'),
        (["svc/pacman", "9090:81"], "error: Service pacman does not have a service port 81"),
        (["svc/pacman"], "error: TYPE/NAME and list of ports are required for port-forward"),
        (["svc/pacman", "abc:80"], "error: Error parsing local port 'abc'"),
        (["svc/pacman", "9090:80", "--address", "0.0.0.0"], "loopback addresses only"),
        (
            ["pod/pacman-7469bbb6d7-00000", "9090:web"],
            "error: Pod 'pacman-7469bbb6d7-00000' does not have a named port 'web'",
        ),
    ],
)
def test_bad_requests_fail_with_kubectls_message(
    cluster: tuple[StoreHost, StandIns, dict[str, str]], args: list[str], message: str
) -> None:
    _, _, env = cluster
    result = run(["kubectl", "port-forward", *args, "-n", "pacman"], env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_pod_that_never_runs_times_out(
    cluster: tuple[StoreHost, StandIns, dict[str, str]],
) -> None:
    host, _, env = cluster
    host.store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "stuck", "namespace": "pacman"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Pending"},
        }
    )
    result = run(
        [
            "kubectl",
            "port-forward",
            "stuck",
            "9090:80",
            "-n",
            "pacman",
            "--pod-running-timeout=300ms",
        ],
        env,
    )
    assert result.returncode == 1
    assert "error: unable to forward port because pod is not running. Current status=Pending" in result.stderr


def test_other_commands_and_other_clusters_go_to_the_real_kubectl(
    tmp_path: Path, cluster: tuple[StoreHost, StandIns, dict[str, str]]
) -> None:
    _, _, env = cluster
    assert "Client Version" in run(["kubectl", "version", "--client"], env).stdout
    other = tmp_path / "other-kubeconfig"
    other.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: elsewhere\n"
        "contexts: [{name: elsewhere, context: {cluster: elsewhere, user: u}}]\n"
        "clusters: [{name: elsewhere, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: not-a-secret}}]\n"
    )
    result = run(
        [
            "kubectl",
            "port-forward",
            "svc/pacman",
            "9090:80",
            "--kubeconfig",
            str(other),
            "--request-timeout=2s",
        ],
        env,
    )
    assert result.returncode != 0
    assert "127.0.0.1:9" in result.stderr  # the real kubectl tried that cluster
