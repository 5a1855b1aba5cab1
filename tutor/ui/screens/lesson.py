"""The lesson screen: a view of one `LessonSession`.

It draws what the session says happened (its events, taken from the bridge on this
screen's thread) and calls the session's methods when the learner acts. The session
exists from the start, before its cluster: the first paint is the step it will open on,
with its variables filled in. It keeps no lesson state of its own beyond what is on
screen: which step is shown and which command each run draws into (`CommandRuns`).

Threads: after the first paint a worker attaches the cluster (loading the kubernetes
client, ~250 ms, and asking the learner what must be asked) and opens the lesson;
everything that blocks (running commands, autoplay, even `show`, which may ask the
cluster for its node address) runs in thread workers that only post messages. Quitting
closes the session, which stops every process and watch, and so makes those workers
return at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, assert_never

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Button, ContentSwitcher

from tutor.safe_text import strip_controls
from tutor.session.events import (
    AlreadyServed,
    AutoplayStopped,
    ChecksChanged,
    CommandFinished,
    CommandStarted,
    ConnectionChanged,
    DriftFound,
    Event,
    HintShown,
    InputNeeded,
    LessonCompleted,
    LessonOpened,
    Notice,
    OutputLine,
    PortTaken,
    ProcessChanged,
    StepCheck,
    StepCompleted,
    StepRunning,
    StepShown,
    VariableChanged,
)
from tutor.session.session import LessonSession, Opening
from tutor.session.setup import SessionRefused, Setup
from tutor.ui.bridge import EventBridge
from tutor.ui.command_runs import CommandRuns
from tutor.ui.messages import AutoplayFinished, CommandsFinished, SessionEventsArrived, SessionOpened, WorkFailed
from tutor.ui.widgets.background_list import BackgroundList
from tutor.ui.widgets.checks_panel import ChecksPanel
from tutor.ui.widgets.command_view import CommandView
from tutor.ui.widgets.hints_panel import HintsPanel
from tutor.ui.widgets.key_footer import KeyFooter
from tutor.ui.widgets.lesson_header import LessonHeader
from tutor.ui.widgets.step_list import StepList, StepState
from tutor.ui.widgets.step_view import StepView

# What only the session's life needs (its modal screens, the terminal lender) is imported
# where it is used, after the first paint.
if TYPE_CHECKING:
    from tutor.cluster.guard import GuardDecision
    from tutor.ui.terminal import TerminalLender
    from tutor.ui.widgets.done_bar import StepDoneBar

log = logging.getLogger(__name__)

DRAIN_INTERVAL = 1 / 30
"""Under a flood of output, take the session's events at most this often (one repaint's worth)."""

Attach = Callable[[LessonSession, Setup], None]


def attach_cluster(session: LessonSession, setup: Setup) -> None:
    # Imported here, on the worker's thread: this is what loads the kubernetes client.
    from tutor.session import factory

    factory.attach_cluster(session, setup)


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
        session: LessonSession,
        setup: Setup,
        *,
        autoplay: bool = False,
        attach: Attach = attach_cluster,
        prepare: Callable[[], object] | None = None,
    ) -> None:
        """`prepare` runs on the app thread before the cluster is attached (the CLI's exit handlers)."""
        super().__init__(id="lesson-screen")
        self.session = session
        self.lesson = session.lesson
        self.setup = setup
        self.autoplay = autoplay
        self._attach_cluster = attach
        self._prepare = prepare
        self.bridge = EventBridge(lambda: self.post_message(SessionEventsArrived()))
        self.opened = False
        self.current = session.viewing.id
        """The step on screen: the session's `viewing`, as last told by StepShown."""
        self.step_views: dict[str, StepView] = {}
        self.runs = CommandRuns(lambda step_id: self._view(step_id).command_views)
        self._drifted: set[str] = set()
        self._stopped: AutoplayStopped | None = None
        self._completed_shown = False
        self._drain_timer: Timer | None = None
        self._last_drain = 0.0
        self._quitting = threading.Event()
        self._lender: TerminalLender | None = None
        # Mounted when first needed, to keep the first paint light.
        self._done_bar: StepDoneBar | None = None
        self._background_list: BackgroundList | None = None
        self._hints_panel = HintsPanel(len(session.viewing.hints))
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

    def post_message(self, message: Message) -> bool:
        # Textual restyles every widget of a screen each time it is shown (ScreenResume), for
        # what may have changed while it was hidden. The first time, every widget was styled
        # as it mounted, a moment before, with nothing changed since: ~8 ms of the first paint.
        # tests/ui/test_snapshots.py checks that the first paint is the same without it.
        if isinstance(message, events.ScreenResume) and not self._shown_once:
            self._shown_once = True
            message = events.ScreenResume(refresh_styles=False)
        return super().post_message(message)

    def on_mount(self) -> None:
        self.query_one(ChecksPanel).show_message("Connecting to the cluster…")
        self.session.subscribe(self.bridge)
        if not self.app.is_headless:
            from tutor.ui.terminal import TerminalLender

            self._lender = TerminalLender(self.app)
            self.session.subscribe(self._lender.on_event)
        self.call_after_refresh(self._connect_once_painted)

    def _connect_once_painted(self) -> None:
        # Attaching the cluster loads the kubernetes client (~250 ms of CPU): on two cores it
        # competes for the GIL with drawing, so it waits until the step is on screen.
        # Textual's Markdown (prose that is more than headings and paragraphs) mounts its blocks
        # a frame after itself; named by type, so that this module does not import it.
        if not all(markdown.children for markdown in self.step_views[self.current].query("Markdown")):
            self.call_after_refresh(self._connect_once_painted)
            return
        self.call_after_refresh(self._connect)  # the frame that draws the step's blocks first

    # --- the session's life ------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="session", name="connect")
    def _connect(self) -> None:
        session, setup = self.session, self.setup
        try:
            if self._prepare is not None:
                self.app.call_from_thread(self._prepare)
            setup.terminal, setup.confirm, setup.ask_trust = self._lender, self._confirm_cluster, self._ask_trust
            self._attach_cluster(session, setup)
        except Exception as err:
            if not isinstance(err, SessionRefused):
                log.exception("attaching the cluster failed")
            reason = str(err) if isinstance(err, SessionRefused) else f"could not start the lesson: {err}"
            self.app.call_from_thread(self._unavailable, reason)
            return
        try:
            opening = session.open(fast_forward=(lambda _: True) if self.autoplay else self._fast_forward)
            self.post_message(SessionOpened(opening))
            if self.autoplay:
                ok = opening.fast_forwarded is not False and session.autoplay()
                self.post_message(AutoplayFinished(ok))
        except Exception as err:
            log.exception("opening the lesson failed")
            self.post_message(WorkFailed("opening the lesson", err))

    def _ask(self, question: ModalScreen[bool]) -> bool:
        from tutor.ui.questions import ask_from_thread

        return ask_from_thread(self.app, question, self._quitting)

    def _confirm_cluster(self, decision: GuardDecision) -> bool:
        from tutor.ui.screens.question import QuestionScreen

        return self._ask(
            QuestionScreen(
                "A cluster that is not local", decision.message, yes="Use it anyway", no="Quit", default=False
            )
        )

    def _ask_trust(self, explanation: str) -> bool:
        from tutor.ui.screens.question import CautiousQuestionScreen

        return self._ask(
            CautiousQuestionScreen("A lesson from elsewhere", explanation, yes="Trust it", no="Only read it")
        )

    def _fast_forward(self, opening: Opening) -> bool:
        from tutor.ui.screens.question import QuestionScreen

        lesson = self.lesson
        titles = "\n".join(f"  • {lesson.step(step_id).title}" for step_id in opening.missing)
        return self._ask(
            QuestionScreen(
                "Replay",
                f"Before “{lesson.step(opening.current).title}”, these steps are not done on this cluster:\n\n"
                f"{titles}\n\nFast-forward runs their commands and waits for their checks. "
                "Or continue anyway, and do them yourself.",
                yes="Fast-forward",
                no="Continue anyway",
            )
        )

    def _unavailable(self, reason: str) -> None:
        self.query_one(LessonHeader).show_unavailable()
        self.query_one(ChecksPanel).show_message(strip_controls(reason), "bold red")
        # Printed on the bare terminal once the app is gone: plain text, and nothing else.
        self.app.exit(return_code=2, message=Text(strip_controls(f"k8s-tutor: {reason}")))

    def stop_drawing(self) -> None:
        """The app is exiting: draw no more of the session's events (the widgets they would
        change are being taken down) and answer no more questions. Cheap; idempotent."""
        self._quitting.set()
        self.bridge.close()
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None

    def on_unmount(self) -> None:
        # Stops every process and watch: the workers blocked on them return.
        self.stop_drawing()
        self.session.close()

    def on_session_opened(self, message: SessionOpened) -> None:
        self.opened = True
        self.running = self.running or self.autoplay
        self._update_runnable()
        self.refresh_bindings()
        if message.opening.fast_forwarded is False and not self.autoplay:
            self.notify("Fast-forward stopped: the checks panel says why.", severity="warning")

    def on_autoplay_finished(self, message: AutoplayFinished) -> None:
        self.running = False
        self._run_due()
        if message.ok:
            self.notify("Autoplay finished: every step's checks pass.", title="Autoplay")
        elif not self._quitting.is_set():
            self.notify("Autoplay stopped: the checks panel says why.", severity="warning")

    def on_work_failed(self, message: WorkFailed) -> None:
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
        if self._quitting.is_set():
            return
        output: dict[str, list[str]] = {}
        for event in self.bridge.take():
            if isinstance(event, OutputLine) and event.count == 1:
                output.setdefault(event.run, []).append(event.text)
                continue
            self.runs.write(output)
            output.clear()
            try:
                self._draw(event)
            except Exception:  # one badly drawn event must not take the lesson down
                log.exception("drawing %s failed", event)
        self.runs.write(output)

    def _draw(self, event: Event) -> None:
        match event:
            case LessonOpened():
                self._opened(event)
            case ConnectionChanged(status=status):
                self.query_one(LessonHeader).show_connection(status)
            case StepShown(step=step):
                self._show(step)
            case ChecksChanged(step=step):
                if step == self.current:
                    self._show_checks()
            case HintShown(step=step):
                if step == self.current:
                    self._show_hints()
            case StepCompleted(step=step):
                self._drifted.discard(step)
                self._update_steps()
                if step == self.current:
                    self._show_checks()
                    self._show_done_bar()
                self.refresh_bindings()
            case LessonCompleted():
                self._update_steps()
                self._show_done_bar()
                self._show_complete()
            case DriftFound(step=step, checks=checks):
                self._drift_found(step, checks)
            case CommandStarted():
                view = self.runs.started(event)
                if view is not None and event.step == self.current:
                    view.scroll_visible(animate=False)  # its output then scrolls by itself
            case OutputLine(run=run, text=text, count=count):
                if (view := self.runs.view(run)) is not None:
                    view.repeated(text, count)
            case CommandFinished(run=run, ok=ok, exit_status=status, detail=detail):
                if (view := self.runs.view(run)) is not None:
                    view.finished(ok, status, detail)
            case ProcessChanged():
                self._process_changed(event)
            case PortTaken():
                self._port_taken(event)
            case AlreadyServed(run=run, port=port):
                if (view := self.runs.view(run)) is not None:
                    view.already_served(port)
            case VariableChanged():
                self._variable_changed(event)
            case InputNeeded():
                self._input_needed(event)
            case Notice(text=text, level=level):
                self.notify(text, severity="information" if level == "info" else level, timeout=10, markup=False)
            case AutoplayStopped(step=step):
                self._stopped = event
                self.explain = True
                if step == self.current:
                    self._show_checks()
            case StepRunning():
                pass  # the screen's own `running` says when the learner's run ends
            case _:
                assert_never(event)

    def _opened(self, event: LessonOpened) -> None:
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

    def _drift_found(self, step: str, checks: tuple[StepCheck, ...]) -> None:
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

    def _process_changed(self, event: ProcessChanged) -> None:
        self.runs.process_changed(event)
        if self._background_list is None:  # the first background command: the list appears
            self._background_list = BackgroundList()
            self.query_one("#sidebar").mount(self._background_list)
        self._background_list.set_state(event.process, event.state, event.detail)

    def _port_taken(self, event: PortTaken) -> None:
        view = self.runs.view(event.run)
        if view is not None:
            view.port_taken(event.use.describe(), event.variable is not None)
        why = f"{event.process} was not started: {event.use.describe()}."
        if event.variable is None or self.autoplay:
            self.notify(why, title="Port taken", severity="warning", timeout=20)
            return
        self._ask_port(event.variable, why, event.suggestion, (event.step, view.index) if view is not None else None)

    def _variable_changed(self, event: VariableChanged) -> None:
        for view in self.step_views.values():
            view.retext(self.session.text, self.session.variables)
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

    def _input_needed(self, event: InputNeeded) -> None:
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
        view = StepView(step, text=self.session.text, variables=self.session.variables, intro=intro)
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
        self.run_worker(self._hints_panel.show(shown, len(self.lesson.step(self.current).hints)), group="hints")

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

    # --- the learner's actions -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        opened, session = self.opened, self.session
        if action == "next_step":
            return True if opened and session.next_step() is not None else None
        if action == "previous_step":
            return True if opened and self.lesson.index(self.current) > 0 else None
        if action == "run_step":
            return True if self._can_run() and self.lesson.step(self.current).runnable else None
        if action == "change_port":
            # Only where a command of the step listens on a port the lesson lets the learner move.
            return opened and self._port_command(self.current) is not None
        if action == "shell":
            return session.shell is not None
        return True

    def action_run_step(self) -> None:
        if self._can_run():
            self._start_run(self.current, None)

    @on(CommandView.RunPressed)
    def run_one(self, message: CommandView.RunPressed) -> None:
        if self._can_run():
            self._start_run(message.step_id, message.index)

    def _start_run(self, step_id: str, index: int | None) -> None:
        views = self._view(step_id).command_views
        if index is not None:
            self.runs.claim(views[index])
        if not self.opened:
            # Not connected yet: the run waits for the session, and says so where it was asked for.
            for view in views if index is None else [views[index]]:
                view.queued()
        self.running = True
        self._run_worker(step_id, index)

    @work(thread=True, exit_on_error=False, group="run", name="run")
    def _run_worker(self, step_id: str, index: int | None) -> None:
        session = self.session
        try:
            if index is None:
                session.run_step(step_id)
            else:
                step = self.lesson.step(step_id)
                session.run_command(step, step.commands[index])
        except Exception as err:
            log.exception("running %s failed", step_id)
            self.post_message(WorkFailed("running the commands", err))
        finally:
            self.post_message(CommandsFinished(step_id))

    def on_commands_finished(self, message: CommandsFinished) -> None:
        self.running = False
        for view in self._view(message.step_id).command_views:
            view.unqueue()  # asked for before the lesson opened on another step: not run
        self._run_due()

    def _run_due(self) -> None:
        """Run the command that waited for another port, once nothing else runs."""
        due = self._rerun_due
        if due is not None and self._can_run():
            self._rerun_due = None
            self._start_run(*due)

    def action_next_step(self) -> None:
        following = self.session.next_step() if self.opened else None
        if following is not None:
            self._navigate(following.id)

    def action_previous_step(self) -> None:
        index = self.lesson.index(self.current)
        if self.opened and index > 0:
            self._navigate(self.lesson.steps[index - 1].id)

    @on(StepList.StepChosen)
    def step_chosen(self, message: StepList.StepChosen) -> None:
        if message.step_id != self.current and self.opened:
            self._navigate(message.step_id)

    def _navigate(self, step_id: str) -> None:
        session = self.session
        if not session.is_unlocked(step_id):
            frontier = session.frontier
            self.notify(f"That step unlocks when “{frontier.title if frontier else ''}” is done.", markup=False)
            return
        self._show_worker(step_id)

    @work(thread=True, exit_on_error=False, group="navigate", name="show")
    def _show_worker(self, step_id: str) -> None:
        # `show` may ask the cluster for the node's address: never on the app thread.
        try:
            self.session.show(step_id)
        except ValueError as err:  # locked meanwhile
            self.post_message(WorkFailed("showing the step", err))

    def action_hint(self) -> None:
        step = self.lesson.step(self.current)
        if self.session.hint(step.id) is None:
            self.notify("No more hints for this step." if step.hints else "This step has no hints.")

    def action_explain(self) -> None:
        self.explain = not self.explain

    def action_shell(self) -> None:
        shell = self.session.shell
        if shell is not None:
            from tutor.ui.screens.shell import ShellScreen

            self.app.push_screen(ShellScreen(shell.line, shell.about))

    def _port_command(self, step_id: str) -> tuple[str, int] | None:
        """The step's command whose port the learner may move: (its variable, its index)."""
        for index, command in enumerate(self.lesson.step(step_id).commands):
            if command.port_variable is not None:
                return command.port_variable, index
        return None

    def action_change_port(self) -> None:
        found = self._port_command(self.current)
        if found is not None and self.opened:
            variable, _ = found
            self._ask_port(variable, f"Port {self.session.variables.get(variable)} is the one in use now.", None, None)

    def _ask_port(self, variable: str, why: str, suggestion: int | None, rerun: tuple[str, int] | None) -> None:
        """Ask for another port; once the session has it, run the command that could not start again."""
        from tutor.ui.screens.port import PortScreen

        def chosen(value: str | None) -> None:
            if value is None:
                return
            if value.strip() == self.session.variables.get(variable):
                # The same port: nothing changes; run it again if asked (it may be free by now).
                self._rerun_due = rerun
                self._run_due()
                return
            if rerun is not None:
                self._rerun = (variable, *rerun)
            self._set_variable(variable, value)

        self.app.push_screen(PortScreen(variable, why, suggestion, self.session.variable_problem), chosen)

    @work(thread=True, exit_on_error=False, group="variables", name="set variable")
    def _set_variable(self, name: str, value: str) -> None:
        # Stopping a forward on the old port waits for it: never on the app thread.
        from tutor.session.commands import BadVariable

        try:
            self.session.set_variable(name, value)
        except BadVariable as err:
            self._rerun = None
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=10)

    @on(Button.Pressed, "#hint-button")
    def hint_pressed(self) -> None:
        self.action_hint()

    @on(Button.Pressed, "#next-button")
    def next_pressed(self) -> None:
        if self.session.frontier is None and self.current == self.lesson.steps[-1].id:
            self._completed_shown = False
            self._show_complete()
        else:
            self.action_next_step()

    # --- for tests and the benchmark -----------------------------------------------------------

    def command_view(self, step_id: str, index: int) -> CommandView:
        return self._view(step_id).command_views[index]

    def checks(self) -> Sequence[StepCheck]:
        return self.query_one(ChecksPanel).results
