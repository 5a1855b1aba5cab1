"""The day55 lesson end to end against the sandbox: its commands run with the real kubectl
and the sandbox's minikube, and each step's checks go from waiting to pass."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import REPO, Recorder, free_port
from tests.cluster.lesson_driver import LessonContext
from tests.polling import wait_until
from tutor.cluster.checks import build_check
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import CheckEngine
from tutor.cluster.kubeconfig import Source
from tutor.lesson.model import Lesson
from tutor.lesson.parser import load
from tutor.lesson.place import Place
from tutor.progress import ProgressStore

pytestmark = pytest.mark.skipif(
    not (shutil.which("kubectl") and shutil.which("curl")), reason="needs kubectl and curl on PATH"
)

OBSERVING_STEPS = {"volumes"}
"""Steps that only look at what an earlier step made: their checks pass before their commands."""


@pytest.fixture
def lesson() -> Lesson:
    # As the learner reads it on the sandbox: what is only for a real cluster is left out.
    return load(REPO / "lessons" / "day55.md").for_place(Place("sandbox", "linux"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Any, Any, dict[str, str]]]:
    from tutor.sandbox import Delays, Sandbox

    with Sandbox(
        delays=Delays.instant(), profile="mc-demo", started=False, state_dir=tmp_path / "sb", ingress_port=free_port()
    ) as sb:
        yield sb, sb.standins, sb.env()


def step_checks(lesson: Lesson, step_id: str, variables: dict[str, str]) -> dict[str, Any]:
    step = lesson.step(step_id)
    return {
        f"{step.id}/{index}": build_check(
            spec.kind, spec.resolved(variables), namespace=variables["namespace"], title=spec.title
        )
        for index, spec in enumerate(step.checks)
    }


def headless(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    from tutor.cli import main

    code = main(["check", "day55", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_each_step_goes_from_waiting_to_pass(lesson: Lesson, world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, env = world
    ctx = LessonContext(env)
    rec = Recorder()
    connection = ClusterConnection(Source.resolve(env["KUBECONFIG"]))
    engine = CheckEngine(connection, ctx, on_result=rec.on_result, on_status=rec.on_status)
    engine.start()
    variables = lesson.defaults(local_port=str(free_port()))
    cli_args = ["--kubeconfig", env["KUBECONFIG"], "--set", f"local_port={variables['local_port']}"]
    # Before anything: no cluster yet, which `check` reports as not done (exit 1), not as an error.
    code, report = headless(capsys, *cli_args)
    assert code == 1
    assert report["connection"]["state"] == "no_cluster"
    assert report["connection"]["message"].startswith("no cluster yet: run the first step (minikube start)")
    assert {c["status"] for s in report["steps"] for c in s["checks"]} == {"waiting"}
    try:
        for step in lesson.steps:
            info = connection.info
            if info is not None:
                variables.update(info.variables)
            if any("{node_ip}" in str(spec.fields) for spec in step.checks):
                variables["node_ip"] = wait_until(engine.node_ip, what="the node's address")
            checks = step_checks(lesson, step.id, variables)
            engine.set_active(checks)
            wait_until(lambda c=checks: all(engine.result(cid) for cid in c), what=f"first results of {step.id}")
            if step.id not in OBSERVING_STEPS:
                assert engine.settled()
                before = {cid: engine.result(cid) for cid in checks}
                assert not all(r.passed for r in before.values()), f"{step.id} passed before its commands: {before}"
            for command in step.runnable:
                ctx.run(command, variables)
            wait_until(
                lambda c=checks: all(engine.result(cid) and engine.result(cid).passed for cid in c),
                timeout=60,
                what=f"the checks of {step.id}: {[(c, engine.result(c)) for c in checks]}",
            )
        assert "high_scores" in ctx.memory
        # Done by hand, with no session to keep a record: `check` judges the score's survival
        # from the cluster: the events of the mongo-0 that was deleted (here seconds after its
        # claim was made, too soon for its age to tell).
        code, report = headless(capsys, *cli_args)
        survived = next(
            c
            for s in report["steps"]
            if s["id"] == "mongo-restart"
            for c in s["checks"]
            if c["kind"] == "data_survives"
        )
        assert survived["status"] == "pass", survived
        assert "judged from the cluster" in survived["reason"]
        assert code == 0
        # The session keeps what checks remember in the learner's progress; `check` reads it there.
        progress = ProgressStore().load("day55", "mc-demo")
        progress.memory.update(ctx.memory)
        ProgressStore().save(progress)
        code, report = headless(capsys, *cli_args)
        assert report["context"] == {
            "name": "mc-demo",
            "server": report["context"]["server"],
            "cluster_kind": "sandbox",
            "local": True,
            "profile": "mc-demo",
        }
        # Every check passes from outside the tutor, the port-forward's too: it asks whether the
        # game answers there (the forward this test started), not which process started it.
        not_passing = [(c["title"], c["reason"]) for s in report["steps"] for c in s["checks"] if c["status"] != "pass"]
        assert not_passing == []
        assert code == 0 and report["passed"] is True
    finally:
        ctx.close()
        assert engine.close() == []
        connection.close()
