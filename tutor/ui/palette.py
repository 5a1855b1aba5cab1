"""The lesson's actions in Textual's command palette (Ctrl+P): jump to a step, run the step,
a hint, explain the checks, the output, the object map, the shell setup, another theme.

Each entry calls the lesson screen's own action, so the palette does exactly what the key
does, and offers only what the key would (a locked step is not listed; the shell setup only
where the lesson has one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tutor.ui.screens.lesson import LessonScreen

Entry = tuple[str, str, Callable[[], object]]


class LessonCommands(Provider):
    def _entries(self) -> Iterator[Entry]:
        screen = self.screen
        if not isinstance(screen, LessonScreen):
            return
        session = screen.session
        if screen.check_action("run_step", ()):
            yield "Run this step", "Run the commands of the step on screen (r)", screen.action_run_step
        yield "Hint", "Show the step's next hint (h)", screen.action_hint
        yield (
            "Explain the checks",
            "Say why each check passes or not, with what the cluster shows (e)",
            (screen.action_explain),
        )
        yield "Output", "Every command output of this step, full-screen and wrapped (f)", screen.action_full_output
        yield "Steps", "The list of steps (l)", screen.action_steps
        yield (
            "Object map",
            "What the lesson has built and how it hangs together, live, full-screen (m)",
            (screen.action_object_map),
        )
        if session.shell is not None:
            yield (
                "Your own terminal",
                "The line that points a shell of yours at the lesson's cluster (s)",
                (screen.action_shell),
            )
        yield "Switch theme", "Pick another colour theme; the choice is remembered", self.app.action_change_theme
        if screen.opened:
            for number, step in enumerate(screen.lesson.steps, 1):
                if session.is_unlocked(step.id) and step.id != screen.current:
                    yield (
                        f"Go to step {number}: {step.title}",
                        "Show this step",
                        partial(screen.go_to, step.id),
                    )

    async def discover(self) -> Hits:
        for name, help_text, callback in self._entries():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
