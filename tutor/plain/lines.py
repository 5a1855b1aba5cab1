"""Plain line mode's lines: what the session says happened, one line at a time.

For screen readers, logs, CI and dumb terminals: no colour, no cursor movement, no box
drawing; every line stands on its own. `LessonLines` turns the session's events into
lines (dispatched by type); `PlainView` (tutor/plain/view.py) adds the learner's input.
"""

from __future__ import annotations

import queue
import threading
from typing import TextIO, assert_never

from tutor.cluster.object_map import ObjectMap, describe, describe_link, shows_step
from tutor.cluster.status import ConnectionStatus
from tutor.lesson.model import CommandBlock, Prose, Question, Step
from tutor.lesson.questions import Outcome, label
from tutor.plain.text import plain
from tutor.run import ProcessState
from tutor.safe_text import strip_controls
from tutor.session import events
from tutor.session.session import LessonSession

LEVELS = {"info": "Note", "warning": "Warning", "error": "Error"}
CONNECTION_LABELS = {
    "connected": "Connected to the cluster",
    "connecting": "Connecting to the cluster",
    "reconnecting": "Lost the cluster; reconnecting",
    "unreachable": "The cluster is unreachable",
    "no_cluster": "No cluster yet",
    "refused": "The tutor does not use this cluster",
    "rejected": "The API server refuses the tutor",
}
PROCESS_WORDS = {
    ProcessState.STARTING: "starting",
    ProcessState.RUNNING: "starting",
    ProcessState.READY: "ready",
    ProcessState.RESTARTING: "stopped unexpectedly; restarting it",
    ProcessState.STOPPED: "stopped",
    ProcessState.FAILED: "failed",
    ProcessState.NEEDS_TERMINAL: "stopped: it needs a terminal",
}


