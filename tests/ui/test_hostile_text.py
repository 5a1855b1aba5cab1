"""What is shown is what runs, and nothing a lesson, a cluster or a command writes drives the terminal.

A hostile lesson (escape sequences in its title, prose, hints and questions) and a command
whose output writes the clipboard (OSC 52), retitles the window, clears the screen and moves
the cursor: the learner's terminal gets text, and the output's colours, nothing else. A
`--set` value with `;` in it is shown quoted, as the one argument it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.color import Color
from textual.app import App, ComposeResult
from textual.widgets import Button, Static

from tests.ui.conftest import SIZE, opened, wait_for, wait_for_question
from tests.ui.pty_terminal import Terminal
from tutor.lesson.parser import load
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.question import CautiousQuestionScreen
from tutor.ui.widgets.command_view import CommandView, OutputLog

ESC = "\x1b"
HOSTILE_OUTPUT = r"printf '\033]52;c;aGFja2Vk\007\033]0;PWNED\007\033[2J\033[5A\033[31mred alert\033[0m\n'"

LESSON = f"""\
---
id: hostile
title: "A lesson{ESC}]0;PWNED{ESC}\\\\ with a title"
requires: []
variables:
  word: hello
---

Intro{ESC}[2J text{ESC}]52;c;aGFja2Vk\x07.

::: step {{#shout title="Shout{ESC}[5A it"}}
Say {{word}}, then print{ESC}]8;;https://evil.example/{ESC}\\\\ some colour.

```sh {{allow_program="printf shows the colours"}}
echo {{word}}
{HOSTILE_OUTPUT}
touch shouted
```

> [!TIP]
> A hint{ESC}]52;c;aGFja2Vk\x07 here.

```yaml {{checks}}
- kind: command
  run: test -e shouted
  title: "the check{ESC}]0;PWNED\x07 passes"
```
:::
"""
PAYLOADS = (b"aGFja2Vk", b"PWNED", b"evil.example")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "hostile.md").write_text(LESSON)
    (tmp_path / "work").mkdir()
    return folder


def environment(tmp_path: Path) -> dict[str, str]:
    return {"K8S_TUTOR_STATE_DIR": str(tmp_path / "state"), "KUBECONFIG": str(tmp_path / "no-kubeconfig")}


def test_the_plain_view_writes_text_only(hostile: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tutor",
            "hostile",
            "--lessons",
            str(hostile),
            "--trust",
            "--plain",
            "--autoplay",
            "--set",
            "word=hi; rm -rf ~",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path / "work",
        env={**os.environ, **environment(tmp_path)},
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert ESC not in out and "\x07" not in out and "\x9b" not in out
    shown = [line for line in out.splitlines() if "printf" not in line]  # the command as written says them
    for payload in PAYLOADS:
        assert not any(payload.decode() in line for line in shown)
    assert "Lesson hostile: A lesson with a title" in out
    assert "Step 1 of 1: Shout it" in out
    assert "\n  | red alert\n" in out
    # The line shown is the argv run, quoted: pasted into a shell it is one argument still.
    assert "    $ echo 'hi; rm -rf ~'" in out
    assert "  | hi; rm -rf ~" in out


def test_the_tui_writes_text_and_colours_only(hostile: Path, tmp_path: Path) -> None:
    term = Terminal(["hostile", "--lessons", str(hostile), "--trust"], tmp_path / "work", env=environment(tmp_path))
    try:
        term.wait_for(lambda: term.shows("Shout it"), what="the lesson")
        term.wait_for(lambda: term.shows("no cluster yet"), what="the session")
        for _ in range(3):
            term.type("r")
            if term.shows("red alert"):
                break
        term.wait_for(lambda: term.shows("red alert"), what="the command's output")
        term.type("q")
        assert term.ended() == 0
    finally:
        term.close()
    screen = bytes(term.output)
    # The command line on screen holds the payloads as the text `\033]52;...` (what is written
    # is what runs); the output's sequences themselves never reach the terminal.
    assert b"PWNED\x07" not in screen and b"aGFja2Vk\x07" not in screen and b"PWNED\x1b" not in screen
    assert b"evil.example" not in screen
    assert b"\x1b]52" not in screen and b"\x1b]0;" not in screen and b"\x1b]8;" not in screen


async def test_the_tui_asks_before_trusting_and_shows_a_set_value_quoted(hostile: Path, tmp_path: Path) -> None:
    lesson = load(hostile / "hostile.md")
    setup = Setup(kubeconfig=tmp_path / "none", overrides={"word": "hi; rm -rf ~"})
    app = TutorApp(lesson, setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.lesson_screen
        texts = [view.text for view in screen.query(CommandView)]
        assert texts[0] == "echo 'hi; rm -rf ~'"
        assert str(screen.query_one("#lesson-title").render()) == "A lesson with a title"
        await wait_for_question(pilot, "the trust question")
        question = app.screen
        assert isinstance(question, CautiousQuestionScreen)
        text = str(question.query_one("#question-text", Static).render())
        assert "Programs it runs: echo, printf (!), touch" in text
        await wait_for(pilot, lambda: app.focused is not None, what="a button to have the focus")
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("enter")  # the default: only read it
        screen = await opened(pilot)
        assert screen.session is not None and not screen.session.runs_commands
        buttons = list(screen.query(".run-button").results(Button))
        assert buttons and all(button.disabled for button in buttons)


class OneLog(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputLog(id="out")


async def test_command_output_keeps_its_colours_in_the_tui() -> None:
    app = OneLog()
    async with app.run_test(size=(40, 5)) as pilot:
        log = app.query_one(OutputLog)
        log.write_lines(["\x1b[31mred alert\x1b[0m plain"])
        await pilot.pause()
        segments = list(log.render_line(0))
        text = "".join(segment.text for segment in segments)
        assert text.startswith("red alert plain")
        red = next(segment for segment in segments if "red" in segment.text)
        assert red.style is not None and red.style.color is not None
        assert red.style.color.number == Color.parse("red").number
        assert ESC not in text
