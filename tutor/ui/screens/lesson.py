"""The lesson screen: a view of one `LessonSession`.

It draws what the session says happened (its events, taken from the bridge on this
screen's thread) and calls the session's methods when the learner acts. It keeps no
lesson state of its own beyond what is on screen: which step is shown, which runs go
to which command's output, and the hints revealed so far.

Threads: the session is built in a worker after the first paint (building it loads the
kubernetes client, ~250 ms), and everything that blocks (open, running commands,
fast-forward, autoplay, even `show`, which may ask the cluster for its node address)
runs in thread workers that only post messages. Quitting closes the session, which
stops every process and watch, and so makes those workers return at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, ContentSwitcher

from tutor.lesson.model import Lesson, Step
from tutor.lesson.variables import substitute
from tutor.safe_text import strip_controls
from tutor.session.expected import expected_step
from tutor.session.setup import SessionRefused, Setup
from tutor.ui.bridge import EventBridge
from tutor.ui.messages import (
    CommandsFinished,
    PlayFinished,
    SessionBuilt,
    SessionEventsArrived,
    SessionOpened,
    SessionUnavailable,
    WorkFailed,
)
from tutor.ui.widgets.checks.checks_panel import ChecksPanel
from tutor.ui.widgets.checks.hints_panel import HintsPanel
from tutor.ui.widgets.footer.key_footer import KeyFooter
from tutor.ui.widgets.header.lesson_header import LessonHeader
from tutor.ui.widgets.sidebar.background_list import BackgroundList
from tutor.ui.widgets.sidebar.step_list import StepList, StepState
from tutor.ui.widgets.step.command_view import CommandView
from tutor.ui.widgets.step.step_view import StepView

# What only the session's life needs (its events, its modal screens, the terminal lender)
# is imported where it is used, after the first paint: ~10 ms less on the way to it.
if TYPE_CHECKING:
    from tutor.cluster.guard import GuardDecision
    from tutor.session.events import (
        AlreadyServed,
        AutoplayStopped,
        ChecksChanged,
        CommandFinished,
        CommandStarted,
        ConnectionChanged,
        DriftFound,
        InputNeeded,
        LessonCompleted,
        LessonOpened,
        Notice,
        OutputRepeated,
        PortTaken,
        ProcessChanged,
        ShellSetup,
        StepCompleted,
        StepShown,
        StepUnlocked,
        VariableChanged,
    )
    from tutor.session.session import LessonSession, Opening
    from tutor.ui.terminal import TerminalLender
    from tutor.ui.widgets.step.done_bar import StepDoneBar

log = logging.getLogger(__name__)

DRAIN_INTERVAL = 1 / 30
"""Under a flood of output, take the session's events at most this often (one repaint's worth)."""

Builder = Callable[[Lesson, Setup], "LessonSession"]


def build_session(lesson: Lesson, setup: Setup) -> LessonSession:
    # Imported here, on the worker's thread: this is what loads the kubernetes client.
    from tutor.session import factory

    return factory.build_session(lesson, setup)


class LessonScreen(Screen[None]):
    # Narrow terminals lose the step list (n and p still move), wide ones get roomier side panels.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (150, "-wide")]  # noqa: RUF012 (Textual types it as an instance attribute)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_step", "Run step"),
        Binding("n", "next_step", "Next"),
        Binding("p", "previous_step", "Previous"),
        Binding("h", "hint", "Hint"),
        Binding("e", "explain", "Explain"),
        Binding("o", "change_port", "Port"),
        Binding("s", "shell", "Your terminal"),
        Binding("q", "app.quit", "Quit", key_display="q/^q"),
    ]

    _shown_once = False
    """Whether Textual has shown this screen yet (see post_message)."""

    running: reactive[bool] = reactive(False, bindings=True)
    """A run the learner started, a fast-forward or autoplay is under way: one at a time."""
    explain: reactive[bool] = reactive(False)

    def __init__(
        self,
        lesson: Lesson,
        setup: Setup,
        *,
        step_id: str | None = None,
        autoplay: bool = False,
        build: Builder = build_session,
        prepare: Callable[[], object] | None = None,
    ) -> None:
        """`prepare` runs on the app thread before the session is built (the CLI's exit handlers)."""
        super().__init__(id="lesson-screen")
        self.lesson = lesson
        self.setup = setup
        self.step_id = step_id
        self.autoplay = autoplay
        self._build = build
        self._prepare = prepare
        self.session: LessonSession | None = None
        self._first_variables = setup.variables(lesson)
        """The session's variables before it exists: the first paint needs no session to fill in
        the text. Afterwards the session's own are used: they may change (another port)."""
        self.expected = expected_step(lesson, setup, step_id)
        """The step drawn at the first paint: where the session will most likely open."""
        self.bridge: EventBridge | None = None
        self.opened = False
        self.current: str | None = None
        """The session's `viewing`, as last told by StepShown (None until then)."""
        self._pending: tuple[str, int | None] | None = None
        """A run the learner asked for before the session was open: (step, command or None)."""
        self.step_views: dict[str, StepView] = {}
        self._runs: dict[str, CommandView] = {}
        self._processes: dict[str, CommandView] = {}
        self._claims: dict[tuple[str, str], CommandView] = {}
        self._run_order = 0
        self._hints: dict[str, list[str]] = {}
        self._drifted: set[str] = set()
        self._stopped: AutoplayStopped | None = None
        self._completed_shown = False
        self._drain_timer: Timer | None = None
        self._last_drain = 0.0
        # Quitting may race the worker that builds the session: whoever comes second closes it.
        self._quitting = threading.Event()
        self._session_lock = threading.Lock()
        self._built: LessonSession | None = None
        self._lender: TerminalLender | None = None
        # Mounted when first needed, to keep the first paint light.
        self._done_bar: StepDoneBar | None = None
        self._background_list: BackgroundList | None = None
        self._hints_panel = HintsPanel(len(lesson.step(self.expected).hints))
        self._shell: ShellSetup | None = None
        self._rerun: tuple[str, str, int] | None = None
        """After the learner picks another port: (variable, step, command index) to run again."""
        self._rerun_due: tuple[str, int] | None = None
        """That run, once the port has changed: started as soon as no other run is under way."""

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The breakpoint's class now, as the first Resize would set it: set then, it restyles
        # every widget on screen once more before the first frame.
        width = self.app.size.width
        size_class = next(name for edge, name in sorted(self.HORIZONTAL_BREAKPOINTS, reverse=True) if width >= edge)
        self.add_class(size_class, update=False)  # nothing is styled yet: each widget is, as it mounts
        # The first paint is the lesson as the learner will use it, from the lesson alone:
        # the expected step's text and commands, which need no session to be drawn.
        position = (self.lesson.index(self.expected) + 1, len(self.lesson.steps))
        yield LessonHeader(self.lesson.title, sandbox=self.setup.sandbox, position=position)
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield StepList(self.lesson, current=self.expected)
            first = self.step_views[self.expected] = self._make_view(self.expected)
            with Vertical(id="main"), ContentSwitcher(id="steps", initial=first.id):
                yield first
            with Vertical(id="side"):
                yield ChecksPanel()
                yield self._hints_panel
        yield KeyFooter()

    def post_message(self, message: Message) -> bool:
        # Textual restyles every widget of a screen each time it is shown (ScreenResume), for
        # what may have changed while it was hidden. The first time, every widget was styled
        # as it mounted, a moment before, with nothing changed since: ~8 ms of the first paint.
        # tests/ui/test_snapshots.py checks that the first paint is the same without it.
        if isinstance(message, events.ScreenResume) and not self._shown_once:
            self._shown_once = True
            message = events.ScreenResume(refresh_styles=False)
        return super().post_message(message)

    @property
    def shown_step(self) -> str:
        """The step on screen: the expected one until the session says which."""
        return self.current or self.expected

    def on_mount(self) -> None:
        self.query_one(ChecksPanel).show_message("Connecting to the cluster…")
        if not self.app.is_headless:
            from tutor.ui.terminal import TerminalLender

            self._lender = TerminalLender(self.app)
        self.call_after_refresh(self._connect_once_painted)

    def _connect_once_painted(self) -> None:
        # Building the session loads the kubernetes client (~250 ms of CPU): on two cores it
        # competes for the GIL with drawing, so it waits until the step is on screen.
        # Textual's Markdown (prose that is more than headings and paragraphs) mounts its blocks
        # a frame after itself; named by type, so that this module does not import it.
        if not all(markdown.children for markdown in self.step_views[self.expected].query("Markdown")):
            self.call_after_refresh(self._connect_once_painted)
            return
        self.call_after_refresh(self._connect)  # the frame that draws the step's blocks first

    @property
    def variables(self) -> Mapping[str, str]:
        return self.session.variables if self.session is not None else self._first_variables

    def _text(self, markdown: str) -> str:
        return substitute(markdown, self.variables, strict=False)

    # --- the session's life ------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="session", name="connect")
    def _connect(self) -> None:
        if self._prepare is not None:
            try:
                self.app.call_from_thread(self._prepare)
            except Exception as err:
                self.post_message(SessionUnavailable(f"could not start the lesson: {err}"))
                return
        setup = self.setup
        setup.terminal = self._lender
        setup.confirm = self._confirm_cluster
        setup.ask_trust = self._ask_trust
        try:
            session = self._build(self.lesson, setup)
        except Exception as err:
            refused = isinstance(err, SessionRefused)
            if not refused:
                log.exception("building the session failed")
            self.post_message(SessionUnavailable(str(err) if refused else f"could not start the lesson: {err}"))
            return
        with self._session_lock:
            if self._quitting.is_set():
                session.close()
                return
            self._built = session
        bridge = EventBridge(lambda: self.post_message(SessionEventsArrived()))
        if self._lender is not None:
            session.subscribe(self._lender.on_event)
        session.subscribe(bridge)
        self.post_message(SessionBuilt(session, bridge))
        try:
            opening = session.open(self.step_id)
        except Exception as err:
            log.exception("opening the lesson failed")
            self.post_message(WorkFailed("opening the lesson", err))
            return
        self.post_message(SessionOpened(opening))

    def _confirm_cluster(self, decision: GuardDecision) -> bool:
        from tutor.ui.questions import ask_from_thread
        from tutor.ui.screens.question import QuestionScreen

        question = QuestionScreen(
            "A cluster that is not local", decision.message, yes="Use it anyway", no="Quit", default=False
        )
        return ask_from_thread(self.app, question, self._quitting)

    def _ask_trust(self, explanation: str) -> bool:
        from tutor.ui.questions import ask_from_thread
        from tutor.ui.screens.question import CautiousQuestionScreen

        question = CautiousQuestionScreen("A lesson from elsewhere", explanation, yes="Trust it", no="Only read it")
        return ask_from_thread(self.app, question, self._quitting)

    def stop_drawing(self) -> None:
        """The app is exiting: draw no more of the session's events (the widgets they would
        change are being taken down) and answer no more questions. Cheap; idempotent."""
        self._quitting.set()
        if self.bridge is not None:
            self.bridge.close()
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None

    def close_session(self) -> None:
        """Stop every process and watch; the workers blocked on them return. Idempotent."""
        with self._session_lock:
            self.stop_drawing()
            session = self._built
        if session is not None:
            session.close()

    def on_unmount(self) -> None:
        self.close_session()

    def on_session_built(self, message: SessionBuilt) -> None:
        self.session = message.session
        self.bridge = message.bridge
        # Hints revealed before the session existed: the session counts them too.
        for step_id, hints in self._hints.items():
            for _ in hints:
                self.session.hint(step_id)

    def on_session_unavailable(self, message: SessionUnavailable) -> None:
        self.query_one(LessonHeader).show_unavailable()
        self.query_one(ChecksPanel).show_message(strip_controls(message.reason), "bold red")
        # Printed on the bare terminal once the app is gone: plain text, and nothing else.
        self.app.exit(return_code=2, message=Text(strip_controls(f"k8s-tutor: {message.reason}")))

    def on_session_opened(self, message: SessionOpened) -> None:
        self.opened = True
        opening = message.opening
        self._update_runnable()
        self.refresh_bindings()
        if self.autoplay:
            self._play(opening, autoplay=True)
        elif opening.missing and self.session is not None and self.session.runs_commands:
            self._offer_fast_forward(opening)
        else:
            self._run_pending(opening.current)

    def _run_pending(self, step_id: str) -> None:
        """Start the run the learner asked for before the session was open, if it still applies."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        pending_step, index = pending
        if pending_step != step_id:
            # The lesson opened on another step (resumed further on, or drift): not what was pressed.
            self._clear_pending(pending_step)
            self.running = False
            self.notify(
                f"The lesson opened on “{self.lesson.step(step_id).title}”: run its commands from there.", markup=False
            )
            return
        self._start_run(self.lesson.step(step_id), index)

    def _clear_pending(self, step_id: str) -> None:
        for view in self._view(step_id).command_views:
            view.unqueue()

    def _offer_fast_forward(self, opening: Opening) -> None:
        from tutor.ui.screens.question import QuestionScreen

        lesson = self.lesson
        titles = "\n".join(f"  • {lesson.step(step_id).title}" for step_id in opening.missing)
        question = QuestionScreen(
            "Replay",
            f"Before “{lesson.step(opening.current).title}”, these steps are not done on this cluster:\n\n"
            f"{titles}\n\nFast-forward runs their commands and waits for their checks. "
            "Or continue anyway, and do them yourself.",
            yes="Fast-forward",
            no="Continue anyway",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                if self._pending is not None:
                    self._clear_pending(self._pending[0])
                    self._pending = None
                self._play(opening, autoplay=False)
            else:
                self._run_pending(opening.current)

        self.app.push_screen(question, answered)

    def _play(self, opening: Opening, *, autoplay: bool) -> None:
        self.running = True
        self._play_worker(opening, autoplay)

    @work(thread=True, exit_on_error=False, group="play", name="play")
    def _play_worker(self, opening: Opening, autoplay: bool) -> None:
        session = self.session
        ok = False
        try:
            assert session is not None
            ok = True
            if opening.missing:
                ok = session.play(opening.missing)
                if ok and not self._quitting.is_set():
                    session.show(opening.current)
            if ok and autoplay:
                ok = session.autoplay()
        except Exception as err:
            log.exception("playing the lesson failed")
            self.post_message(WorkFailed("autoplay" if autoplay else "fast-forward", err))
        finally:
            self.post_message(PlayFinished(ok, autoplay=autoplay))

    def on_play_finished(self, message: PlayFinished) -> None:
        self.running = False
        self._run_due()
        if message.autoplay and message.ok:
            self.notify("Autoplay finished: every step's checks pass.", title="Autoplay")
        elif not message.ok and not self._quitting.is_set():
            what = "Autoplay" if message.autoplay else "Fast-forward"
            self.notify(f"{what} stopped: the checks panel says why.", severity="warning")

    def on_work_failed(self, message: WorkFailed) -> None:
        if self._pending is not None:
            self._clear_pending(self._pending[0])
            self._pending = None
        self.running = False
        self.notify(f"{message.what} failed: {message.error}", severity="error", timeout=10, markup=False)
        if not self.opened:
            # Nothing else will replace "Connecting…": say what happened where the learner looks.
            self.query_one(ChecksPanel).show_message(f"{message.what} failed: {message.error}", "bold red")

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
        if self.bridge is None or self._quitting.is_set():
            return
        from tutor.session.events import OutputLine

        output: dict[str, list[str]] = {}
        for event in self.bridge.take():
            if isinstance(event, OutputLine):
                output.setdefault(event.run, []).append(event.text)
                continue
            self._write_output(output)
            handler = getattr(self, f"_on_{type(event).__name__}", None)
            if handler is not None:
                try:
                    handler(event)
                except Exception:  # one badly drawn event must not take the lesson down
                    log.exception("drawing %s failed", event)
        self._write_output(output)

    def _write_output(self, output: dict[str, list[str]]) -> None:
        for run, lines in output.items():
            view = self._runs.get(run)
            if view is not None:
                view.write(lines)
        output.clear()

    def _on_LessonOpened(self, event: LessonOpened) -> None:
        self.query_one(LessonHeader).show_cluster(sandbox=event.sandbox)
        if event.shell is not None and self._shell is None:
            from tutor.ui.widgets.header.shell_line import ShellLine

            self._shell = event.shell
            self.query_one("#main").mount(ShellLine(event.shell.line), before=0)
            self.refresh_bindings()
        for notice in event.notices:
            self.notify(notice, title="Note", timeout=10, markup=False)
        if event.completed:
            self.notify(f"Resuming: {len(event.completed)} of {len(self.lesson.steps)} steps were done.")
        if self.current is None and self.lesson.index(event.current) > 0:
            # `open` now checks the earlier steps again (and restarts their background commands).
            self.query_one(ChecksPanel).show_message("Checking that the earlier steps still hold on this cluster…")
        self._update_steps()

    def _on_ConnectionChanged(self, event: ConnectionChanged) -> None:
        self.query_one(LessonHeader).show_connection(event.state, event.detail, event.context, event.server)

    def _on_StepShown(self, event: StepShown) -> None:
        self._show(event.step)

    def _on_ChecksChanged(self, event: ChecksChanged) -> None:
        if event.step == self.current:
            self._show_checks()

    def _on_StepCompleted(self, event: StepCompleted) -> None:
        self._drifted.discard(event.step)
        self._update_steps()
        if event.step == self.current:
            self._show_checks()
            self._show_done_bar()
        self.refresh_bindings()

    def _on_StepUnlocked(self, event: StepUnlocked) -> None:
        self._update_steps()
        self.refresh_bindings()

    def _on_LessonCompleted(self, event: LessonCompleted) -> None:
        self._update_steps()
        self._show_done_bar()
        self._show_complete()

    def _on_DriftFound(self, event: DriftFound) -> None:
        self._drifted.add(event.step)
        self._update_steps()
        failing = [r.title for r in event.results if r.status != "pass"]
        self.notify(
            f"“{self.lesson.step(event.step).title}” was done before, but no longer holds on this cluster"
            + (f": {'; '.join(failing)}" if failing else "."),
            title="Drift",
            severity="warning",
            timeout=15,
            markup=False,
        )

    def _on_CommandStarted(self, event: CommandStarted) -> None:
        view = self._view_for_run(event.step, event.text)
        if view is None:
            return
        self._run_order += 1
        view.started(self._run_order)
        if event.step == self.current:
            # Bring the running command into view; its output then scrolls by itself.
            view.scroll_visible(animate=False)
        self._runs[event.run] = view
        if event.background:
            self._processes[view.command.id or event.run] = view

    def _on_CommandFinished(self, event: CommandFinished) -> None:
        view = self._runs.get(event.run)
        if view is not None:
            view.finished(event.ok, event.exit_status, event.detail)

    def _on_ProcessChanged(self, event: ProcessChanged) -> None:
        view = self._processes.get(event.process)
        if view is not None:
            view.process_changed(event.state, event.detail)
        if self._background_list is None:  # the first background command: the list appears
            self._background_list = BackgroundList()
            self.query_one("#sidebar").mount(self._background_list)
        self._background_list.set_state(event.process, event.state, event.detail)

    def _on_OutputRepeated(self, event: OutputRepeated) -> None:
        view = self._runs.get(event.run)
        if view is not None:
            view.repeated(event.text, event.count)

    def _on_PortTaken(self, event: PortTaken) -> None:
        view = self._runs.get(event.run)
        if view is not None:
            view.port_taken(event.use.describe(), event.variable is not None)
        if event.variable is None or self.autoplay:
            self.notify(
                f"{event.process} was not started: {event.use.describe()}.",
                title="Port taken",
                severity="warning",
                timeout=20,
            )
            return
        index = view.index if view is not None else None
        self._ask_port(
            event.variable,
            f"{event.process} was not started: {event.use.describe()}.",
            event.suggestion,
            (event.step, index),
        )

    def _on_AlreadyServed(self, event: AlreadyServed) -> None:
        view = self._runs.get(event.run)
        if view is not None:
            view.already_served(event.port)

    def _on_VariableChanged(self, event: VariableChanged) -> None:
        for view in self.step_views.values():
            view.retext(self._text, self.variables)
        self._show_hints()
        self.notify(f"{event.name} is now {event.value}: the commands and checks use it from now on.", timeout=8)
        rerun, self._rerun = self._rerun, None
        if rerun is not None and rerun[0] == event.name:
            self._rerun_due = (rerun[1], rerun[2])
            if not self._can_run():
                self._view(rerun[1]).command_views[rerun[2]].queued(
                    "runs on the new port once the command running now ends"
                )
            self._run_due()

    def _run_due(self) -> None:
        """Run the command that waited for another port, once nothing else runs."""
        due = self._rerun_due
        if due is not None and self._can_run():
            self._rerun_due = None
            self._start_run(self.lesson.step(due[0]), due[1])

    def _on_InputNeeded(self, event: InputNeeded) -> None:
        view = self._runs.get(event.run)
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

    def _on_Notice(self, event: Notice) -> None:
        self.notify(
            event.text, severity="information" if event.level == "info" else event.level, timeout=10, markup=False
        )

    def _on_AutoplayStopped(self, event: AutoplayStopped) -> None:
        self._stopped = event
        self.explain = True
        if event.step == self.current:
            self._show_checks()

    # --- drawing -------------------------------------------------------------------------

    def _step_states(self) -> dict[str, StepState]:
        session = self.session
        if session is None:
            return {}
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
        view = StepView(step, text=self._text, variables=self.variables, intro=intro)
        view.set_runnable(self._can_run())
        return view

    def _show(self, step_id: str) -> None:
        view = self._view(step_id)
        self.current = step_id
        self.query_one("#steps", ContentSwitcher).current = view.id
        self.query_one(LessonHeader).show_step(self.lesson.index(step_id) + 1, len(self.lesson.steps))
        self._update_steps()
        self._show_checks()
        self._show_done_bar()
        self._show_hints()
        self.refresh_bindings()

    def _show_checks(self) -> None:
        if self.session is None or self.current is None:
            return
        stopped = self._stopped
        self.query_one(ChecksPanel).show_results(
            self.session.results(self.current),
            explain=self.explain,
            heading="Done before, but no longer holds on this cluster:" if self.current in self._drifted else "",
            stopped=f"Autoplay stopped here: {stopped.reason}." if stopped and stopped.step == self.current else "",
        )

    def _show_done_bar(self) -> None:
        bar = self._done_bar
        session = self.session
        if session is None or self.current is None or not session.progress.is_done(self.current):
            if bar is not None:
                bar.hide()
            return
        if bar is None:
            from tutor.ui.widgets.step.done_bar import StepDoneBar

            bar = self._done_bar = StepDoneBar()
            self.query_one("#main").mount(bar)
        index = self.lesson.index(self.current)
        last = index + 1 >= len(self.lesson.steps)
        bar.show_done(next_title=None if last else self.lesson.steps[index + 1].title, last=last)

    def _show_hints(self) -> None:
        step = self.lesson.step(self.shown_step)
        # Filled in now, not when revealed: a port may have changed since.
        shown = [self._text(markdown) for markdown in self._hints.get(step.id, [])]
        self.run_worker(self._hints_panel.show(shown, len(step.hints)), group="hints")

    def _show_complete(self) -> None:
        if self._completed_shown:
            return
        self._completed_shown = True

        def answered(quit_app: bool | None) -> None:
            if quit_app:
                self.app.exit()

        from tutor.ui.screens.complete import LessonCompleteScreen

        outro = self._text(self.lesson.outro)
        self.app.push_screen(LessonCompleteScreen(self.lesson.title, len(self.lesson.steps), outro), answered)

    def watch_explain(self) -> None:
        self._show_checks()

    def watch_running(self) -> None:
        self._update_runnable()

    def _can_run(self) -> bool:
        # Before the session is open a run waits for it (autoplay runs everything itself).
        if self.session is not None and not self.session.runs_commands:
            return False  # a lesson from elsewhere, not trusted: it is read, not run
        return not self.running and (self.opened or not self.autoplay)

    def _update_runnable(self) -> None:
        runnable = self._can_run()
        for view in self.step_views.values():
            view.set_runnable(runnable)

    # --- which command a run belongs to ------------------------------------------------------

    def _view_for_run(self, step_id: str, text: str) -> CommandView | None:
        """The command a run started for: the one the learner pressed, else the least recently run.

        A step may hold the same command twice (`kubectl get storageclass` before and
        after the patches); running the step runs them in order, and the least recently
        started of the matching commands is the next one in that order.
        """
        claimed = self._claims.pop((step_id, text), None)
        if claimed is not None:
            return claimed
        candidates = [view for view in self._view(step_id).command_views if view.text == text]
        if not candidates:
            return None
        return min(candidates, key=lambda view: (view.last_started, view.index))

    # --- the learner's actions -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        session = self.session
        if action == "next_step":
            return True if session is not None and self.current and session.next_step() is not None else None
        if action == "previous_step":
            return True if self.current and self.lesson.index(self.current) > 0 else None
        if action == "run_step":
            return True if self._can_run() and self.lesson.step(self.shown_step).runnable else None
        if action == "change_port":
            # Only where a command of the step listens on a port the lesson lets the learner move.
            return session is not None and self._port_command(self.shown_step) is not None
        if action == "shell":
            return self._shell is not None
        return True

    def action_run_step(self) -> None:
        if self._can_run():
            self._request_run(self.shown_step, None)

    @on(CommandView.RunPressed)
    def run_one(self, message: CommandView.RunPressed) -> None:
        if self._can_run():
            self._request_run(message.step_id, message.index)

    def _request_run(self, step_id: str, index: int | None) -> None:
        self.running = True
        if self.opened:
            self._start_run(self.lesson.step(step_id), index)
            return
        # Not connected yet: the run waits for the session, and says so where it was asked for.
        self._pending = (step_id, index)
        views = self._view(step_id).command_views
        for view in views if index is None else [views[index]]:
            view.queued()

    def _start_run(self, step: Step, index: int | None) -> None:
        if index is not None:
            view = self._view(step.id).command_views[index]
            self._claims[(step.id, view.text)] = view
        self.running = True
        self._run_worker(step, index)

    @work(thread=True, exit_on_error=False, group="run", name="run")
    def _run_worker(self, step: Step, index: int | None) -> None:
        session = self.session
        try:
            assert session is not None
            if index is None:
                session.run_step(step.id)
            else:
                session.run_command(step, step.commands[index])
        except Exception as err:
            log.exception("running %s failed", step.id)
            self.post_message(WorkFailed("running the commands", err))
        finally:
            self.post_message(CommandsFinished(step.id))

    def on_commands_finished(self, _: CommandsFinished) -> None:
        self.running = False
        self._run_due()

    def action_next_step(self) -> None:
        following = self.session.next_step() if self.session is not None else None
        if following is not None:
            self._navigate(following.id)

    def action_previous_step(self) -> None:
        if self.current is None:
            return
        index = self.lesson.index(self.current)
        if index > 0:
            self._navigate(self.lesson.steps[index - 1].id)

    @on(StepList.StepChosen)
    def step_chosen(self, message: StepList.StepChosen) -> None:
        if message.step_id != self.current:
            self._navigate(message.step_id)

    def _navigate(self, step_id: str) -> None:
        session = self.session
        if session is None:
            return
        if not session.is_unlocked(step_id):
            frontier = session.frontier
            self.notify(f"That step unlocks when “{frontier.title if frontier else ''}” is done.", markup=False)
            return
        self._show_worker(step_id)

    @work(thread=True, exit_on_error=False, group="navigate", name="show")
    def _show_worker(self, step_id: str) -> None:
        # `show` may ask the cluster for the node's address: never on the app thread.
        session = self.session
        try:
            assert session is not None
            session.show(step_id)
        except ValueError as err:  # locked meanwhile
            self.post_message(WorkFailed("showing the step", err))

    def action_hint(self) -> None:
        session = self.session
        step = self.lesson.step(self.shown_step)
        if session is not None:
            hint = session.hint(step.id)
        else:  # before the session: the same order, counted here until it exists
            shown = len(self._hints.get(step.id, []))
            hint = step.hints[shown] if shown < len(step.hints) else None
        if hint is None:
            self.notify("No more hints for this step." if step.hints else "This step has no hints.")
            return
        self._hints.setdefault(step.id, []).append(hint.markdown)
        self._show_hints()

    def action_explain(self) -> None:
        self.explain = not self.explain

    def action_shell(self) -> None:
        if self._shell is not None:
            from tutor.ui.screens.shell import ShellScreen

            self.app.push_screen(ShellScreen(self._shell.line, self._shell.about))

    def _port_command(self, step_id: str) -> tuple[str, int] | None:
        """The step's command whose port the learner may move: (its variable, its index)."""
        for index, command in enumerate(self.lesson.step(step_id).commands):
            if command.port_variable is not None:
                return command.port_variable, index
        return None

    def action_change_port(self) -> None:
        found = self._port_command(self.shown_step)
        if found is None or self.session is None:
            return
        variable, _ = found
        self._ask_port(variable, f"Port {self.variables.get(variable)} is the one in use now.", None, None)

    def _ask_port(self, variable: str, why: str, suggestion: int | None, rerun: tuple[str, int | None] | None) -> None:
        """Ask for another port; once the session has it, run the command that could not start again."""
        session = self.session
        if session is None:
            return
        from tutor.ui.screens.port import PortScreen

        def chosen(value: str | None) -> None:
            if value is None:
                return
            again = (rerun[0], rerun[1]) if rerun is not None and rerun[1] is not None else None
            if value.strip() == self.variables.get(variable):
                # The same port: nothing changes; run it again if asked (it may be free by now).
                self._rerun_due = again
                self._run_due()
                return
            if again is not None:
                self._rerun = (variable, *again)
            self._set_variable(variable, value)

        self.app.push_screen(PortScreen(variable, why, suggestion, session.variable_problem), chosen)

    @work(thread=True, exit_on_error=False, group="variables", name="set variable")
    def _set_variable(self, name: str, value: str) -> None:
        # Stopping a forward on the old port waits for it: never on the app thread.
        from tutor.session.session import BadVariable

        session = self.session
        try:
            assert session is not None
            session.set_variable(name, value)
        except BadVariable as err:
            self._rerun = None
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=10)

    @on(Button.Pressed, "#hint-button")
    def hint_pressed(self) -> None:
        self.action_hint()

    @on(Button.Pressed, "#next-button")
    def next_pressed(self) -> None:
        session = self.session
        if session is not None and session.frontier is None and self.current == self.lesson.steps[-1].id:
            self._completed_shown = False
            self._show_complete()
        else:
            self.action_next_step()

    # --- for tests and the benchmark -----------------------------------------------------------

    def command_view(self, step_id: str, index: int) -> CommandView:
        return self._view(step_id).command_views[index]

    def checks(self) -> Sequence[Any]:
        return self.query_one(ChecksPanel).results
