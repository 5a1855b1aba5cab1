"""`served_by`: a program that imitates the game on the port does not pass the lesson's checks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import factory as f
from tests.cluster.helpers import evaluate
from tests.conftest import REPO
from tests.impostor import Impostor
from tests.lesson.helpers import MINIMAL, write_lesson
from tutor.cluster.checks import BasicContext, CheckError, Remembered, build_check
from tutor.cluster.view import StaticView
from tutor.lesson.parser import load, parse_file
from tutor.run import describe_holders

PACMAN = {"kind": "deployment", "name": "pacman"}


@pytest.fixture
def impostor() -> Iterator[Impostor]:
    server = Impostor("pacman-7469bbb6d7-dg9cb")
    yield server
    server.close()


def owner(kind: str, name: str, uid: str) -> list[dict[str, Any]]:
    return [{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": True}]


def cluster(namespace: str = "pacman", *, pod_phase: str = "Running") -> list[dict[str, Any]]:
    """The lesson's app as the cluster shows it: Deployment -> ReplicaSet -> pod, and mongo-0."""
    deployment = f.deployment("pacman", namespace)
    deployment["metadata"]["uid"] = "deploy-uid"
    replicaset = f.obj(
        "apps/v1",
        "ReplicaSet",
        "pacman-7469bbb6d7",
        namespace,
        metadata={"uid": "rs-uid", "ownerReferences": owner("Deployment", "pacman", "deploy-uid")},
    )
    statefulset = f.statefulset("mongo", namespace)
    statefulset["metadata"]["uid"] = "sts-uid"
    return [
        deployment,
        replicaset,
        statefulset,
        f.pod(
            "pacman-7469bbb6d7-dg9cb",
            namespace,
            phase=pod_phase,
            ready=pod_phase == "Running",
            ownerReferences=owner("ReplicaSet", "pacman-7469bbb6d7", "rs-uid"),
        ),
        f.pod("mongo-0", namespace, ownerReferences=owner("StatefulSet", "mongo", "sts-uid")),
    ]


def where(impostor: Impostor) -> str:
    return f"something else answers on 127.0.0.1:{impostor.port}"


class TestTheGamesOwnAnswer:
    def test_a_pod_of_the_deployment_passes(self, impostor: Impostor) -> None:
        result = evaluate("http", cluster(), url=impostor.url("/location/metadata"), served_by=PACMAN)
        assert result.passed, result.reason

    def test_a_pod_not_running_yet_waits(self, impostor: Impostor) -> None:
        result = evaluate(
            "http", cluster(pod_phase="Pending"), url=impostor.url("/location/metadata"), served_by=PACMAN
        )
        assert result.status == "waiting"
        assert "names pod pacman-7469bbb6d7-dg9cb, which the cluster does not show running yet" in result.reason

    def test_any_pod_of_the_deployment_counts(self, impostor: Impostor) -> None:
        items = cluster()
        second = f.pod("pacman-7469bbb6d7-x2x2x", ownerReferences=owner("ReplicaSet", "pacman-7469bbb6d7", "rs-uid"))
        impostor.pod = "pacman-7469bbb6d7-x2x2x"
        assert evaluate("http", [*items, second], url=impostor.url("/location/metadata"), served_by=PACMAN).passed


