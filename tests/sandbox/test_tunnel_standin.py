"""`minikube tunnel` and the ingress controller stand-in: the Ingress on 127.0.0.1, by its rules."""

from __future__ import annotations

import json
import signal
import urllib.error
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tutor.sandbox import Sandbox
from tutor.sandbox.ingress_router import route
from tutor.sandbox.standins import StandIns

try:
    from sandbox_helpers import MANIFESTS
    from standins_helpers import background, free_port, http, run, wait_until
except ImportError:  # tests/ became a package
    from tests.sandbox.sandbox_helpers import MANIFESTS  # type: ignore[no-redef]
    from tests.sandbox.standins_helpers import (
        background,
        free_port,
        http,
        run,
        wait_until,
    )  # type: ignore[no-redef]

Cluster = tuple[Sandbox, StandIns, dict[str, str]]


def lb_ip(env: dict[str, str]) -> Any:
    svc = json.loads(run(["kubectl", "get", "svc", "pacman", "-n", "pacman", "-o", "json"], env).stdout)
    return (svc["status"].get("loadBalancer") or {}).get("ingress")


@pytest.fixture
def game(sandbox_factory: Callable[..., Sandbox]) -> Iterator[Cluster]:
    """The game deployed, the ingress addon on and the lesson's Ingress created."""
    sb = sandbox_factory()
    with StandIns(sb, ingress_port=free_port()) as si:
        env = si.env()
        for argv in (
            ["kubectl", "create", "-f", str(MANIFESTS / "pacman-stateful.yaml")],
            ["minikube", "-p", "mc-demo", "addons", "enable", "ingress"],
            ["kubectl", "create", "-f", str(MANIFESTS / "pacman-ingress.yaml")],
            [
                "kubectl",
                "wait",
                "--for=condition=Ready",
                "pod",
                "-l",
                "name=pacman",
                "-n",
                "pacman",
                "--timeout=30s",
            ],
        ):
            result = run(argv, env)
            assert result.returncode == 0, result.stdout + result.stderr
        yield sb, si, env


def test_the_tunnel_serves_the_ingress_by_host(game: Cluster) -> None:
    _, si, env = game
    port = si.ingress_port
    assert lb_ip(env) is None  # EXTERNAL-IP <pending> without a tunnel
    with background(["minikube", "tunnel", "-p", "mc-demo"], env) as tunnel:
        assert tunnel.read_until("Tunnel successfully started").endswith("Tunnel successfully started")
        tunnel.read_until("NOTE: Please do not close this terminal as this process must stay alive")
        assert f"127.0.0.1:{port}" in tunnel.read_until("the Ingress is served on")
        tunnel.read_until("Starting tunnel for service pacman-ingress.")
        url = f"http://127.0.0.1:{port}/location/metadata"
        answer = json.loads(http(url, headers={"Host": "pacman.com"})[1])
        assert answer["host"].startswith("pacman-")
        status, page = http(url)  # no Host header: nginx's default backend
        assert status == 404
        assert "<center>nginx</center>" in page
        assert http(url, headers={"Host": "pacman.com:80"})[0] == 200
        assert http(url, headers={"Host": "other.example"})[0] == 404
        wait_until(lambda: lb_ip(env) == [{"ip": "127.0.0.1"}], what="the LoadBalancer address")
        assert tunnel.stop(signal.SIGINT) == 0
        assert any("Stopping tunnel for service pacman-ingress." in line for line in tunnel.rest())
    wait_until(lambda: lb_ip(env) is None, what="the LoadBalancer address to be cleared")
    with pytest.raises(urllib.error.URLError):
        http(f"http://127.0.0.1:{port}/", headers={"Host": "pacman.com"})


def test_only_one_tunnel_per_profile(game: Cluster) -> None:
    _, _, env = game
    with background(["minikube", "tunnel", "-p", "mc-demo"], env) as first:
        first.read_until("Tunnel successfully started")
        second = run(["minikube", "tunnel", "-p", "mc-demo"], env)
        assert second.returncode != 0
        assert (
            "Another tunnel process is already running, terminate the existing instance to start "
            "a new one" in second.stderr
        )
        first.stop(signal.SIGTERM)
    with background(["minikube", "tunnel", "-p", "mc-demo"], env) as third:
        third.read_until("Tunnel successfully started")


def test_without_a_running_controller_the_port_refuses(game: Cluster) -> None:
    _sb, si, env = game
    with background(["minikube", "tunnel", "-p", "mc-demo"], env) as tunnel:
        tunnel.read_until("Starting tunnel for service pacman-ingress.")
        assert (
            run(
                [
                    "kubectl",
                    "scale",
                    "deployment",
                    "ingress-nginx-controller",
                    "-n",
                    "ingress-nginx",
                    "--replicas=0",
                ],
                env,
            ).returncode
            == 0
        )
        wait_until(lambda: not si.router.up, what="the controller to stop")
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            http(f"http://127.0.0.1:{si.ingress_port}/", headers={"Host": "pacman.com"})


def test_a_tunnel_from_a_stopped_sandbox_fails_plainly(game: Cluster) -> None:
    _, si, env = game
    with background(["minikube", "tunnel", "-p", "mc-demo"], env) as tunnel:
        tunnel.read_until("Tunnel successfully started")
        si.close()
        assert tunnel.wait() != 0
        assert "the tunnel ends with it" in tunnel.stderr()


def _ingress(name: str, rules: list[dict[str, Any]], default: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"rules": rules}
    if default:
        spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": spec}


def _rule(host: str | None, *paths: tuple[str, str, str]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": p,
                    "pathType": t,
                    "backend": {"service": {"name": svc, "port": {"number": 80}}},
                }
                for p, t, svc in paths
            ]
        }
    }
    if host:
        rule["host"] = host
    return rule


@pytest.mark.parametrize(
    ("host", "path", "service"),
    [
        ("pacman.com", "/", "game"),
        ("pacman.com", "/highscores/list", "scores"),
        ("pacman.com", "/highscores", "scores"),
        ("pacman.com", "/highscoresX", "game"),  # Prefix matches whole path elements
        ("pacman.com", "/exact", "exact"),
        ("pacman.com", "/exact/more", "game"),
        ("PACMAN.COM", "/", "game"),
        ("a.wild.io", "/", "wild"),
        ("a.b.wild.io", "/", "fallback"),  # a wildcard covers one label only
        ("127.0.0.1", "/", "fallback"),
    ],
)
def test_routing_follows_ingress_nginx(host: str, path: str, service: str) -> None:
    ingresses = [
        _ingress(
            "a",
            [
                _rule(
                    "pacman.com",
                    ("/", "Prefix", "game"),
                    ("/highscores", "Prefix", "scores"),
                    ("/exact", "Exact", "exact"),
                ),
                _rule("*.wild.io", ("/", "Prefix", "wild")),
            ],
        ),
        _ingress("b", [_rule(None, ("/", "Prefix", "fallback"))]),
    ]
    chosen = route(ingresses, host, path)
    assert chosen is not None
    assert chosen.service == service


def test_routing_without_a_match_uses_the_default_backend_or_404() -> None:
    only_host = [_ingress("a", [_rule("pacman.com", ("/", "Prefix", "game"))])]
    assert route(only_host, "127.0.0.1", "/") is None
    with_default = [*only_host, _ingress("d", [], default="catch-all")]
    chosen = route(with_default, "127.0.0.1", "/")
    assert chosen is not None
    assert chosen.service == "catch-all"
