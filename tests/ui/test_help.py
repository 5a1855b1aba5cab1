"""Help where a learner looks for it: Ctrl+P lists the lesson's actions and runs them, the theme
chosen there is used again next time (and a planted preferences file is not), `?` lists the keys."""

from __future__ import annotations

import os
from pathlib import Path

from textual.command import CommandPalette

from tests.ui.conftest import SIZE, opened, wait_for
from tutor import preferences
from tutor.lesson.model import Lesson
from tutor.session.factory import Setup
from tutor.ui.app import TutorApp
from tutor.ui.screens.keys import KeysScreen
from tutor.ui.widgets.hints_panel import HintsPanel


def screen_text(app: TutorApp) -> list[str]:
    update = app.screen._compositor.render_update(full=True)
    return ["".join(segment.text for segment in strip) for strip in update.strips]


async def palette_hits(pilot, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="the palette")
    await pilot.press(*text)
    palette = pilot.app.screen

    def prompts() -> list[str]:
        options = palette.query_one("CommandList")
        return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

    await wait_for(pilot, lambda: any(text.lower() in p.lower() for p in prompts()), what=f"a hit for {text}")
    return prompts()


async def test_the_palette_offers_the_lessons_actions_and_runs_them(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        hits = await palette_hits(pilot, "hint")
        assert any("Hint" in hit for hit in hits)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(screen.query_one(HintsPanel).shown) == 1, what="the hint")
        # Steps to jump to: only the unlocked ones.
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.session.progress.is_done("first") and not screen.running)
        hits = await palette_hits(pilot, "go to step")
        assert any("Go to step 2: Wait a long time" in hit for hit in hits)
        assert not any("step 4" in hit for hit in hits), "a locked step is not offered"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.current == "slow", what="step two")


async def test_the_theme_chosen_is_used_next_time(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        assert app.theme != "dracula"
        app.theme = "dracula"  # what the palette's "Switch theme" sets
        await pilot.pause()
    assert preferences.load() == {"theme": "dracula"}
    again = TutorApp(mini, mini_setup)
    async with again.run_test(size=SIZE) as pilot:
        await opened(pilot)
        assert again.theme == "dracula"


async def test_a_preferences_file_that_is_not_the_tutors_is_ignored(
    mini: Lesson, mini_setup: Setup, tmp_path: Path
) -> None:
    path = preferences.default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"theme": "dracula"}')
    os.chmod(path, 0o666)  # others may write it: not the tutor's own
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        assert app.theme != "dracula"
    path.write_text('{"theme": "no-such-theme"}')
    os.chmod(path, 0o600)
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        assert app.theme == "textual-dark"


async def test_question_mark_lists_every_key(mini: Lesson, mini_setup: Setup) -> None:
    app = TutorApp(mini, mini_setup)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        lines = [line.strip(" ▊▎▌┃█") for line in screen_text(app)]
        for key, says in (("r", "Run the commands"), ("l", "The list of steps"), ("ctrl+p", "The command palette")):
            assert any(line.startswith(key + " ") and says in line for line in lines), (key, lines)
        assert any(line.startswith("o ") and "(not now)" in line for line in lines), "unavailable keys say so"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.lesson_screen, what="the keys to close")
