"""API servers that answer, but not as the cluster the kubeconfig promises; and one that stops answering.

Each is said once, as what it is, and never as "connected": a web page on the port, bytes
that are not HTTP, 401, 403 to everything. The odd servers are tiny loopback servers
started here, or the sandbox with a fault injected.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.conftest import Recorder, wait_until
from tutor.cli import main
from tutor.cluster import watcher
from tutor.cluster.checks import BasicContext, build_check
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import CheckEngine
from tutor.cluster.kubeconfig import Source


def kubeconfig_for(path: Path, server: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": "kind-odd",
                "clusters": [{"name": "kind-odd", "cluster": {"server": server}}],
                "contexts": [{"name": "kind-odd", "context": {"cluster": "kind-odd", "user": "u"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    return path


class WebPage(BaseHTTPRequestHandler):
    """A web server where the API server should be: HTML for every path."""

    status = 200

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><body>It works!</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


class NotFoundPage(WebPage):
    status = 404


@pytest.fixture
def web(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = request.param
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def garbage() -> Iterator[str]:
    """A port that answers every connection with bytes that are not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(4096)
                    conn.sendall(b"SSH-2.0-OpenSSH_9.6 garbage\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def watch(kubeconfig: Path) -> tuple[CheckEngine, ClusterConnection, Recorder]:
    recorder = Recorder()
    connection = ClusterConnection(Source.resolve(kubeconfig))
    engine = CheckEngine(connection, BasicContext(), on_result=recorder.on_result, on_status=recorder.on_status)
    engine.start()
    engine.set_active({"node": build_check("exists", {"object": "node/mc-demo"}, namespace="pacman")})
    return engine, connection, recorder


def rejected(recorder: Recorder) -> str:
    found = wait_until(
        lambda: next((s for s in list(recorder.statuses) if s.state == "rejected"), None),
        what="the rejected status",
    )
    return str(found.message)


@pytest.mark.parametrize(
    ("web", "said"),
    [(WebPage, "it answered an HTML page, not JSON"), (NotFoundPage, "it answered HTTP 404")],
    indirect=["web"],
)
def test_a_web_page_is_not_an_api_server(tmp_path: Path, web: str, said: str) -> None:
    engine, connection, recorder = watch(kubeconfig_for(tmp_path / "config", web))
    try:
        message = rejected(recorder)
        assert f"{web} is not a Kubernetes API server" in message and said in message
        assert recorder.last("node") is not None and recorder.status_of("node") != "pass"
    finally:
        engine.close()
        connection.close()
    assert "connected" not in recorder.states()


def test_bytes_that_are_not_http(tmp_path: Path, garbage: str) -> None:
    engine, connection, recorder = watch(kubeconfig_for(tmp_path / "config", garbage))
    try:
        assert "does not answer as an HTTP(S) API server does" in rejected(recorder)
    finally:
        engine.close()
        connection.close()
    assert "connected" not in recorder.states()


@pytest.mark.parametrize(("status", "said"), [(401, "does not accept the kubeconfig's credentials"), (403, "refuses")])
def test_401_and_403_to_everything_are_said_as_such(sandbox: Any, status: int, said: str) -> None:
    sandbox.faults.fail("*", ".*", status=status, times=None)
    engine, connection, recorder = watch(sandbox.kubeconfig)
    try:
        message = rejected(recorder)
        assert said in message and f"HTTP {status}" in message
        # Said once: the watch retries, the status does not change again.
        wait_until(lambda: sandbox.requests.count(path="/api/v1/nodes") >= 3, what="the retries")
        assert [s.state for s in recorder.statuses].count("rejected") == 1
    finally:
        engine.close()
        connection.close()
    assert "connected" not in recorder.states()


def test_403_on_one_kind_is_that_kinds_problem(sandbox: Any) -> None:
    sandbox.faults.fail("GET", "/api/v1/nodes", status=403, times=None)
    recorder = Recorder()
    connection = ClusterConnection(Source.resolve(sandbox.kubeconfig))
    engine = CheckEngine(connection, BasicContext(), on_result=recorder.on_result, on_status=recorder.on_status)
    engine.start()
    try:
        engine.set_active({"sc": build_check("default_storageclass", {"name": "standard"}, namespace="pacman")})
        wait_until(lambda: recorder.status_of("sc") == "pass", what="the storage class check")
        engine.set_active(
            {
                "sc": build_check("default_storageclass", {"name": "standard"}, namespace="pacman"),
                "node": build_check("exists", {"object": "node/mc-demo"}, namespace="pacman"),
            }
        )
        wait_until(lambda: "HTTP 403" in (getattr(recorder.last("node"), "reason", "") or ""), what="the 403")
        assert recorder.states()[-1] == "connected"
    finally:
        engine.close()
        connection.close()


def test_check_reports_a_rejecting_server_and_fails(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.faults.fail("*", ".*", status=401, times=None)
    code = main(["check", "day55", "--kubeconfig", str(sandbox.kubeconfig), "--step", "deploy", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["connection"]["state"] == "rejected"
    assert "HTTP 401" in report["connection"]["message"]


def test_a_server_that_stops_answering_is_said_within_the_liveness_budget(sandbox: Any) -> None:
    # Nothing else would notice: the open watch stays quiet, a frozen server keeps its sockets.
    assert watcher.HEARTBEAT_EVERY + watcher.HEARTBEAT_TIMEOUT <= 8.0
    engine, connection, recorder = watch(sandbox.kubeconfig)
    try:
        wait_until(lambda: recorder.status_of("node") == "pass", what="the node")
        sandbox.pause_requests()
        try:
            wait_until(lambda: recorder.states()[-1] == "reconnecting", timeout=30, what="the lost server")
        finally:
            sandbox.resume_requests()
        wait_until(lambda: recorder.states()[-1] == "connected", timeout=30, what="the server back")
    finally:
        engine.close()
        connection.close()
