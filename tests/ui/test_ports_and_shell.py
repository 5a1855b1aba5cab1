"""Another port from the TUI, the line for your own terminal, and output that repeats itself."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.conftest import free_port
from tests.ui.conftest import LESSONS, SIZE, opened, wait_for
from tutor.lesson.model import Lesson
from tutor.lesson.parser import load
from tutor.sandbox import Delays, Sandbox
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.port import PortScreen
from tutor.ui.screens.shell import ShellScreen
from tutor.ui.widgets.checks_panel import ChecksPanel
from tutor.ui.widgets.hints_panel import HintsPanel
from tutor.ui.widgets.key_footer import KeyFooter


@pytest.fixture
def serve() -> Lesson:
    return load(LESSONS / "serve.md")


@pytest.fixture
def held() -> Iterator[int]:
    """A port another program (this test) listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def serve_setup(serve: Lesson, held: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "env.sh"
    script.write_text("export KUBECONFIG=/nowhere\n")
    with Sandbox(delays=Delays.instant(), started=True, profile=serve.profile) as sandbox:
        yield Setup(
            kubeconfig=sandbox.kubeconfig,
            overrides={"web_port": str(held)},
            env=sandbox.env(),
            sandbox=True,
            save_progress=False,
            shell_env=script,
            trust_given=True,  # a lesson from elsewhere: its commands run only when trusted
        )


def footer(app: TutorApp) -> str:
    return str(app.lesson_screen.query_one(KeyFooter).render())


class TestAnotherPort:
    async def test_a_taken_port_asks_for_another_and_the_lesson_moves_there(
        self, serve: Lesson, serve_setup: Setup, held: int
    ) -> None:
        app = TutorApp(serve, serve_setup)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            assert "o Port" in footer(app)
            web = screen.command_view("serve", 0)
            assert web.text == f"python3 -u -m http.server {held} --bind 127.0.0.1"
            hints = screen.query_one(HintsPanel)
            await pilot.press("h")
            await wait_for(pilot, lambda: len(hints.shown) == 1)
            assert f"port {held}?" in hints.shown[0]
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, PortScreen), what="the port question")
            asked = app.screen
            assert isinstance(asked, PortScreen)
            await wait_for(pilot, lambda: bool(asked.query("#port-input")))
            box = asked.query_one("#port-input", Input)
            suggestion = int(box.value)
            assert suggestion > held
            assert f"port {held} on 127.0.0.1 is taken by" in str(asked.query_one("#question-text", Static).content)
            # Not a port: said in the question, which stays open.
            box.value = "99999"
            await pilot.press("enter")
            await wait_for(pilot, lambda: "is not a port" in str(asked.query_one("#port-problem", Static).content))
            assert app.screen is asked
            other = free_port()
            box.value = str(other)
            await pilot.press("enter")
            # The command shown, the command run and the check all use the new port.
            await wait_for(pilot, lambda: web.text == f"python3 -u -m http.server {other} --bind 127.0.0.1")
            await wait_for(pilot, lambda: "ready" in web.status, timeout=30, what="the server on the new port")
            await wait_for(
                pilot,
                lambda: [c.result.status for c in screen.checks()] == ["pass"],
                timeout=30,
                what=f"the check on port {other}: {screen.checks()}",
            )
            assert f"the folder is served on port {other}" in str(screen.query_one(ChecksPanel).render())
            # A hint revealed before says the new port too.
            await wait_for(pilot, lambda: f"port {other}?" in hints.shown[0])
            assert app.lesson_screen.session is not None
            assert app.lesson_screen.session.variables["web_port"] == str(other)

    async def test_o_asks_for_another_port_at_any_time(self, serve: Lesson, serve_setup: Setup, held: int) -> None:
        app = TutorApp(serve, serve_setup)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot)
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, PortScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, PortScreen))
            session = app.lesson_screen.session
            assert session is not None and session.variables["web_port"] == str(held)


class TestYourOwnTerminal:
    async def test_the_line_is_shown_and_s_offers_it_to_copy(self, serve: Lesson, serve_setup: Setup) -> None:
        app = TutorApp(serve, serve_setup)
        assert serve_setup.shell_env is not None
        line = f"source {serve_setup.shell_env}"
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            await wait_for(pilot, lambda: bool(screen.query("#shell-line")))
            shell = screen.query_one("#shell-line", Static)
            assert f"Your own terminal (s: copy): {line}" in str(shell.content)
            assert not shell.region.overlaps(screen.query_one("#header").region)
            assert "s Your terminal" in footer(app)
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ShellScreen) and bool(app.screen.query("#copy")))
            assert str(app.screen.query_one("#shell-command", Static).content) == line
            await pilot.press("c")
            assert app.clipboard == line
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ShellScreen))


class TestRepeatedOutput:
    async def test_a_line_that_keeps_coming_is_counted(self, serve: Lesson, serve_setup: Setup) -> None:
        app = TutorApp(serve, replace(serve_setup, overrides={"web_port": str(free_port())}))
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot)
            chatter = screen.command_view("serve", 1)
            await pilot.press("r")
            await wait_for(pilot, lambda: "done" in chatter.output, timeout=30, what="the chatty helper")
            assert list(chatter.output) == ["Handling connection for 1", "  ↑ 5 times in a row", "done"]
