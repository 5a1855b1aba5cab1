"""Probing HTTP endpoints safely, and the polled checks in the engine."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.cluster import factory as f
from tests.cluster.conftest import Recorder
from tests.cluster.helpers import evaluate
from tests.polling import wait_until
from tutor.cluster import http_probe
from tutor.cluster.addons import ADDON_PARTS
from tutor.cluster.api_kinds import API_KINDS
from tutor.cluster.checks import BasicContext, Remembered, build_check
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import CheckEngine
from tutor.cluster.kubeconfig import Source
from tutor.lesson import resources, schema


class App:
    """A tiny HTTP server on 127.0.0.1 standing in for the game."""

    def __init__(self) -> None:
        self.scores: list[dict[str, Any]] = []
        self.status = 200
        self.hosts: list[str] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                app.hosts.append(self.headers.get("Host", ""))
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://10.0.0.1/")
                    self.end_headers()
                    return
                body = json.dumps(app.scores if self.path == "/highscores/list" else {"host": "pacman-1"}).encode()
                self.send_response(app.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app() -> Iterator[App]:
    server = App()
    yield server
    server.close()


class TestPolicy:
    def test_non_loopback_hosts_are_refused_without_a_request(self) -> None:
        for url in ("http://10.0.0.1/", "http://example.com/", "http://192.168.49.2/"):
            answer = http_probe.get(url)
            assert answer.refused_by_policy and answer.status is None
            assert "sends checks only to this machine" in (answer.error or "")

    def test_a_node_address_is_allowed_when_the_cluster_lists_it(self) -> None:
        assert http_probe.allowed("192.168.49.2", ["192.168.49.2"])
        assert not http_probe.allowed("192.168.49.3", ["192.168.49.2"])

    def test_localhost_proxy_environment_is_not_used(self, app: App, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("http_proxy", "http://10.9.9.9:3128")
        monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
        answer = http_probe.get(f"http://localhost:{app.port}/location/metadata", host_header="pacman.com")
        assert answer.status == 200 and app.hosts[-1] == "pacman.com"

    def test_redirects_are_not_followed(self, app: App) -> None:
        assert http_probe.get(app.url("/redirect")).status == 302

    def test_nothing_listening_is_a_clear_error(self) -> None:
        from tests.cluster.conftest import free_port

        answer = http_probe.get(f"http://127.0.0.1:{free_port()}/")
        assert answer.status is None and answer.error == "connection refused: nothing listens there"


class TestHttpCheck:
    def test_states(self, app: App) -> None:
        url = app.url("/location/metadata")
        assert evaluate("http", url=url, contains="host").passed
        assert evaluate("http", url=url, contains="zone").status == "fail"
        app.status = 503
        assert evaluate("http", url=url).status == "waiting"
        app.status = 404
        assert (
            evaluate("http", url=url, host="pacman.com").reason
            == f"{url} answered 404 with Host: pacman.com, expected 200"
        )

    def test_any_of_several_urls(self, app: App) -> None:
        from tests.cluster.conftest import free_port

        dead = f"http://127.0.0.1:{free_port()}/location/metadata"
        assert evaluate("http", urls=[dead, app.url("/location/metadata")], contains="host").passed
        result = evaluate("http", urls=[dead, "http://10.0.0.1/"])
        assert result.status == "fail" and "sends checks only to this machine" in result.reason

    def test_json_nonempty_and_remember(self, app: App) -> None:
        ctx = BasicContext()
        url = app.url("/highscores/list")
        empty = evaluate("http", ctx=ctx, url=url, json_nonempty=True, remember="scores")
        assert empty.status == "waiting" and "nothing saved yet" in empty.reason
        assert "scores" not in ctx.memory
        app.scores = [{"name": "k8s-tutor", "score": 2500}]
        items = [f.pod("mongo-0", uid="first-uid")]
        assert evaluate("http", items, ctx=ctx, url=url, json_nonempty=True, remember="scores").passed
        record = Remembered.from_json(ctx.memory["scores"])
        assert record is not None
        assert record.value == app.scores and record.pods == {"pacman": {"mongo-0": "first-uid"}}


class TestDataSurvives:
    def fields(self, app: App) -> dict[str, Any]:
        return {"url": app.url("/highscores/list"), "remembered": "scores", "replaced": "pod/mongo-0"}

    def remembered(self, app: App, uid: str = "first-uid") -> BasicContext:
        ctx = BasicContext()
        ctx.memory["scores"] = Remembered(
            [{"name": "k8s-tutor", "score": 2500}], 1.0e9, {"pacman": {"mongo-0": uid}}
        ).to_json()
        app.scores = [{"name": "k8s-tutor", "score": 2500}]
        return ctx

    def test_same_pod_is_waiting_with_the_command(self, app: App) -> None:
        result = evaluate(
            "data_survives", [f.pod("mongo-0", uid="first-uid")], ctx=self.remembered(app), **self.fields(app)
        )
        assert result.reason == "mongo-0 has not been replaced yet: delete it with kubectl delete pod mongo-0 -n pacman"

    def test_replaced_pod_and_data_kept_passes(self, app: App) -> None:
        result = evaluate(
            "data_survives", [f.pod("mongo-0", uid="second-uid")], ctx=self.remembered(app), **self.fields(app)
        )
        assert result.passed and result.evidence == ("mongo-0: uid first-uid -> second-uid",)

    def test_replaced_pod_not_ready_yet_waits(self, app: App) -> None:
        pod = f.pod("mongo-0", uid="second-uid", ready=False)
        assert (
            "was replaced and is not ready yet"
            in evaluate("data_survives", [pod], ctx=self.remembered(app), **self.fields(app)).reason
        )

    def test_lost_data_fails_naming_the_entry(self, app: App) -> None:
        ctx = self.remembered(app)
        app.scores = []
        result = evaluate("data_survives", [f.pod("mongo-0", uid="second-uid")], ctx=ctx, **self.fields(app))
        assert (result.status, result.reason) == ("fail", "1 remembered entry is gone: k8s-tutor 2500")

    def by_hand(self, pod_created: str, ready: bool = True) -> list[dict[str, Any]]:
        """mongo-0 and its claim, as left by a learner who typed the lesson without the tutor."""
        claim = f.pvc("mongo-data-mongo-0")
        claim["metadata"]["creationTimestamp"] = "2024-01-01T10:00:00Z"
        return [f.pod("mongo-0", claims=("mongo-data-mongo-0",), ready=ready, created=pod_created), claim]

    def test_without_a_record_a_pod_younger_than_its_claim_with_data_served_passes(self, app: App) -> None:
        app.scores = [{"name": "k8s-tutor", "score": 2500}]
        result = evaluate("data_survives", self.by_hand("2024-01-01T10:05:00Z"), **self.fields(app))
        assert result.passed, result.reason
        assert result.reason.startswith("mongo-0 was created 5 min after its claim, so it was replaced")
        assert "judged from the cluster" in result.reason

    def test_without_a_record_the_first_pod_is_not_a_replacement(self, app: App) -> None:
        app.scores = [{"name": "k8s-tutor", "score": 2500}]
        items = self.by_hand("2024-01-01T10:00:01Z")
        current = items[0]["metadata"]["uid"]
        # Its own events, and those of another pod, say nothing of an earlier mongo-0.
        items += [f.event("mongo-0", "Started", "Started container mongo", uid=current)]
        items += [f.event("mongo-1", "Killing", "Stopping container mongo", uid="another-uid")]
        result = evaluate("data_survives", items, **self.fields(app))
        assert result.status == "waiting"
        assert "nothing shows that mongo-0 was replaced: delete it with kubectl delete pod mongo-0" in result.reason

    def test_without_a_record_events_of_an_earlier_pod_show_a_quick_replacement(self, app: App) -> None:
        # Autoplay deletes mongo-0 seconds after its claim was made: its age alone cannot tell.
        app.scores = [{"name": "k8s-tutor", "score": 2500}]
        items = self.by_hand("2024-01-01T10:00:08Z")
        items.append(f.event("mongo-0", "Killing", "Stopping container mongo", uid="the-first-mongo-0"))
        result = evaluate("data_survives", items, **self.fields(app))
        assert result.passed, result.reason
        assert result.reason.startswith("the events name an earlier mongo-0 (uid the-first-mongo-0, now ")
        assert "judged from the cluster" in result.reason

    def test_without_a_record_an_empty_list_is_not_survival(self, app: App) -> None:
        app.scores = []
        result = evaluate("data_survives", self.by_hand("2024-01-01T10:05:00Z"), **self.fields(app))
        assert result.status == "waiting" and "serves nothing" in result.reason

    def test_nothing_remembered_yet(self, app: App) -> None:
        assert (
            "nothing is remembered as scores yet"
            in evaluate("data_survives", [f.pod("mongo-0")], **self.fields(app)).reason
        )


def test_polled_checks_in_the_engine(sandbox: Any, app: App) -> None:
    rec = Recorder()
    ctx = BasicContext()
    connection = ClusterConnection(Source.resolve(sandbox.kubeconfig))
    engine = CheckEngine(connection, ctx, on_result=rec.on_result)
    engine.start()
    try:
        app.status = 503
        engine.set_active(
            {
                "web": build_check(
                    "http", {"url": app.url("/location/metadata"), "contains": "host"}, namespace="pacman"
                ),
                "proc": build_check("process_alive", {"process": "pacman-forward"}, namespace="pacman"),
            }
        )
        wait_until(lambda: rec.status_of("web") == "waiting" and rec.status_of("proc") == "waiting")
        app.status = 200
        wait_until(lambda: rec.status_of("web") == "pass", what="the next probe")
        ctx.processes["pacman-forward"] = "ready"
        engine.refresh("proc")
        wait_until(lambda: rec.status_of("proc") == "pass")
        ctx.processes["pacman-forward"] = "exited: lost connection to pod"
        engine.refresh()
        wait_until(lambda: rec.status_of("proc") == "fail")
        assert rec.threads == {"k8s-tutor checks"}
    finally:
        assert engine.close() == []
        connection.close()


def test_node_ip_comes_from_the_node(sandbox: Any) -> None:
    connection = ClusterConnection(Source.resolve(sandbox.kubeconfig))
    connection.open()
    assert connection.node_ip("mc-demo") == "127.0.0.1"
    connection.close()


def test_every_lesson_kind_can_be_watched() -> None:
    assert set(API_KINDS) == {kind.name for kind in resources.KINDS}


def test_every_known_addon_has_its_parts() -> None:
    assert set(ADDON_PARTS) == set(schema.KNOWN_ADDONS)
