"""The lesson screen: a view of one `LessonSession`, and what the learner does there.

`LessonDrawing` (tutor/ui/screens/lesson_drawing.py) draws the session; this part gives
it its cluster and calls the session's methods when the learner acts: keys, Run buttons,
another port.

Threads: after the first paint a worker attaches the cluster (loading the kubernetes
client, ~250 ms, and asking the learner what must be asked) and opens the lesson;
everything that blocks (running commands, autoplay, even `show`, which may ask the
cluster for its node address) runs in thread workers that only post messages. A run
asked for before the lesson is open waits for it in the session. Quitting closes the
session, which stops every process and watch, and so makes those workers return at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.widgets import Button

from tutor.safe_text import strip_controls
from tutor.session.events import StepCheck
from tutor.session.session import LessonSession
from tutor.session.setup import SessionRefused, Setup
from tutor.ui.messages import AutoplayFinished, CommandsFinished, SessionOpened, WorkFailed
from tutor.ui.presenter import PLAIN_PRESENTATION, PRESENT_CLASS, PROJECTOR_THEME, PauseBegan, Pauses, Presentation
from tutor.ui.screens.lesson_map import LessonMap, builds_mapped_objects
from tutor.ui.widgets.checks_panel import ChecksPanel
from tutor.ui.widgets.command_view import CommandView
from tutor.ui.widgets.lesson_header import LessonHeader
from tutor.ui.widgets.question_view import QuestionView
from tutor.ui.widgets.step_list import StepList

# What only the session's life needs (its modal screens, the terminal lender) is imported
# where it is used, once the lesson is on screen.
if TYPE_CHECKING:
    from tutor.ui.screens.lesson_map import MapPlace
    from tutor.ui.screens.object_map import ObjectMapScreen
    from tutor.ui.terminal import TerminalLender
    from tutor.ui.widgets.object_map_tree import ObjectMapView
    from tutor.ui.widgets.workshop_status import WorkshopStatus

log = logging.getLogger(__name__)

Attach = Callable[[LessonSession, Setup], None]


def attach_cluster(session: LessonSession, setup: Setup) -> None:
    # Imported here, on the worker's thread: this is what loads the kubernetes client.
    from tutor.session import factory

    factory.attach_cluster(session, setup)


class LessonScreen(LessonMap):
    BINDINGS: ClassVar[list[BindingType]] = [
        # In the footer in this order, as far as it reaches; `?` lists them all.
        Binding("r", "run_step", "Run step", tooltip="Run the commands of the step on screen"),
        # Only while autoplay waits for the presenter (--pause): the key is free for the rest otherwise.
        Binding("enter,space", "go_on", "Run the step", key_display="Enter/space", priority=True),
        # Only while the instructor's "everyone, step N" stands (--workshop).
        Binding("g", "workshop_go", "Go to step", tooltip="The step the instructor asked everyone to go to"),
        Binding("n", "next_step", "Next", tooltip="The next step, once this one's checks pass"),
        Binding("p", "previous_step", "Previous", tooltip="The step before"),
        Binding("h", "hint", "Hint", tooltip="The step's next hint"),
        Binding("e", "explain", "Explain", tooltip="Why each check passes or not, and what the cluster shows"),
        Binding("question_mark", "keys", "Keys", key_display="?", tooltip="This list"),
        Binding("q", "app.quit", "Quit", key_display="q/^q", tooltip="Quit the tutor"),
        Binding("a", "answer", "Answer", tooltip="Go to the step's question: ↑ ↓ pick a choice, Enter answers"),
        Binding("f", "full_output", "Output", tooltip="The step's command output, full-screen and wrapped"),
        Binding("l", "steps", "Steps", tooltip="The list of steps (a drawer on a narrow terminal)"),
        Binding("m", "object_map", "Map", tooltip="What the lesson has built and how it hangs together, live"),
        # On a wide terminal, instead: the map is a panel under the step (screens/lesson_map.py).
        Binding("m", "map_panel", "Map panel", tooltip="Into the live map under the step (m again: full-screen)"),
        Binding("o", "change_port", "Port", tooltip="Another local port for the step's port-forward"),
        Binding("s", "shell", "Your terminal", tooltip="The line that points your own shell at the lesson's cluster"),
        Binding("escape", "leave", "Close", show=False),
    ]

    def __init__(
        self,
        session: LessonSession,
        setup: Setup,
        *,
        autoplay: bool = False,
        attach: Attach = attach_cluster,
        prepare: Callable[[], object] | None = None,
        presentation: Presentation = PLAIN_PRESENTATION,
    ) -> None:
        """`prepare` runs on the app thread before the cluster is attached (the CLI's exit handlers)."""
        super().__init__(session, setup, autoplay=autoplay)
        self.presentation = presentation
        self.pauses = Pauses(lambda step: self.post_message(PauseBegan(step)))
        self._attach_cluster = attach
        self._prepare = prepare
        self._lender: TerminalLender | None = None
        self._rerun: tuple[str, str, int] | None = None
        """After the learner picks another port: (variable, step, command index) to run again."""
        self._rerun_due: tuple[str, int] | None = None
        """That run, once the port has changed: started as soon as no other run is under way."""
        self._map_screen: ObjectMapScreen | None = None
        self._map_panel: ObjectMapView | None = None
        self._map_places: set[MapPlace] = set()
        self._map_possible = False
        self.workshop: WorkshopStatus | None = None
        """--workshop: the board's word in the header, its messages and offers."""

    # --- the session's life ---------------------------------------------------------------

    def on_mount(self) -> None:
        if self.presentation.present:
            self.app.register_theme(PROJECTOR_THEME)
            self.app.theme = PROJECTOR_THEME.name
            self.add_class(PRESENT_CLASS)
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
        if self.setup.workshop is not None:
            from tutor.ui.widgets.workshop_status import WorkshopStatus  # its client: ~50 ms, after the first paint

            # Before the lesson opens (the connect worker): the board hears of it from the start.
            self.workshop = WorkshopStatus(self.session, self.setup.workshop)
            self.query_one(LessonHeader).mount(self.workshop, before="#connection")
        self.call_after_refresh(self._connect)  # the frame that draws the step's blocks first

    @work(thread=True, exit_on_error=False, group="session", name="connect")
    def _connect(self) -> None:
        from tutor.ui import questions  # the modal screens: not needed to draw the lesson

        session, setup, app, closing = self.session, self.setup, self.app, self._quitting
        try:
            if self._prepare is not None:
                app.call_from_thread(self._prepare)
            app.call_from_thread(self.map_possible, builds_mapped_objects(self.lesson))
            setup.terminal = self._lender
            setup.confirm = lambda decision: questions.confirm_cluster(app, closing, decision)
            setup.ask_trust = lambda explanation: questions.trust_lesson(app, closing, explanation)
            self._attach_cluster(session, setup)
        except Exception as err:
            if not isinstance(err, SessionRefused):
                log.exception("attaching the cluster failed")
            reason = str(err) if isinstance(err, SessionRefused) else f"could not start the lesson: {err}"
            with contextlib.suppress(RuntimeError):  # the app is closing already: nobody to tell
                app.call_from_thread(self._unavailable, reason)
            return
        try:
            if self.autoplay:
                opening = session.open(fast_forward=lambda _: True)
            else:
                opening = session.open(
                    fast_forward=lambda opening: questions.fast_forward(app, closing, self.lesson, opening)
                )
            self.post_message(SessionOpened(opening))
            if self.autoplay:
                pause = self.pauses.gate if self.presentation.pause else None
                ok = opening.fast_forwarded is not False and session.autoplay(before_commands=pause)
                self.post_message(AutoplayFinished(ok))
        except Exception as err:
            log.exception("opening the lesson failed")
            self.post_message(WorkFailed("opening the lesson", err))

    def _unavailable(self, reason: str) -> None:
        self.query_one(LessonHeader).show_unavailable()
        self.query_one(ChecksPanel).show_message(strip_controls(reason), "bold red")
        # Printed on the bare terminal once the app is gone: plain text, and nothing else.
        self.app.exit(return_code=2, message=Text(strip_controls(f"k8s-tutor: {reason}")))

    def on_unmount(self) -> None:
        # Stops every process and watch: the workers blocked on them return.
        self.pauses.close()
        self.stop_drawing()
        self.session.close()
        if self.workshop is not None:
            self.workshop.close()

    def on_session_opened(self, message: SessionOpened) -> None:
        self.opened = True
        self.running = self.running or self.autoplay
        self._update_runnable()
        self.refresh_bindings()
        if message.opening.fast_forwarded is False and not self.autoplay:
            self.notify("Fast-forward stopped: the checks panel says why.", severity="warning")
        if self.workshop is not None:
            self.workshop.lesson_opened()

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
        if action == "workshop_go":
            return self.workshop is not None and self.workshop.offer is not None
        if action == "go_on":
            return self.pauses.waiting is not None
        if action == "leave":
            return self.has_class("-drawer") or self._in_question() or self._in_map_panel()
        if action in ("object_map", "map_panel"):
            return (self.map_panel is None) == (action == "object_map")  # one m: the other is hidden
        if action == "answer":
            return True if self.lesson.step(self.current).questions else None
        return True

    def action_go_on(self) -> None:
        if self.pauses.go_on():
            self.refresh_bindings()

    def on_pause_began(self, message: PauseBegan) -> None:
        self.refresh_bindings()
        title = message.step.title
        self.notify(f"Enter or space runs the commands of “{title}”.", title="Paused", timeout=6, markup=False)

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

    def action_steps(self) -> None:
        """The step list: a key away. On a narrow terminal it opens as a drawer (with the
        background processes), where the checks are; `l` or Esc closes it."""
        if self.has_class("-narrow"):
            if self.has_class("-drawer"):
                self.action_close_drawer()
                return
            self.add_class("-drawer")
        self.query_one(StepList).focus()

    def action_keys(self) -> None:
        """Every key of the screen, greyed when it does nothing now, and what else there is."""
        from tutor.ui.screens.keys import KeysScreen

        bindings = [binding for binding in self.BINDINGS if isinstance(binding, Binding)]
        acting = {binding.key for binding in bindings if self.check_action(binding.action, ()) is True}
        keys = []
        for binding in bindings:
            if binding.action in ("keys", "leave"):
                continue
            state = self.check_action(binding.action, ())
            if state is False and binding.key in acting:
                continue  # the key does something else now (m on a wide terminal): listed once
            keys.append((binding.key_display or binding.key, binding.tooltip or binding.description, state is True))
        keys.append(
            ("esc", "Leave an answer box or the map's panel; close the drawer, or a window like this one", True)
        )
        self.app.push_screen(KeysScreen(keys))

    def action_leave(self) -> None:
        """Esc: out of the drawer, out of a question (its answer box takes every letter key),
        or out of the map's panel: back to the step."""
        if self.has_class("-drawer"):
            self.action_close_drawer()
        elif self._in_question() or self._in_map_panel():
            self.step_views[self.current].focus()

    def _in_question(self) -> bool:
        focused = self.focused
        return focused is not None and any(isinstance(node, QuestionView) for node in focused.ancestors)

    def action_close_drawer(self) -> None:
        if self.has_class("-drawer"):
            self.remove_class("-drawer")
            self.step_views[self.current].focus()

    @on(StepList.StepChosen)
    def step_chosen(self, message: StepList.StepChosen) -> None:
        self.action_close_drawer()
        if message.step_id != self.current and self.opened:
            self._navigate(message.step_id)

    def go_to(self, step_id: str) -> None:
        """Show an unlocked step (the command palette's "Go to step")."""
        if self.opened and step_id != self.current:
            self._navigate(step_id)

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

    def action_workshop_go(self) -> None:
        step = self.workshop.take_offer() if self.workshop is not None else None
        if step is not None and self.opened:
            self._navigate(step)  # a step locked meanwhile is explained there

    def action_hint(self) -> None:
        step = self.lesson.step(self.current)
        if self.session.hint(step.id) is None:
            self.notify("No more hints for this step." if step.hints else "This step has no hints.")

    def action_answer(self) -> None:
        views = list(self._view(self.current).question_views.values())
        if not views:
            self.notify("This step asks no question.", timeout=4)
            return
        unanswered = [view for view in views if not (view.verdict is not None and view.verdict.correct)]
        (unanswered or views)[0].take_focus()

    def action_full_output(self) -> None:
        from tutor.ui.screens.output import OutputScreen

        step = self.lesson.step(self.current)
        runs = [view.run_output() for view in self._view(step.id).command_views]
        self.app.push_screen(OutputScreen(step.title, runs))

    def action_explain(self) -> None:
        self.explain = not self.explain

    def action_shell(self) -> None:
        shell = self.session.shell
        if shell is not None:
            from tutor.ui.screens.shell import ShellScreen

            self.app.push_screen(ShellScreen(shell.line, shell.about))

    # --- questions --------------------------------------------------------------------------

    def on_question_view_answered(self, message: QuestionView.Answered) -> None:
        self._judge(message.step_id, message.question_id, message.text, reveal=False)

    def on_question_view_reveal_asked(self, message: QuestionView.RevealAsked) -> None:
        self._judge(message.step_id, message.question_id, "", reveal=True)

    @work(thread=True, exit_on_error=False, group="questions", name="answer")
    def _judge(self, step_id: str, question_id: str, text: str, *, reveal: bool) -> None:
        # An answer is saved with the progress, and a right one may complete the step: off the
        # app thread. The verdict comes back as QuestionAnswered, drawn with the other events.
        try:
            if reveal:
                self.session.reveal(step_id, question_id)
            else:
                self.session.answer(step_id, question_id, text)
        except Exception as err:
            log.exception("answering %s failed", question_id)
            self.post_message(WorkFailed("answering the question", err))

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
