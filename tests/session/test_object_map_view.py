"""The live object map through the session and the plain view, with a fake cluster: the map
is kept only while asked for, and the plain view prints it as an indented tree."""

from __future__ import annotations

import io
from pathlib import Path

from tests.lesson.helpers import write_lesson
from tests.session.fakes import FakeCluster, attached
from tutor.cluster.object_map import MapLink, MapNode, ObjectMap
from tutor.lesson.parser import load
from tutor.plain.lines import map_lines
from tutor.plain.view import HELP, PlainView
from tutor.progress import ProgressStore
from tutor.session.events import Event, MapChanged
from tutor.session.session import LessonSession

LESSON = """\
---
id: mapped
title: Mapped
map:
  - {object: service/db, step: deploy}
---

::: step {#deploy title="Deploy" timeout=2}
```sh
tool do:deploy
```

```yaml {checks}
- kind: rollout_complete
  object: statefulset/db
```
:::
"""

POD = MapNode("Pod", "db-0", "demo", "Running 1/1", "ok", "deploy", "uid-2")
CLAIM = MapNode("PersistentVolumeClaim", "data-db-0", "demo", "Bound", "ok", "deploy", "uid-c", (POD,))
VOLUME = MapNode(
    "PersistentVolume",
    "pvc-3f2a8c1e-0b1d-4c2e-9f00-0123456789ab",
    None,
    "Bound",
    "ok",
    "deploy",
    "uid-v",
    (CLAIM,),
)
CLASS = MapNode("StorageClass", "standard", None, "(default)", "ok", None, "uid-s", (VOLUME,))
STATEFULSET = MapNode(
    "StatefulSet",
    "db",
    "demo",
    "1/1 ready",
    "ok",
    "deploy",
    "uid-st",
    links=(
        MapLink("owns", "Pod", "demo", "db-0", "Running 1/1", "ok"),
        MapLink("claims", "PersistentVolumeClaim", "demo", "data-db-0", "Bound", "ok"),
    ),
)
SERVICE = MapNode(
    "Service",
    "db",
    "demo",
    "headless 0/1 endpoints ready",
    "waiting",
    "deploy",
    "uid-svc",
    links=(MapLink("endpoint", "Pod", "demo", "db-0", "Running 0/1", "waiting"),),
)
MAP = ObjectMap((CLASS, STATEFULSET, SERVICE))


def make(tmp_path: Path, cluster: FakeCluster | None = None) -> tuple[LessonSession, FakeCluster, list[Event]]:
    lesson = load(write_lesson(tmp_path, LESSON))
    cluster = cluster or FakeCluster()
    session = LessonSession(
        lesson, variables=lesson.defaults(), cluster="kind-test", store=ProgressStore(tmp_path / "state")
    )
    attached(session, cluster)
    events: list[Event] = []
    session.subscribe(events.append)
    return session, cluster, events


def test_the_plain_tree() -> None:
    assert map_lines(MAP) == [
        "[map] What the lesson builds, as the cluster shows it now:",
        "  StorageClass standard (default)",
        "    PersistentVolume pvc-3f2a8c1e… Bound   (step: deploy)",
        "      PersistentVolumeClaim demo/data-db-0 Bound",
        "        Pod demo/db-0 Running 1/1",
        "  StatefulSet demo/db 1/1 ready   (step: deploy)",
        "    -> owns Pod demo/db-0 Running 1/1",
        "    -> claim PersistentVolumeClaim demo/data-db-0 Bound",
        "  Service demo/db headless 0/1 endpoints ready   (step: deploy)",
        "    -> sends to Pod demo/db-0 not ready",
    ]


def test_the_plain_tree_says_what_it_cannot_show() -> None:
    assert map_lines(ObjectMap(note="no cluster yet: run the first step")) == [
        "[map] What the lesson builds, as the cluster shows it now:",
        "  (no cluster yet: run the first step)",
        "  (nothing yet)",
    ]


def test_a_cluster_cannot_write_to_the_terminal_through_the_map() -> None:
    hostile = MapNode("Pod", "db-0", "demo", "Waiting: \x1b]52;c;cGF5bG9hZA==\x07\x1b[2J", "failing", None)
    lines = map_lines(ObjectMap((hostile,)))
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert lines[1].startswith("  Pod demo/db-0 Waiting: ")


def test_the_map_is_kept_only_while_shown(tmp_path: Path) -> None:
    session, cluster, events = make(tmp_path)
    assert cluster.map_shown is None  # nobody asked: nothing watched for it
    session.show_map()
    assert cluster.map_shown is not None and session.map_shown
    assert [e for e in events if isinstance(e, MapChanged)] == [MapChanged(cluster.object_map)]
    cluster.map_shown(MAP)
    assert session.object_map == MAP and isinstance(events[-1], MapChanged)
    told = cluster.map_shown
    session.hide_map()
    assert cluster.map_shown is None and session.object_map is None
    count = len(events)
    told(ObjectMap(note="late"))  # one the backend had under way: not told
    assert len(events) == count


def test_asked_before_the_cluster_is_attached_it_starts_once_it_is(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, LESSON))
    session = LessonSession(lesson, variables=lesson.defaults(), cluster="c", store=ProgressStore(tmp_path / "s"))
    events: list[Event] = []
    session.subscribe(events.append)
    session.show_map()
    assert events == []
    cluster = FakeCluster()
    attached(session, cluster)
    assert cluster.map_shown is not None
    assert [e for e in events if isinstance(e, MapChanged)] == [MapChanged(cluster.object_map)]


def test_plain_m_prints_the_map_once_and_stops_keeping_it(tmp_path: Path) -> None:
    cluster = FakeCluster()
    cluster.object_map = MAP
    session, _, _ = make(tmp_path, cluster)
    out = io.StringIO()
    view = PlainView(session, out, interactive=True)
    view._handle("m")
    text = out.getvalue()
    assert "\n".join(map_lines(MAP)) in text
    assert cluster.map_shown is None and not session.map_shown
    cluster.object_map = ObjectMap(note="later")
    session.show_map()  # someone else's request: the plain view did not ask, so prints nothing
    session.hide_map()
    assert out.getvalue() == text
    assert "m: the map of what the lesson builds" in HELP


def test_plain_waits_for_a_map_still_being_read(tmp_path: Path) -> None:
    cluster = FakeCluster()
    cluster.object_map = ObjectMap(note="reading pods from the cluster", loading=True)
    session, _, _ = make(tmp_path, cluster)
    out = io.StringIO()
    view = PlainView(session, out, interactive=True)
    view._handle("m")
    assert "[map]" not in out.getvalue() and cluster.map_shown is not None
    cluster.map_shown(MAP)
    assert "\n".join(map_lines(MAP)) in out.getvalue()
    assert cluster.map_shown is None
    session.close()
