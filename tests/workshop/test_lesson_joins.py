"""`k8s-tutor LESSON --workshop URL`: a learner's tutor joins the board and reports as the
lesson goes, carries on while the board is away, and refuses what it cannot use."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, run_tutor
from tests.polling import wait_until
from tests.session.conftest import needs_kubectl
from tests.ui.pty_terminal import Terminal
from tutor.commands.exit_codes import UsageError
from tutor.commands.lesson import LessonOptions, _workshop
from tutor.workshop.server.serve import ServerThread


class Tutor:
    """`k8s-tutor ARGS` as a learner runs it without a terminal, its lines read as they come."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
            env={**os.environ, **env},
        )
        self._reader = threading.Thread(target=self._read, name="test tutor output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, start: str) -> list[str]:
        return [line for line in list(self.lines) if line.startswith(start)]

    def wait(self, timeout: float = 240) -> int:
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code


@needs_kubectl
def test_an_autoplayed_lesson_carries_on_while_the_board_is_away_and_the_board_gets_the_end(
    server_factory: Callable[..., ServerThread], tmp_path: Path
) -> None:
    port = free_port()
    first = server_factory(tmp_path / "room.sqlite3", port=port)
    code = first.join_code
    first.stop()  # the room exists, its server is away when the learner starts
    tutor = Tutor(
        "day55", "--sandbox", "--plain", "--autoplay", "--workshop", f"http://127.0.0.1:{port}/{code}",
        "--name", "Ana", "--set", f"local_port={free_port()}",
        env={"KUBECACHEDIR": str(tmp_path / "kc")},
    )  # fmt: skip
    try:
        wait_until(lambda: tutor.said("[workshop] The workshop board is unreachable"), 60, what="the board away")
        assert tutor.process.poll() is None, "the lesson goes on"
        server = server_factory(tmp_path / "room.sqlite3", port=port)
        assert tutor.wait() == 0, "\n".join(tutor.lines[-40:])
    finally:
        if tutor.process.poll() is None:
            tutor.process.kill()
            tutor.wait()
    out = "\n".join(tutor.lines)
    assert "Lesson day55 complete" in out and "Traceback" not in out
    assert len(tutor.said("[workshop] The workshop board is unreachable")) == 1, "said once, not per retry"
    assert len(tutor.said("[workshop] Joined the workshop at")) == 1
    # The lesson did not wait for the board: it was under way before the board came back.
    assert out.index("[workshop] The workshop board is unreachable") < out.index("Step 2 of 11")

    def final() -> object:
        learners = server.inspect(lambda store: list(store.learners.values()))
        snap = learners[0].snapshot if len(learners) == 1 else None
        return snap if snap is not None and snap.done else None

    snap = wait_until(final, what="the lesson's end on the board")
    assert server.inspect(lambda store: [each.name for each in store.learners.values()]) == ["Ana"]
    assert snap.lesson == "day55" and snap.cluster.value == "sandbox" and snap.on_screen == snap.steps[-1].id
    assert {process.name for process in snap.processes} >= {"pacman-forward"}

    # The name and the secret are remembered: the next run rejoins as Ana without asking.
    again = _workshop(LessonOptions(lesson="day55", workshop=f"http://127.0.0.1:{port}/{code}"), ask_here=True)
    assert again is not None and again.name == "Ana"


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (("--workshop", "http://127.0.0.1:8055/k7m2p-x9qrt"), {}, "give --name NAME"),
        (("--workshop", "not a url", "--name", "Ana"), {}, "--workshop: not a workshop URL"),
        (("--workshop", "http://127.0.0.1:8055/", "--name", "Ana"), {}, "must end in the join code"),
        (("--name", "Ana"), {}, "give the workshop's URL too"),
        (("--workshop", "http://127.0.0.1:8055/k7m2p-x9qrt", "--name", "A" * 41), {}, "at most 40"),
        (("--workshop", "http://127.0.0.1:8055/k7m2p-x9qrt", "--name", "Ana\x1b[2J"), {}, "printable"),
        (("--name", "Ana"), {"K8S_TUTOR_WORKSHOP": "ftp://example"}, "--workshop: not a workshop URL"),
    ],
)
def test_what_joining_cannot_use_is_refused_before_anything_starts(
    args: tuple[str, ...], env: dict[str, str], said: str, tmp_path: Path
) -> None:
    result = run_tutor("day55", "--sandbox", "--plain", *args, env={"K8S_TUTOR_STATE_DIR": str(tmp_path), **env})
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "", "refused before the lesson (or a sandbox) starts"


def test_a_name_from_the_terminal_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["", "x" * 50, "tab\there"])
    monkeypatch.setattr("tutor.commands.lesson.on_terminal", lambda: True)
    monkeypatch.setattr("tutor.commands.lesson.ask_text", lambda prompt: next(answers))
    options = LessonOptions(lesson="day55", workshop="http://127.0.0.1:8055/k7m2p-x9qrt")
    with pytest.raises(UsageError, match="no name given"):
        _workshop(options, ask_here=True)  # three tries, none a name
    answers = iter(["  Ana Lee  "])
    found = _workshop(options, ask_here=True)
    assert found is not None and found.name == "Ana Lee"
    monkeypatch.setattr("tutor.commands.lesson.ask_text", lambda prompt: None)  # end of input
    with pytest.raises(UsageError):
        _workshop(options, ask_here=True)
    tui = _workshop(options, ask_here=False)
    assert tui is not None and tui.name is None, "the TUI asks in a window of its own"


@needs_kubectl
def test_the_name_is_asked_once_on_the_terminal_then_remembered_by_the_tui(server: ServerThread) -> None:
    url = f"{server.url}/{server.join_code}"
    plain = Terminal(["day55", "--sandbox", "--plain", "--workshop", url, "--set", f"local_port={free_port()}"], REPO)
    try:
        plain.wait_for(lambda: plain.shows("Your name on the workshop's board"), what="the name, asked")
        plain.type("Ana Lee\r")
        plain.wait_for(lambda: plain.shows("[workshop] Joined the workshop at"), what="the join")
        plain.wait_for(lambda: plain.shows("Step 1 of 11"), what="the lesson")
        plain.type("q\r")
        assert plain.ended() == 0
    finally:
        plain.close()
    assert server.inspect(lambda store: [each.name for each in store.learners.values()]) == ["Ana Lee"]

    tui = Terminal(["day55", "--sandbox", "--workshop", url, "--set", f"local_port={free_port()}"], REPO)
    try:
        tui.wait_for(lambda: tui.shows("workshop: Ana Lee"), what="the TUI's header, joined without asking")
        assert not tui.shows("Join the workshop")
        tui.type("\x11")  # ctrl+q
        assert tui.ended() == 0
    finally:
        tui.close()
    learners = server.inspect(lambda store: list(store.learners.values()))
    assert [each.name for each in learners] == ["Ana Lee"], "the same learner, not a second one"
