"""The workshop in line mode: the board's connection once per change, the instructor's
messages, and "everyone, step N" offered (with g), never forced, a locked step explained;
and the link under it, which keeps the board up to date while nothing happens."""

from __future__ import annotations

import io
from pathlib import Path

from tests.lesson.helpers import write_lesson
from tests.polling import wait_until
from tests.session.fakes import FakeCluster, attached
from tutor.lesson.parser import load
from tutor.plain.view import PlainView
from tutor.plain.workshop import WorkshopLines
from tutor.session.session import LessonSession
from tutor.session.workshop import WorkshopLink, WorkshopSetup
from tutor.workshop.client import ConnectionChange, ConnectionState
from tutor.workshop.http import WorkshopUrl
from tutor.workshop.notices import GoToStep, RoomMessage
from tutor.workshop.server.serve import ServerThread

LESSON = """\
---
id: two
title: Two steps
---

::: step {#one title="One"}
```yaml {checks}
- kind: exists
  object: deployment/one
```
:::

::: step {#two title="Two"}
```yaml {checks}
- kind: exists
  object: deployment/two
```
:::
"""


def make(
    tmp_path: Path, *, interactive: bool = True, open_it: bool = True
) -> tuple[LessonSession, FakeCluster, WorkshopLines, list[str]]:
    lesson = load(write_lesson(tmp_path, LESSON))
    session = LessonSession(lesson, variables=lesson.defaults(), cluster="kind-test", store=None)
    cluster = FakeCluster()
    attached(session, cluster)
    if open_it:
        session.open()
    said: list[str] = []
    return session, cluster, WorkshopLines(session, said.append, name="Ana", interactive=interactive), said


def test_the_board_s_connection_is_said_once_per_change(tmp_path: Path) -> None:
    _, _, lines, said = make(tmp_path)
    lines.on_state(ConnectionChange(ConnectionState.UNREACHABLE, None, "http://127.0.0.1:9: connection refused"))
    lines.on_state(ConnectionChange(ConnectionState.CONNECTED, ConnectionState.UNREACHABLE, "workshop at X"))
    lines.on_state(ConnectionChange(ConnectionState.UNREACHABLE, ConnectionState.CONNECTED, "X: no answer in time"))
    lines.on_state(ConnectionChange(ConnectionState.CONNECTED, ConnectionState.UNREACHABLE, "workshop at X"))
    assert said == [
        "[workshop] The workshop board is unreachable (http://127.0.0.1:9: connection refused); "
        "the lesson carries on, and your progress is sent when it is back.",
        "[workshop] Joined the workshop at X as Ana: the instructor's board follows your progress.",
        "[workshop] The workshop board is unreachable (X: no answer in time); "
        "the lesson carries on, and your progress is sent when it is back.",
        "[workshop] The workshop board is back; it has your latest progress.",
    ]
    said.clear()
    lines.on_state(ConnectionChange(ConnectionState.REFUSED, None, "the workshop is full", warning="a\x1b[2Jnote"))
    assert said == [
        "[workshop] Not joined: the workshop is full. The lesson carries on without the board.",
        "[workshop] Note: anote",
    ]


def test_a_message_is_a_line_and_a_step_is_offered_never_forced(tmp_path: Path) -> None:
    session, cluster, lines, said = make(tmp_path)
    lines.on_notice(RoomMessage(1, 0.0, "Break until 11:00"))
    assert said[-1] == "[workshop] Message from the instructor: Break until 11:00"

    lines.on_notice(GoToStep(2, 0.0, "two", "two"))
    assert said[-1] == (
        "[workshop] The instructor asks everyone to go to step 2 (Two). "
        "It unlocks once “One” is done on your cluster: carry on with that first."
    )
    lines.go()
    assert session.viewing.id == "one", "a locked step is explained, not jumped to"
    assert said[-1].startswith("Nothing to go to")

    cluster.satisfy("one")
    lines.on_notice(GoToStep(3, 0.0, None, "two"))
    assert said[-1] == "[workshop] The instructor asks everyone to go to step 2 (Two). Type g and Enter to go there."
    assert session.viewing.id == "one", "offered, not forced"
    lines.go()
    assert session.viewing.id == "two"
    lines.on_notice(GoToStep(4, 0.0, None, "two"))
    assert said[-1] == "[workshop] The instructor asks everyone to go to step 2 (Two): you are on it."
    lines.on_notice(GoToStep(5, 0.0, "day55", "ingress"))
    assert said[-1] == "[workshop] The instructor asks everyone to go to step ingress of lesson day55."


def test_without_a_learner_at_the_keyboard_the_offer_is_only_said(tmp_path: Path) -> None:
    session, cluster, lines, said = make(tmp_path, interactive=False)
    cluster.satisfy("one")
    lines.on_notice(GoToStep(1, 0.0, None, "two"))
    assert said[-1] == "[workshop] The instructor asks everyone to go to step 2 (Two). This run goes on by itself."
    assert session.viewing.id == "one"


def test_the_link_sends_a_step_stuck_while_nothing_happens_and_stops_its_threads(
    tmp_path: Path, server: ServerThread
) -> None:
    session, _, _, _ = make(tmp_path, open_it=False)
    url = WorkshopUrl.parse(f"{server.url}/{server.join_code}", join=True)
    changes: list[ConnectionChange] = []
    link = WorkshopLink(
        session,
        WorkshopSetup(url, "Ana", stuck_after=0.3),
        on_state=changes.append,
        on_notice=lambda notice: None,
        tick=0.1,
    )
    try:
        session.open()  # before the learner's name is known: the board gets the latest state on joining
        link.join("Ana")

        def stuck() -> object:
            learners = server.inspect(lambda store: list(store.learners.values()))
            snap = learners[0].snapshot if learners else None
            return snap is not None and snap.stuck is not None and snap.stuck.headline == "not yet"

        wait_until(stuck, what="the step stuck on the board, with no event since")
        assert [change.state for change in changes] == [ConnectionState.CONNECTED]
    finally:
        assert link.close() == [], "no thread of the link left behind"


def test_g_at_the_line_view_s_prompt_takes_the_offer(tmp_path: Path) -> None:
    session, cluster, _, _ = make(tmp_path)
    out = io.StringIO()
    view = PlainView(session, out, interactive=True)
    view.workshop = WorkshopLines(session, view.say, name="Ana", interactive=True)
    assert view._handle("g")
    assert "Nothing to go to" in out.getvalue() and session.viewing.id == "one"
    cluster.satisfy("one")
    view.workshop.on_notice(GoToStep(1, 0.0, None, "two"))
    assert view._handle("g") and session.viewing.id == "two"
    assert "Step 2 of 2: Two" in out.getvalue()
