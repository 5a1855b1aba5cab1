"""day55 as each learner meets it: what it runs and says on the sandbox and on a real cluster,
per platform, and the questions it asks."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tutor.lesson.model import Lesson
from tutor.lesson.parser import load
from tutor.lesson.place import PLATFORMS, Place
from tutor.lesson.questions import solution


@pytest.fixture(scope="module")
def day55() -> Lesson:
    return load(REPO / "lessons" / "day55.md")


def test_day55_on_the_sandbox_runs_nothing_the_sandbox_cannot(day55: Lesson) -> None:
    for platform in PLATFORMS:
        sandbox = day55.for_place(Place("sandbox", platform))
        argvs = [command.argv for step in sandbox.steps for command in step.commands]
        assert not any(argv[:2] == ("kubectl", "run") for argv in argvs)  # no containers, no DNS
        assert not any("ssh" in argv for argv in argvs)  # no node to log in to
    real = day55.for_place(Place("real", "linux"))
    assert any("ssh" in command.argv for command in real.step("volumes").commands)


def test_day55_on_a_real_cluster_looks_the_pod_up_in_dns(day55: Lesson) -> None:
    real = day55.for_place(Place("real", "linux"))
    lookup = next(c for c in real.step("deploy").commands if c.argv[:2] == ("kubectl", "run"))
    assert lookup.argv[-2:] == ("nslookup", "mongo-0.mongo.{namespace}.svc.cluster.local")
    assert "--rm" in lookup.argv
    sandbox = day55.for_place(Place("sandbox", "linux")).step("deploy")
    assert sandbox.commands[-1].argv[:4] == ("kubectl", "get", "endpoints", "mongo")


def test_day55_tells_the_sandbox_learner_that_no_game_runs(day55: Lesson) -> None:
    sandbox = day55.for_place(Place("sandbox", "linux")).step("port-forward").prose
    real = day55.for_place(Place("real", "linux")).step("port-forward").prose
    assert "no game to play" in sandbox and "form that saves a score" in sandbox
    assert "no game to play" not in real


def test_day55_tells_each_platform_its_own_tunnel_story(day55: Lesson) -> None:
    def tunnel(backend: str, platform: str) -> str:
        return day55.for_place(Place(backend, platform)).step("tunnel").prose  # type: ignore[arg-type]

    assert "{ingress_port}" in tunnel("sandbox", "linux") and "no password" in tunnel("sandbox", "linux")
    assert "sudo" not in tunnel("sandbox", "wsl2")
    assert "routing table" in tunnel("real", "linux") and "127.0.0.1" not in tunnel("real", "linux")
    for platform in ("macos", "wsl2"):
        assert "sudo" in tunnel("real", platform) and "127.0.0.1" in tunnel("real", platform)
    assert "no password" in tunnel("real", "windows")
    assert "C:\\Windows\\System32\\drivers\\etc\\hosts" in tunnel("real", "wsl2")
    # On Linux the tunnel does not serve 127.0.0.1: no command asks there.
    linux = day55.for_place(Place("real", "linux")).step("tunnel")
    assert not any("127.0.0.1" in arg for command in linux.commands[1:] for arg in command.argv)


def test_day55_lists_the_scores_again_once_mongo_0_is_back(day55: Lesson) -> None:
    step = day55.step("mongo-restart")
    argv = [command.argv for command in step.commands]
    delete = argv.index(("kubectl", "delete", "pod", "mongo-0", "-n", "{namespace}"))
    listing = next(i for i, a in enumerate(argv) if a[0] == "curl" and a[-1].endswith("/highscores/list"))
    assert listing > delete
    # It waits for the game to answer again rather than print the error of the gap.
    assert {"--retry", "--retry-all-errors", "--fail"} <= set(argv[listing])


def test_day55_asks_about_what_it_teaches(day55: Lesson) -> None:
    where = {question.id: step.id for step in day55.steps for question in step.questions}
    assert len(where) >= 4
    # StatefulSet vs Deployment, claim vs volume, the default StorageClass, Ingress vs port-forward.
    for step in ("deploy", "volumes", "default-storageclass", "ingress"):
        assert step in where.values(), step
    assert any(not q.multiple_choice for step in day55.steps for q in step.questions)


def test_day55_questions_never_hold_up_the_cluster_steps(day55: Lesson) -> None:
    for step in day55.steps:
        for question in step.questions:
            assert not question.blocking
            _, verdict = solution(question)
            assert verdict.correct, question.id
            if question.multiple_choice:
                assert all(choice.why for choice in question.choices)
                assert sum(choice.correct for choice in question.choices) == 1
            else:
                assert question.why and question.otherwise
