"""The workshop in the TUI, against a real board on 127.0.0.1: the name asked once in a window,
the board's connection in the header, the instructor's message as a notification, and
"everyone, step N" offered with g (a locked step explained), never forced."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from tests.ui.conftest import SIZE, opened, wait_for
from tests.workshop.helpers import send_json
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.session.workshop import WorkshopSetup
from tutor.ui.app import TutorApp
from tutor.ui.screens.workshop_name import WorkshopNameScreen
from tutor.workshop.http import WorkshopUrl
from tutor.workshop.server.serve import ServerThread


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    monkeypatch.setenv("K8S_TUTOR_DATA_DIR", str(tmp_path / "data"))
    server = ServerThread(tmp_path / "room.sqlite3").start()
    yield server
    server.stop()


def learner(server: ServerThread) -> Any:
    learners = server.inspect(lambda store: list(store.learners.values()))
    return learners[0] if len(learners) == 1 else None


def header(app: TutorApp) -> str:
    return str(app.lesson_screen.query_one("#workshop-status").render())


async def test_a_learner_joins_from_the_tui_and_hears_the_room(
    mini: Lesson, mini_setup: Setup, board: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = WorkshopUrl.parse(f"{board.url}/{board.join_code}", join=True)
    app = TutorApp(mini, replace(mini_setup, workshop=WorkshopSetup(url)))
    said: list[str] = []
    notify = app.notify
    monkeypatch.setattr(app, "notify", lambda message, **kw: (said.append(str(message)), notify(message, **kw)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WorkshopNameScreen), what="the name, asked")
        await wait_for(pilot, lambda: app.screen.query("#workshop-name"), what="its field")
        await pilot.press("enter")
        assert "must not be empty" in str(app.screen.query_one("#workshop-name-problem").render())
        app.screen.query_one("#workshop-name", Input).value = "Ana"
        await pilot.press("enter")
        screen = await opened(pilot)
        await wait_for(pilot, lambda: (who := learner(board)) and who.snapshot is not None, what="Ana's snapshot")
        joined = learner(board)
        assert joined.name == "Ana" and joined.snapshot.lesson == "mini" and joined.snapshot.on_screen == "first"
        await wait_for(pilot, lambda: header(app) == "● workshop: Ana", what="the header")
        assert any("Joined the workshop at" in text for text in said)
        assert screen.check_action("workshop_go", ()) is False, "no offer, no key"

        token = board.instructor_token
        assert (
            send_json(board.port, "POST", "/api/v1/messages", {"text": "Break until 11:00"}, token=token).status == 201
        )
        await wait_for(pilot, lambda: "Break until 11:00" in said, what="the message")

        send_json(board.port, "POST", "/api/v1/goto", {"lesson": "mini", "step": "slow"}, token=token)
        await wait_for(pilot, lambda: any("It unlocks once “Leave a mark”" in text for text in said), what="why not")
        assert screen.check_action("workshop_go", ()) is False and screen.current == "first"

        await pilot.press("r")  # the first step's commands leave its mark
        await wait_for(pilot, lambda: screen.session.progress.is_done("first"), what="the first step done")
        send_json(board.port, "POST", "/api/v1/goto", {"lesson": None, "step": "slow"}, token=token)
        await wait_for(pilot, lambda: any("Press g to go there" in text for text in said), what="the offer")
        assert screen.current == "first", "offered, not forced"
        await wait_for(pilot, lambda: screen.check_action("workshop_go", ()) is True, what="the g key")
        await pilot.press("g")
        await wait_for(pilot, lambda: screen.current == "slow", what="the instructor's step")
        await wait_for(pilot, lambda: learner(board).snapshot.on_screen == "slow", what="the board to follow")

        # The board goes away: said once in the header; the lesson goes on; back when it is.
        port, db = board.port, board.db
        board.stop()
        await wait_for(pilot, lambda: header(app) == "✗ workshop board unreachable", what="the board away")
        assert sum("workshop board is unreachable" in text for text in said) == 1
        back = ServerThread(db, port=port).start()
        try:
            await wait_for(pilot, lambda: header(app) == "● workshop: Ana", timeout=40, what="the board back")
            assert any("back; it has your latest progress" in text for text in said)
            assert learner(back).snapshot.on_screen == "slow"
        finally:
            await app.action_quit()
            back.stop()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("k8s-tutor workshop")]


async def test_a_learner_who_would_rather_not_join_keeps_the_lesson(
    mini: Lesson, mini_setup: Setup, board: ServerThread
) -> None:
    url = WorkshopUrl.parse(f"{board.url}/{board.join_code}", join=True)
    app = TutorApp(mini, replace(mini_setup, workshop=WorkshopSetup(url)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WorkshopNameScreen), what="the name, asked")
        await pilot.press("escape")
        await opened(pilot)
        await wait_for(pilot, lambda: header(app) == "○ workshop: not joined", what="the header")
        assert learner(board) is None