class LaggingView(StaticView):
    """A watch behind the server: the server has `fresh` already, the watch `cached` only."""

    def __init__(self, cached: list[dict[str, Any]], fresh: list[dict[str, Any]]) -> None:
        super().__init__(cached)
        self.server = StaticView(fresh)
        self.asked: list[tuple[str, str | None, str]] = []

    def read_now(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        self.asked.append((kind, namespace, name))
        return self.server.read_now(kind, namespace, name)


class TestAWatchBehindTheServer:
    def test_a_pod_created_a_moment_ago_waits_for_the_watch(self, impostor: Impostor) -> None:
        # Scaled up: the game answers from a new pod before the pod's watch event arrives.
        new = f.pod("pacman-7469bbb6d7-n3w3r", ownerReferences=owner("ReplicaSet", "pacman-7469bbb6d7", "rs-uid"))
        impostor.pod = "pacman-7469bbb6d7-n3w3r"
        view = LaggingView(cluster(), [*cluster(), new])
        check = build_check(
            "http", {"url": impostor.url("/location/metadata"), "served_by": PACMAN}, namespace="pacman"
        )
        result = check.evaluate(view, BasicContext())
        assert result.status == "waiting", result.reason
        assert "names pod pacman-7469bbb6d7-n3w3r, which the cluster's watch has not shown yet" in result.reason
        assert "something else" not in result.reason
        assert view.asked == [("pod", "pacman", "pacman-7469bbb6d7-n3w3r")]
        # Once the watch brings it, the game passes.
        assert check.evaluate(StaticView([*cluster(), new]), BasicContext()).passed

    def test_a_pod_the_server_does_not_have_either_is_a_stranger(self, impostor: Impostor) -> None:
        impostor.pod = "pacman-fake-12345"
        view = LaggingView(cluster(), cluster())
        check = build_check(
            "http", {"url": impostor.url("/location/metadata"), "served_by": PACMAN}, namespace="pacman"
        )
        result = check.evaluate(view, BasicContext())
        assert result.status == "fail"
        assert "it names pod pacman-fake-12345, which does not exist in namespace pacman" in result.reason
        assert view.asked == [("pod", "pacman", "pacman-fake-12345")]


class TestAStrangerOnThePort:
    def test_a_pod_that_does_not_exist_fails_with_the_program_that_listens(self, impostor: Impostor) -> None:
        impostor.pod = "pacman-fake-12345"
        ctx = BasicContext(listeners=describe_holders)
        result = evaluate("http", cluster(), ctx=ctx, url=impostor.url("/location/metadata"), served_by=PACMAN)
        assert result.status == "fail"
        assert result.reason == (
            f"{where(impostor)}: it names pod pacman-fake-12345, which does not exist in namespace pacman"
        )
        evidence = "\n".join(result.evidence)
        assert '"host": "pacman-fake-12345"' in evidence
        assert "pods of deployment/pacman in namespace pacman: pacman-7469bbb6d7-dg9cb (Running)" in evidence
        # This test is the program listening there.
        holder = next(line for line in result.evidence if line.startswith("the program listening there: "))
        assert f"(pid {os.getpid()})" in holder

    def test_a_pod_of_another_namespace_does_not_count(self, impostor: Impostor) -> None:
        # The page names a real pod, of a Pac-Man that runs in another namespace.
        result = evaluate(
            "http", cluster("default"), url=impostor.url("/location/metadata"), served_by=PACMAN, namespace="pacman"
        )
        assert result.status == "fail"
        assert "which does not exist in namespace pacman" in result.reason
        assert "deployment/pacman does not exist in namespace pacman" in result.evidence

    def test_a_pod_of_another_workload_does_not_count(self, impostor: Impostor) -> None:
        impostor.pod = "mongo-0"
        result = evaluate("http", cluster(), url=impostor.url("/location/metadata"), served_by=PACMAN)
        assert result.status == "fail"
        assert result.reason == (
            f"{where(impostor)}: it names pod mongo-0, which is not a pod of deployment/pacman "
            "(it belongs to statefulset/mongo)"
        )

    def test_a_pod_left_from_an_earlier_deployment_does_not_count(self, impostor: Impostor) -> None:
        items = cluster()
        items[0]["metadata"]["uid"] = "a-newer-deployment"
        result = evaluate("http", items, url=impostor.url("/location/metadata"), served_by=PACMAN)
        assert result.status == "fail" and "deployment/pacman is gone" in result.reason

    def test_a_pod_without_owner_does_not_count(self, impostor: Impostor) -> None:
        impostor.pod = "lonely"
        result = evaluate(
            "http", [*cluster(), f.pod("lonely")], url=impostor.url("/location/metadata"), served_by=PACMAN
        )
        assert result.status == "fail" and result.reason.endswith("(it has no owner)")

    def test_an_answer_that_names_no_pod(self, impostor: Impostor) -> None:
        result = evaluate("http", cluster(), url=impostor.url("/highscores/list"), served_by=PACMAN)
        assert result.status == "fail"
        assert result.reason == (
            f"{where(impostor)}: its answer names no pod (no 'host' in {impostor.url('/highscores/list')}'s JSON)"
        )

    def test_another_page_is_not_the_game(self, impostor: Impostor) -> None:
        result = evaluate("http", cluster(), url=impostor.url("/"), served_by=PACMAN)
        assert result.status == "fail" and "answered 404, where the lesson's app names its pod" in result.reason
        # What a stranger wrote reaches the learner's screen without its escape sequences.
        assert not any("\x1b" in line or "\x07" in line for line in result.evidence)

    def test_the_pod_is_asked_at_another_path_of_the_same_address(self, impostor: Impostor) -> None:
        fields = {
            "url": impostor.url("/highscores/list"),
            "json_nonempty": True,
            "served_by": {**PACMAN, "path": "/location/metadata"},
        }
        assert evaluate("http", cluster(), **fields).passed
        impostor.pod = "pacman-fake-12345"
        result = evaluate("http", cluster(), **fields)
        assert result.status == "fail" and result.reason.startswith(where(impostor))

    def test_the_host_header_is_named(self, impostor: Impostor) -> None:
        impostor.pod = "ghost"
        result = evaluate(
            "http", cluster(), url=impostor.url("/location/metadata"), host="pacman.com", served_by=PACMAN
        )
        assert result.reason.startswith(f"something else answers on 127.0.0.1:{impostor.port} (Host: pacman.com)")

    def test_remembered_data_from_a_stranger_is_not_survival(self, impostor: Impostor) -> None:
        ctx = BasicContext()
        ctx.memory["scores"] = Remembered(impostor.scores, 1.0e9, {"pacman": {"mongo-0": "old-uid"}}).to_json()
        fields = {
            "url": impostor.url("/highscores/list"),
            "remembered": "scores",
            "replaced": "pod/mongo-0",
            "served_by": {**PACMAN, "path": "/location/metadata"},
        }
        assert evaluate("data_survives", cluster(), ctx=ctx, **fields).passed
        impostor.pod = "pacman-fake-12345"
        result = evaluate("data_survives", cluster(), ctx=ctx, **fields)
        assert result.status == "fail" and result.reason.startswith(where(impostor))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("deployment/pacman", "must be a mapping such as {kind: deployment, name: pacman}, not str"),
        ({"kind": "deployment"}, "needs 'name'"),
        ({"kind": "pod", "name": "x"}, "kind must be one of deployment, statefulset, daemonset, replicaset"),
        ({"kind": "deployment", "name": "Pac Man"}, "name 'Pac Man' is not a Kubernetes object name"),
        ({**PACMAN, "path": "location"}, "path must be a path on the same address"),
        ({**PACMAN, "field": "a..b"}, "field cannot read field path"),
        ({**PACMAN, "port": 80}, "has no key 'port'; its keys: kind, name, path, field"),
    ],
)
def test_a_bad_served_by_is_refused(value: Any, message: str) -> None:
    with pytest.raises(CheckError, match="served_by") as refused:
        build_check("http", {"url": "http://127.0.0.1:1/", "served_by": value}, namespace="pacman")
    assert message in str(refused.value)


