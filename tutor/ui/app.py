"""The Textual app: a thin shell around the lesson screen (and the lesson picker).

`run_tui` and `pick_lesson` are what the CLI calls. The app gets its domain objects
through its constructor (the parsed lesson and the CLI's `Setup`) and builds the session
at once (`new_session`: pure, the lesson and its progress); the lesson screen attaches
its cluster once it is on screen, because that loads the kubernetes client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import RenderableType
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.screen import Screen
from textual.theme import Theme

from tutor.lesson.model import Lesson
from tutor.session.setup import Setup, new_session
from tutor.ui.presenter import PLAIN_PRESENTATION, Presentation
from tutor.ui.screens.lesson import Attach, LessonScreen, attach_cluster

if TYPE_CHECKING:
    from tutor.ui.choices import LessonChoice

CSS = Path(__file__).parent / "tutor.tcss"


def get_lesson_commands() -> type[Provider]:
    from tutor.ui.palette import LessonCommands  # only once the palette opens

    return LessonCommands


class ThemeRemembered:
    """The learner's theme (Ctrl+P, "Switch theme") is used again next time."""

    def remember_theme(self: App[Any]) -> None:  # type: ignore[misc]
        from tutor import preferences

        saved = preferences.load().get("theme")
        if saved in self.available_themes:
            self.theme = saved

        def changed(theme: Theme) -> None:
            problem = preferences.save("theme", theme.name)
            if problem:
                self.notify(problem, severity="warning", markup=False)

        self.theme_changed_signal.subscribe(self, changed)


class TutorApp(ThemeRemembered, App[None]):
    CSS_PATH = CSS
    TITLE = "k8s-tutor"
    COMMANDS = App.COMMANDS | {get_lesson_commands}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        lesson: Lesson,
        setup: Setup,
        *,
        step_id: str | None = None,
        autoplay: bool = False,
        attach: Attach = attach_cluster,
        prepare: Callable[[], object] | None = None,
        presentation: Presentation = PLAIN_PRESENTATION,
    ) -> None:
        """`attach` reaches the session's cluster (tests may pass their own); `prepare` runs on
        the app thread before it; `presentation`: presenter mode (tutor/ui/presenter.py)."""
        super().__init__()
        self.lesson = lesson
        self.setup = setup
        self.session = new_session(lesson, setup, step_id)
        self.autoplay = autoplay
        self.attach = attach
        self.prepare = prepare
        self.presentation = presentation

    def on_mount(self) -> None:
        self.remember_theme()

    input_since = 0.0
    """Input read before this moment is dropped (see `drop_input_before`)."""

    def drop_input_before(self, moment: float) -> None:
        """Drop the keys and clicks read before `moment` (`time.monotonic()`) that are still
        queued. The terminal lender calls it when a command gives the terminal back: what
        the learner typed before the app suspended was meant for a screen that then went
        away, and handling it afterwards would surprise them (an `r` pressed twice runs
        the step again, and asks for the password again)."""
        self.input_since = moment

    async def on_event(self, event: events.Event) -> None:
        # Textual stamps an event with its monotonic clock when the input thread reads it.
        if isinstance(event, events.InputEvent) and event.time < self.input_since:
            return
        await super().on_event(event)

    def on_resize(self, event: events.Resize) -> None:
        watch_size(self, event.size.width, event.size.height)

    def exit(self, result: None = None, return_code: int = 0, message: RenderableType | None = None) -> None:
        # Before Textual takes the screens down: the session's events stop being drawn.
        for screen in self.screen_stack:
            if isinstance(screen, LessonScreen):
                screen.stop_drawing()
        super().exit(result, return_code, message)

    def get_default_screen(self) -> Screen[None]:
        return LessonScreen(
            self.session,
            self.setup,
            autoplay=self.autoplay,
            attach=self.attach,
            prepare=self.prepare,
            presentation=self.presentation,
        )

    @property
    def lesson_screen(self) -> LessonScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, LessonScreen)
        return screen


class PickerApp(ThemeRemembered, App[str]):
    CSS_PATH = CSS
    TITLE = "k8s-tutor"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, choices: Sequence[LessonChoice], note: str = "") -> None:
        super().__init__()
        self.choices = choices
        self.note = note

    def on_resize(self, event: events.Resize) -> None:
        watch_size(self, event.size.width, event.size.height)

    def on_mount(self) -> None:
        self.remember_theme()

    def get_default_screen(self) -> Screen[str]:
        from tutor.ui.screens.picker import LessonPickerScreen  # not on the way to a lesson

        return LessonPickerScreen(self.choices, self.note)


def watch_size(app: App[Any], width: int, height: int) -> None:
    """Below the smallest size the screens are drawn for, say so (and how to fix it) instead
    of a broken layout; back to the lesson once the terminal is large enough."""
    from tutor.ui.screens.too_small import TooSmallScreen, too_small

    if not app.screen_stack or app.return_code is not None:
        return  # starting, or on the way out: no screen to cover
    showing = isinstance(app.screen, TooSmallScreen)
    if too_small(width, height) and not showing:
        app.push_screen(TooSmallScreen())
    elif showing and not too_small(width, height):
        app.pop_screen()


def run_tui(
    lesson: Lesson,
    setup: Setup,
    *,
    step_id: str | None = None,
    autoplay: bool = False,
    prepare: Callable[[], object] | None = None,
    presentation: Presentation = PLAIN_PRESENTATION,
) -> int:
    """Run the lesson in the TUI until the learner quits; returns the exit status.

    `prepare` runs on the app's (main) thread after the first paint, before any command:
    the CLI installs its exit handlers there, which loads the run layer.
    """
    app = TutorApp(lesson, setup, step_id=step_id, autoplay=autoplay, prepare=prepare, presentation=presentation)
    app.run()
    return app.return_code or 0


def pick_lesson(choices: Sequence[LessonChoice], *, note: str = "") -> str | None:
    """Show the lessons (and `note`, a word of advice, above them); the id of the one chosen,
    or None when the learner quits."""
    return PickerApp(choices, note).run()
