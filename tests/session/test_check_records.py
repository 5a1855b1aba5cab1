"""A check's one identity and its structured fields: what the views and the engine decide from,
instead of a message's words or a kind's name."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cluster import factory as f
from tests.lesson.helpers import write_lesson
from tutor.cluster.checks import build_check
from tutor.cluster.engine import run_check
from tutor.cluster.status import ConnectionStatus
from tutor.cluster.view import StaticView, WatchKey
from tutor.lesson.parser import load
from tutor.session.cluster_checks import build_checks
from tutor.session.events import CheckId

LESSON = """\
---
id: records
title: Records
---

::: step {#ingress title="Ingress"}
```yaml {checks}
- kind: http
  title: the game answers at the node
  urls:
    - "http://{node_ip}/"
- kind: exists
  object: deployment/pacman
- kind: command
  run: "true"
```
:::
"""


def test_each_check_is_built_once_under_its_step_and_place(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, LESSON))
    asked: list[str] = []

    def node_ip() -> str | None:
        asked.append("node_ip")
        return None  # the cluster cannot say yet

    built = build_checks(lesson.steps, lesson.defaults(), node_ip=node_ip, untrusted="it is from elsewhere")
    assert list(built) == [CheckId("ingress", 0), CheckId("ingress", 1), CheckId("ingress", 2)]
    node, deployment, command = built.values()
    # A value inside a list uses {node_ip}: read from the structure, not from a repr.
    assert asked == ["node_ip"]
    assert node.needs_node_ip and node.check is None and node.held is not None
    assert node.held.status == "waiting"
    assert deployment.check is not None and not deployment.needs_node_ip
    assert command.check is None and command.held is not None and command.held.status == "fail"
    assert command.held.reason == "not run: it is from elsewhere"

    given = build_checks(lesson.steps, {**lesson.defaults(), "node_ip": "192.168.49.2"}, node_ip=node_ip)
    assert asked == ["node_ip"]  # given: not asked again
    assert given[CheckId("ingress", 0)].check is not None


def test_a_result_not_judged_says_why_in_a_field() -> None:
    check = build_check("exists", {"object": "deployment/pacman"}, namespace="pacman")
    no_cluster = ConnectionStatus("no_cluster", time.time(), "no cluster yet: run the first step")
    gone = run_check(check, StaticView(connection=no_cluster), None)  # type: ignore[arg-type]
    assert (gone.status, gone.unjudged) == ("waiting", "connection")
    unsynced = StaticView(unsynced=[WatchKey.of("deployment", "pacman")])
    reading = run_check(check, unsynced, None)  # type: ignore[arg-type]
    assert (reading.status, reading.unjudged) == ("waiting", "loading")
    judged = run_check(check, StaticView([f.deployment("pacman")]), None)  # type: ignore[arg-type]
    assert judged.passed and judged.unjudged is None


def test_the_check_that_wants_a_default_class_says_which() -> None:
    wanted = build_check("default_storageclass", {"name": "csi-hostpath-sc"}, namespace="default")
    other = build_check("exists", {"object": "storageclass/standard"}, namespace="default")
    assert (wanted.wanted_default, other.wanted_default) == ("csi-hostpath-sc", None)