def test_lint_reports_a_bad_served_by_on_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "kind: exists\n  object: deployment/web",
        "kind: http\n  url: http://127.0.0.1:{port}/\n  served_by: {kind: service, name: web}",
    )
    _, problems = parse_file(write_lesson(tmp_path, text))
    assert [(p.line, p.message) for p in problems if p.severity == "error"] == [
        (
            24,
            "check 'http', field 'served_by': kind must be one of deployment, statefulset, daemonset, "
            "replicaset, not 'service'",
        )
    ]


@pytest.mark.parametrize("step", ["port-forward", "high-score", "tunnel"])
def test_day55s_own_checks_see_through_an_impostor(impostor: Impostor, step: str) -> None:
    lesson = load(REPO / "lessons" / "day55.md")
    port = str(impostor.port)
    variables = lesson.defaults(local_port=port, ingress_port=port, node_ip="127.0.0.1")
    checks = [build_check(spec.kind, spec.resolved(variables), namespace="pacman") for spec in lesson.step(step).checks]
    results = [check.evaluate(StaticView(cluster()), BasicContext()) for check in checks]
    assert [result.status for result in results] == ["pass"] * len(checks), results
    impostor.pod = "pacman-fake-12345"
    results = [check.evaluate(StaticView(cluster()), BasicContext()) for check in checks]
    assert all(result.status == "fail" for result in results), results
    assert all(f"something else answers on 127.0.0.1:{port}" in result.reason for result in results)
