"""The lesson screen's drawing: the layout, and what the session says happened.

`LessonDrawing` is the part of the lesson screen (tutor/ui/screens/lesson.py) that shows
one `LessonSession`: drawn at once from the session before its cluster is reached (the
step it will open on, with its variables filled in), then the session's events, taken
from the bridge on this screen's thread and dispatched by type. It keeps no lesson state
of its own beyond what is on screen: which step is shown and which command each run draws
into (`CommandRuns`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, assert_never

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import ScreenResume
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher

from tutor.session import events
from tutor.session.session import LessonSession
from tutor.session.setup import Setup
from tutor.ui.bridge import EventBridge
from tutor.ui.command_runs import CommandRuns
from tutor.ui.messages import SessionEventsArrived
from tutor.ui.widgets.background_list import BackgroundList
from tutor.ui.widgets.checks_panel import ChecksPanel
from tutor.ui.widgets.hints_panel import HintsPanel
from tutor.ui.widgets.key_footer import KeyFooter
from tutor.ui.widgets.lesson_header import LessonHeader
from tutor.ui.widgets.step_list import StepList, StepState
from tutor.ui.widgets.step_view import StepView

if TYPE_CHECKING:
    from tutor.cluster.object_map import ObjectMap
    from tutor.ui.widgets.done_bar import StepDoneBar

log = logging.getLogger(__name__)

DRAIN_INTERVAL = 1 / 30
"""Under a flood of output, take the session's events at most this often (one repaint's worth)."""


class LessonDrawing(Screen[None]):
    # Narrow terminals lose the step list (n and p still move), wide ones get roomier side panels.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (150, "-wide")]  # noqa: RUF012 (Textual types it as an instance attribute)

    AUTO_FOCUS = ".step-view"
    """The step in focus: the arrow keys and Page Up/Down scroll it."""

    _shown_once = False
    """Whether Textual has shown this screen yet (see post_message)."""

    running: reactive[bool] = reactive(False, bindings=True)
    """A run the learner started, a fast-forward or autoplay is under way: one at a time."""
    explain: reactive[bool] = reactive(False)

    def __init__(self, session: LessonSession, setup: Setup, *, autoplay: bool = False) -> None:
        super().__init__(id="lesson-screen")
        self.session = session
        self.lesson = session.lesson
        self.setup = setup
        self.autoplay = autoplay
        self.bridge = EventBridge(lambda: self.post_message(SessionEventsArrived()))
        self.opened = False
        self.current = session.viewing.id
        """The step on screen: the session's `viewing`, as last told by StepShown."""
        self.step_views: dict[str, StepView] = {}
        self.runs = CommandRuns(lambda step_id: self._view(step_id).command_views)
        self._drifted: set[str] = set()
        self._stopped: events.AutoplayStopped | None = None
        self._completed_shown = False
        self._drain_timer: Timer | None = None
        self._last_drain = 0.0
        self._quitting = threading.Event()
        """The app is exiting: nothing more is drawn or asked."""
        # Mounted when first needed, to keep the first frame light.
        self._done_bar: StepDoneBar | None = None
        self._background_list: BackgroundList | None = None
        self._hints_panel = HintsPanel(len(session.viewing.hints))

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The breakpoint's class now, as the first Resize would set it: set then, it restyles
        # every widget on screen once more before the first frame.
        self.add_class(self.size_class(), update=False)  # nothing is styled yet: each widget is, as it mounts
        position = (self.lesson.index(self.current) + 1, len(self.lesson.steps))
        yield LessonHeader(self.lesson.title, sandbox=self.session.sandbox, position=position)
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield StepList(self.lesson, current=self.current)
            first = self.step_views[self.current] = self._make_view(self.current)
            with Vertical(id="main"), ContentSwitcher(id="steps", initial=first.id):
                yield first
            with Vertical(id="side"):
                yield ChecksPanel()
                yield self._hints_panel
        yield KeyFooter()

    def size_class(self) -> str:
        """The breakpoint's class for the terminal's width now."""
        width = self.app.size.width
        return next(name for edge, name in sorted(self.HORIZONTAL_BREAKPOINTS, reverse=True) if width >= edge)

    def post_message(self, message: Message) -> bool:
        # Textual restyles every widget of a screen each time it is shown (ScreenResume), for
        # what may have changed while it was hidden. The first time, every widget was styled
        # as it mounted, a moment before, with nothing changed since: ~8 ms of the first frame.
        # tests/ui/test_snapshots.py checks that the first frame is the same without it.
        if isinstance(message, ScreenResume) and not self._shown_once:
            self._shown_once = True
            message = ScreenResume(refresh_styles=False)
        return super().post_message(message)

    def on_resize(self) -> None:
        self.call_after_refresh(self._size_changed)

    def on_screen_resume(self) -> None:
        # Textual sends a resize only to the screen on top: one that comes back after the
        # terminal was resized under another screen gets its breakpoint's class now.
        size_class = self.size_class()
        if not self.has_class(size_class):
            self.set_classes_for_size(size_class)
            self.call_after_refresh(self._size_changed)

    def set_classes_for_size(self, size_class: str) -> None:
        for _, name in self.HORIZONTAL_BREAKPOINTS:
            self.set_class(name == size_class, name)

    def _size_changed(self) -> None:
        self._layout_changed()
        self._focus_where_seen()

    def _layout_changed(self) -> None:
        """The breakpoint's class may have changed (tutor/ui/screens/lesson_map.py places the map)."""
        raise NotImplementedError

    def _focus_where_seen(self) -> None:
        """A widget hidden by a narrower layout (the step list) does not keep the keys, and
        nothing in focus leaves them to Textual's first focusable widget: the step takes them."""
        focused = self.focused
        view = self.step_views.get(self.current)
        if view is not None and (focused is None or not focused.region.area):
            view.focus()

    def stop_drawing(self) -> None:
        """The app is exiting: draw no more of the session's events (the widgets they would
        change are being taken down) and answer no more questions. Cheap; idempotent."""
        self._quitting.set()
        self.bridge.close()
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None

    # --- session events ------------------------------------------------------------------

    def on_session_events_arrived(self, _: SessionEventsArrived) -> None:
        if self._drain_timer is not None or self._quitting.is_set():
            return
        wait = self._last_drain + DRAIN_INTERVAL - time.monotonic()
        if wait > 0:
            self._drain_timer = self.set_timer(wait, self._drain)
        else:
            self._drain()

    def _drain(self) -> None:
        self._drain_timer = None
        self._last_drain = time.monotonic()
        if self._quitting.is_set():
            return
        output: dict[str, list[str]] = {}
        for event in self.bridge.take():
            if isinstance(event, events.OutputLine) and event.count == 1:
                output.setdefault(event.run, []).append(event.text)
                continue
            self.runs.write(output)
            output.clear()
            try:
                self._draw(event)
            except Exception:  # one badly drawn event must not take the lesson down
                log.exception("drawing %s failed", event)
        self.runs.write(output)

    def _draw(self, event: events.Event) -> None:
        match event:
            case events.LessonOpened():
                self._opened(event)
            case events.ConnectionChanged(status=status):
                self.query_one(LessonHeader).show_connection(status)
            case events.StepShown(step=step):
                self._show(step)
            case events.ChecksChanged(step=step):
                if step == self.current:
                    self._show_checks()
            case events.HintShown(step=step):
                if step == self.current:
                    self._show_hints()
            case events.StepCompleted(step=step):
                self._drifted.discard(step)
                self._update_steps()
                if step == self.current:
                    self._show_checks()
                    self._show_done_bar()
                self.refresh_bindings()
            case events.LessonCompleted():
                self._update_steps()
                self._show_done_bar()
                self._show_complete()
            case events.DriftFound(step=step, checks=checks):
                self._drift_found(step, checks)
            case events.CommandStarted():
                view = self.runs.started(event)
                if view is not None and event.step == self.current:
                    view.scroll_visible(animate=False)  # its output then scrolls by itself
            case events.OutputLine(run=run, text=text, count=count):
                if (view := self.runs.view(run)) is not None:
                    view.repeated(text, count)
            case events.CommandFinished(run=run, ok=ok, exit_status=status, detail=detail):
                if (view := self.runs.view(run)) is not None:
                    view.finished(ok, status, detail)
                    if view.step_id == self.current and self.runs.latest() is view:
                        # Its output grew below where it started: how it ended comes into view.
                        view.call_after_refresh(view.scroll_visible, animate=False)
            case events.ProcessChanged():
                self._process_changed(event)
            case events.PortTaken():
                self._port_taken(event)
            case events.AlreadyServed(run=run, port=port):
                if (view := self.runs.view(run)) is not None:
                    view.already_served(port)
            case events.VariableChanged():
                self._variable_changed(event)
            case events.InputNeeded():
                self._input_needed(event)
            case events.Notice(text=text, level=level):
                self.notify(text, severity="information" if level == "info" else level, timeout=10, markup=False)
            case events.AutoplayStopped(step=step):
                self._stopped = event
                self.explain = True
                if step == self.current:
                    self._show_checks()
            case events.QuestionAnswered(step=step, question=question, verdict=verdict, revealed=revealed):
                if (shown := self.step_views.get(step)) is not None and question in shown.question_views:
                    shown.question_views[question].answered(verdict, revealed=revealed)
            case events.StepRunning():
                pass  # the screen's own `running` says when the learner's run ends
            case events.MapChanged(map=found):
                self._map_changed(found)
            case _:
                assert_never(event)

    def _opened(self, event: events.LessonOpened) -> None:
        self.query_one(LessonHeader).show_cluster(sandbox=event.sandbox)
        if event.shell is not None:
            from tutor.ui.widgets.shell_line import ShellLine

            self.query_one("#main").mount(ShellLine(event.shell.line), before=0)
            self.refresh_bindings()
        for notice in event.notices:
            self.notify(notice, title="Note", timeout=10, markup=False)
        if event.completed:
            self.notify(f"Resuming: {len(event.completed)} of {len(self.lesson.steps)} steps were done.")
        if self.lesson.index(event.current) > 0:
            # `open` now checks the earlier steps again (and restarts their background commands).
            self.query_one(ChecksPanel).show_message("Checking that the earlier steps still hold on this cluster…")
        self._update_steps()

    def _drift_found(self, step: str, checks: tuple[events.StepCheck, ...]) -> None:
        self._drifted.add(step)
        self._update_steps()
        failing = [check.title for check in checks if not check.result.passed]
        self.notify(
            f"“{self.lesson.step(step).title}” was done before, but no longer holds on this cluster"
            + (f": {'; '.join(failing)}" if failing else "."),
            title="Drift",
            severity="warning",
            timeout=15,
            markup=False,
        )

    def _process_changed(self, event: events.ProcessChanged) -> None:
        self.runs.process_changed(event)
        if self._background_list is None:  # the first background command: the list appears
            self._background_list = BackgroundList()
            self.query_one("#sidebar").mount(self._background_list)
        self._background_list.set_state(event.process, event.state, event.detail)

    def _input_needed(self, event: events.InputNeeded) -> None:
        view = self.runs.view(event.run)
        if event.lent:
            # By the time this is drawn the learner has answered: say where the rest went.
            if view is not None:
                view.write(["(it asked for input, so it ran again on your terminal, outside this window)"])
            self.notify(f"`{event.text}` asked for input at the terminal.", title="Input", markup=False)
            return
        if view is not None:
            view.needs_you(event.prompt)
        self.notify(
            f"`{event.text}` is asking for input ({event.prompt.strip() or 'a password'}). "
            "Run it in your own terminal to answer; the tutor keeps watching.",
            title="Run it yourself",
            severity="warning",
            timeout=20,
            markup=False,
        )

    # --- drawing -------------------------------------------------------------------------

    def _step_states(self) -> dict[str, StepState]:
        session = self.session
        states: dict[str, StepState] = {}
        for step in self.lesson.steps:
            if session.progress.is_done(step.id):
                states[step.id] = "done"
            elif step.id in self._drifted:
                states[step.id] = "drifted"
            elif session.is_unlocked(step.id):
                states[step.id] = "open"
            else:
                states[step.id] = "locked"
        return states

    def _update_steps(self) -> None:
        self.query_one(StepList).update_steps(self._step_states(), self.current)

    def _view(self, step_id: str) -> StepView:
        view = self.step_views.get(step_id)
        if view is None:
            view = self._make_view(step_id)
            # A view may be built for a step not on screen (a background command restarted on
            # resume): the switcher only hides the children it had when it was mounted.
            view.display = False
            self.step_views[step_id] = view
            self.query_one("#steps", ContentSwitcher).mount(view)
        return view

    def _make_view(self, step_id: str) -> StepView:
        step = self.lesson.step(step_id)
        intro = self.lesson.intro if self.lesson.index(step_id) == 0 else ""
        view = StepView(
            step,
            text=self.session.text,
            variables=self.session.variables,
            intro=intro,
            answers=self.session.progress.answers,
        )
        view.set_runnable(self._can_run())
        return view

    def _show(self, step_id: str) -> None:
        view = self._view(step_id)
        self.current = step_id
        focused = self.focused
        self.query_one("#steps", ContentSwitcher).current = view.id
        if focused is None or isinstance(focused, StepView):
            view.focus()  # the step shown takes the keys the hidden one had
        self.query_one(LessonHeader).show_step(self.lesson.index(step_id) + 1, len(self.lesson.steps))
        self._update_steps()
        self._show_checks()
        self._show_done_bar()
        self._show_hints()
        self.refresh_bindings()

    def _show_checks(self) -> None:
        stopped = self._stopped
        self.query_one(ChecksPanel).show_results(
            self.session.results(self.current),
            explain=self.explain,
            heading="Done before, but no longer holds on this cluster:" if self.current in self._drifted else "",
            stopped=f"Autoplay stopped here: {stopped.reason}." if stopped and stopped.step == self.current else "",
        )

    def _show_done_bar(self) -> None:
        bar = self._done_bar
        if not self.session.progress.is_done(self.current):
            if bar is not None:
                bar.hide()
            return
        if bar is None:
            from tutor.ui.widgets.done_bar import StepDoneBar

            bar = self._done_bar = StepDoneBar()
            self.query_one("#main").mount(bar)
        index = self.lesson.index(self.current)
        last = index + 1 >= len(self.lesson.steps)
        bar.show_done(next_title=None if last else self.lesson.steps[index + 1].title, last=last)

    def _show_hints(self) -> None:
        # Filled in now, not when revealed: a port may have changed since.
        shown = [self.session.text(hint.markdown) for hint in self.session.hints_shown(self.current)]
        total = len(self.lesson.step(self.current).hints)
        # Called in the panel's turn, one after another; a call the app quits before is never made.
        self._hints_panel.call_later(self._hints_panel.show, shown, total)

    def _show_complete(self) -> None:
        if self._completed_shown:
            return
        self._completed_shown = True

        def answered(quit_app: bool | None) -> None:
            if quit_app:
                self.app.exit()

        from tutor.ui.screens.complete import LessonCompleteScreen

        outro = self.session.text(self.lesson.outro)
        self.app.push_screen(LessonCompleteScreen(self.lesson.title, len(self.lesson.steps), outro), answered)

    def watch_explain(self) -> None:
        if self.opened:
            self._show_checks()

    def watch_running(self) -> None:
        self._update_runnable()

    def _can_run(self) -> bool:
        # Before the session is open a run waits for it (autoplay runs everything itself).
        if self.opened and not self.session.runs_commands:
            return False  # a lesson from elsewhere, not trusted: it is read, not run
        return not self.running and (self.opened or not self.autoplay)

    def _update_runnable(self) -> None:
        runnable = self._can_run()
        for view in self.step_views.values():
            view.set_runnable(runnable)

    # --- what the learner's side answers (tutor/ui/screens/lesson.py) ------------------------

    def _port_taken(self, event: events.PortTaken) -> None:
        raise NotImplementedError

    def _variable_changed(self, event: events.VariableChanged) -> None:
        raise NotImplementedError

    def _map_changed(self, found: ObjectMap) -> None:
        raise NotImplementedError