class LessonLines:
    def __init__(self, session: LessonSession, out: TextIO, *, interactive: bool) -> None:
        self.session = session
        self.out = out
        self.interactive = interactive
        self._lock = threading.Lock()
        self._seen: dict[events.CheckId, tuple[str, str]] = {}
        self._background_runs: dict[str, str] = {}
        """Background runs -> the name their lines are labelled with."""
        self._repeats: dict[str, tuple[str, int]] = {}
        """Per background run, the line that keeps coming and how often, until something else comes."""
        self._inbox: queue.Queue[str | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.completed = False
        self.failed: events.AutoplayStopped | None = None
        self._printed: str | None = None
        self._shown: set[str] = set()
        self._running: set[str] = set()
        self._steps_running: set[str] = set()
        self._deferred: list[events.StepCompleted | events.LessonCompleted] = []
        self._order = threading.RLock()
        self._connection_state = ""
        self.map_asked = False
        """`m`: print the object map once it is read, then stop keeping it."""
        self.arrived_done: set[str] = set()
        """Steps whose checks already passed when they were shown (an earlier step did their work)."""
        self.ran: set[str] = set()
        """Steps whose commands the learner ran from this view."""
        session.subscribe(self.on_event)

    # --- output --------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        # Every line passes here: what a lesson, the cluster or a command wrote reaches the
        # terminal without its control sequences (and, in line mode, without colours).
        text = strip_controls(text)
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def on_event(self, event: events.Event) -> None:
        match event:
            case events.LessonOpened():
                self._opened(event)
            case events.ConnectionChanged(status=status):
                self._connection(status)
            case events.ChecksChanged():
                self._checks_changed(event)
            case events.StepShown(step=step, done=done):
                with self._order:
                    if done:
                        self.arrived_done.add(step)
                    else:
                        self.arrived_done.discard(step)
                    if step != self._printed:
                        self.print_step(self.session.lesson.step(step))
                    self._flush()
            case events.DriftFound(step=step, checks=checks):
                title = self.session.lesson.step(step).title
                self.say(f"Step '{title}' was done before, but no longer holds on this cluster:")
                for check in checks:
                    if not check.result.passed:
                        self.say("  " + self.check_line(check))
            case events.StepCompleted() | events.LessonCompleted():
                with self._order:
                    self._deferred.append(event)
                    self._flush()
            case events.StepRunning(step=step, running=running):
                with self._order:
                    if running:
                        self._steps_running.add(step)
                    else:
                        self._steps_running.discard(step)
                        self._flush()
                        if step in self.arrived_done and step in self.ran and self.interactive:
                            self.say("Press Enter to go on to the next step.")
            case events.CommandStarted():
                self._command_started(event)
            case events.OutputLine(run=run, text=text, count=count):
                self._output(run, text, count)
            case events.CommandFinished():
                self._command_finished(event)
            case events.ProcessChanged():
                self._process_changed(event)
            case events.PortTaken():
                self._port_taken(event)
            case events.AlreadyServed(process=process, port=port):
                self.say(
                    f"[background] {process} not started: the lesson's app already answers on port {port} "
                    "(your own port-forward?), so a second one would only collide with it."
                )
            case events.VariableChanged(name=name, value=value, stopped=stopped):
                self.say(f"{name} is now {value}, for the rest of the lesson.")
                for process in stopped:
                    self.say(f"  {process} listened on the old port: stopped. Run the step again to start it anew.")
                self.print_step(self.session.viewing)
            case events.InputNeeded(text=text, prompt=prompt):
                self.say(f"[input] `{text}` is asking for input: {prompt.strip()}")
                self.say("  Run that command in your own terminal to answer it; the tutor keeps watching.")
            case events.Notice(text=text, level=level):
                self.say(f"{LEVELS[level]}: {text}")
            case events.AutoplayStopped():
                self.failed = event
                step_title = self.session.lesson.step(event.step).title
                self.say(f"Autoplay stopped at step '{step_title}': {event.reason.rstrip('.')}.")
                for check in event.checks:
                    if not check.result.passed:
                        self.explain(check)
            case events.HintShown():
                pass  # `h` prints the hint it asked for
            case events.MapChanged(map=found):
                self._map_changed(found)
            case events.QuestionAnswered():
                self._question_answered(event)
            case _:
                assert_never(event)

    def _opened(self, event: events.LessonOpened) -> None:
        self.say(f"Lesson {event.lesson}: {event.title}")
        lesson = self.session.lesson
        if event.sandbox:
            self.say("Cluster: the SIMULATED cluster built into k8s-tutor (the sandbox). Nothing runs for real.")
        else:
            self.say(f"Cluster: {event.cluster}")
        if event.shell is not None:
            self.say(f"Your own terminal: {event.shell.line}")
            self.say(f"  ({event.shell.about}; any step's commands can be typed there)")
        for notice in event.notices:
            self.say(f"Note: {notice}")
        if event.completed:
            self.say(f"Resuming: {len(event.completed)} of {len(lesson.steps)} steps were done.")
        self.say()
        if lesson.intro and event.current == lesson.steps[0].id:
            self.say(plain(self.session.text(lesson.intro)))

    def _connection(self, status: ConnectionStatus) -> None:
        if status.state == self._connection_state and status.state != "connected":
            return  # one line per change of state, not per failing request
        self._connection_state = status.state
        label, detail = CONNECTION_LABELS[status.state], status.detail
        if detail.lower().startswith(label.lower()):
            self.say(f"[cluster] {detail[0].upper()}{detail[1:]}")
        else:
            self.say(f"[cluster] {label}{': ' + detail if detail else ''}")

    def _checks_changed(self, event: events.ChecksChanged) -> None:
        if event.step != self._printed:
            return  # a step not on screen (the next one, unlocked early): said once it is shown
        for check in event.checks:
            result = check.result
            seen = (result.status, result.reason)
            if self._seen.get(check.id) == seen or result.unjudged is not None:
                continue  # still being read, or the [cluster] lines say it once for every check
            self._seen[check.id] = seen
            self.say(self.check_line(check))

    # A step's checks may pass before the commands that made them pass have printed their
    # last lines, and a step may pass before it is shown (step 3's manifest satisfies step
    # 4). The line that says so waits for both, so that the log reads in order: the step,
    # its commands and their output, then "done".

    def _flush(self) -> None:
        """Say what was deferred, in order, as far as it may be said now."""
        while self._deferred and not self._running:
            event = self._deferred[0]
            if isinstance(event, events.StepCompleted):
                finishing = any(isinstance(later, events.LessonCompleted) for later in self._deferred)
                if (event.step not in self._shown or event.step in self._steps_running) and not finishing:
                    return
                self._say_step_done(event)
            elif self._steps_running:
                return
            else:
                self._say_lesson_done(event)
            self._deferred.pop(0)

    def _say_step_done(self, event: events.StepCompleted) -> None:
        index = self.session.lesson.index(event.step) + 1
        self.say(f"Step {index} done: {self.session.lesson.step(event.step).title}.")
        if event.step in self.arrived_done and event.step not in self.ran:
            return  # the step says what Enter does there: its commands first
        if self.interactive and self.session.frontier is not None:
            step = self.session.lesson.step(event.step)
            asks = any(self.session.answered(question.id) is None for question in step.questions)
            self.say("Press Enter for its question, then the next step." if asks else "Press Enter for the next step.")

    def _say_lesson_done(self, event: events.LessonCompleted) -> None:
        outro = plain(self.session.text(self.session.lesson.outro))
        self.say()
        self.say(f"Lesson {event.lesson} complete: every step's checks pass.")
        if outro:
            self.say(outro)
        self.completed = True
        self._inbox.put(None)

    def _command_started(self, event: events.CommandStarted) -> None:
        if event.background:
            # Its lines come in among later commands' output: each says whose it is.
            self._background_runs[event.run] = event.process or event.run
            self.say(f"[start] $ {event.text}   (kept running in the background)")
        else:
            with self._order:
                self._running.add(event.run)
            self.say(f"[run] $ {event.text}")

    def _output(self, run: str, text: str, count: int) -> None:
        if count > 1:
            # A log cannot take a line back: the count is said once the line stops coming.
            self._repeats[run] = (text, count)
            return
        self._say_repeats(run)
        label = self._background_runs.get(run)
        self.say(f"  | {label}: {text}" if label else f"  | {text}")

    def _say_repeats(self, run: str) -> None:
        repeated = self._repeats.pop(run, None)
        if repeated is not None:
            text, count = repeated
            self.say(f"  | {self._background_runs.get(run, run)}: (“{text}” came {count} times in a row)")

    def _command_finished(self, event: events.CommandFinished) -> None:
        if event.run in self._background_runs:
            return  # "ready" is not "finished": events.ProcessChanged says how it goes
        with self._order:
            if event.ok:
                self.say(f"[done] {event.text}")
            else:
                self.say(f"[failed] {event.text}: {event.detail or f'exit status {event.exit_status}'}")
            self._running.discard(event.run)
            self._flush()

    def _process_changed(self, event: events.ProcessChanged) -> None:
        if event.state is not ProcessState.READY:
            for run, process in list(self._background_runs.items()):
                if process == event.process:
                    self._say_repeats(run)
        detail = f": {event.detail}" if event.detail else ""
        self.say(f"[background] {event.process} {PROCESS_WORDS[event.state]}{detail}")

    def _port_taken(self, event: events.PortTaken) -> None:
        self.say(f"[background] {event.process} not started: {event.use.describe()}.")
        other = f"{event.variable}={event.suggestion or 'PORT'}"
        if event.variable is None:
            self.say("  Stop that program, then run the step again.")
        elif self.interactive:
            self.say(f"  To use another port for the rest of the lesson, type: set {other}")
        else:
            self.say(f"  Stop that program, or start the tutor again with --set {other}.")

    def _map_changed(self, found: ObjectMap) -> None:
        if not self.map_asked or found.loading:
            return  # a moment more and every kind it needs is read
        self.map_asked = False
        self.session.hide_map()
        with self._lock:
            self.out.write("".join(line + "\n" for line in map_lines(found)))
            self.out.flush()

    def _question_answered(self, event: events.QuestionAnswered) -> None:
        verdict = event.verdict
        explanation = plain(verdict.explanation)
        if event.revealed:
            question = self.session.question(event.step, event.question)
            given = event.answer
            if verdict.choice is not None:
                given = f"{label(verdict.choice)}) {plain(question.choices[verdict.choice].text)}"
            self.say(f"[answer] {given}")
            self.say(f"  {explanation}")
            return
        match verdict.outcome:
            case Outcome.CORRECT:
                self.say(f"[right] {explanation}")
            case Outcome.WRONG:
                self.say(f"[not quite] {explanation}")
                if self.interactive:
                    self.say("  Try again, or press Enter to go on.")
            case Outcome.UNREADABLE:
                self.say(f"  {explanation}")
            case _:
                assert_never(verdict.outcome)

    def question_lines(self, step_id: str, question_id: str) -> list[str]:
        """A question as its lines: "Question: ...", then "a) ..." per choice."""
        question = self.session.question(step_id, question_id)
        lines = [f"Question: {plain(question.ask)}"]
        if question.multiple_choice:
            lines += [f"  {label(index)}) {plain(choice.text)}" for index, choice in enumerate(question.choices)]
        else:
            lines.append("  (answer in a word or two)")
        if question.blocking:
            lines.append("  (this step is done once it is answered right)")
        known = self.session.answered(question.id)
        if known is not None and known.correct:
            lines.append("  (you answered it right before)")
        return lines

    def check_line(self, check: events.StepCheck) -> str:
        result = check.result
        reason = f": {result.reason}" if result.reason and not result.passed else ""
        return f"[check {result.status}] {check.title}{reason}"

    def explain(self, check: events.StepCheck) -> None:
        self.say("  " + self.check_line(check))
        for finding in check.result.findings:
            self.say(f"    - {finding.message}")
            for line in finding.evidence:
                self.say(f"        {line}")
            if finding.command:
                self.say(f"      see: {finding.command}")

    # --- steps ---------------------------------------------------------------------------

    def print_step(self, step: Step) -> None:
        self._printed = step.id
        self._shown.add(step.id)
        lesson = self.session.lesson
        index = lesson.index(step.id) + 1
        self.say()
        self.say(f"Step {index} of {len(lesson.steps)}: {step.title}")
        self.say("-" * 40)
        for block in step.blocks:
            if isinstance(block, Prose):
                text = plain(self.session.text(block.markdown))
                first, _, rest = text.partition("\n")
                if first.strip().lower() == step.title.lower():
                    text = rest.strip()  # the step's own heading: already printed above
                if text:
                    self.say(text)
            elif isinstance(block, CommandBlock):
                for command in block.commands:
                    suffix = "   (background)" if command.background else ""
                    suffix = "   (type this yourself)" if command.manual else suffix
                    self.say(f"    $ {command.display(self.session.variables)}{suffix}")
            elif isinstance(block, Question):
                for line in self.question_lines(step.id, block.id):
                    self.say(line)
            self.say()
        if self.session.progress.is_done(step.id):
            if not self.interactive:
                self.say("This step's checks already pass.")
            elif step.runnable:
                self.say(
                    "This step's checks already pass. Press Enter to run its commands anyway and see what "
                    "they show, or type n and Enter to go on."
                )
            else:
                self.say("This step's checks already pass: press Enter to go on.")


def map_lines(found: ObjectMap) -> list[str]:
    """The object map as an indented text tree: each object with its state, and its step where
    it differs from the step of the object it hangs under; the relations drawn elsewhere as
    `-> ...` under the object they start from."""
    lines = ["[map] What the lesson builds, as the cluster shows it now:"]
    if found.note:
        lines.append(f"  ({found.note})")
    for depth, node, parent in found.placed():
        indent = "  " * (depth + 1)
        step = f"   (step: {node.step})" if shows_step(node, parent) else ""
        lines.append(strip_controls(f"{indent}{describe(node)}{step}"))
        lines.extend(strip_controls(f"{indent}  -> {describe_link(link)}") for link in node.links)
    if not found.roots:
        lines.append("  (nothing yet)")
    return lines
