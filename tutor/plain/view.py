"""Plain line mode: the lesson as lines of text (`LessonLines`), and the learner's input.

Input, when there is a terminal, is a word and Enter. Without input (a pipe, /dev/null)
the view follows along: a step done by someone else's commands moves it on by itself.

A step's questions are printed in their place. With a keyboard they are asked when the
learner goes on from a step whose checks pass (Enter), or, for a question the step waits
for, as soon as its checks pass: a letter, a number or a word and Enter answers (as often
as it takes), Enter alone skips. Without one, a question the step waits for is answered
by the tutor, with its explanation, so that following along never stalls.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from tutor.lesson.model import Lesson, Question, Step
from tutor.lesson.questions import Outcome, label
from tutor.plain.lines import LessonLines
from tutor.plain.text import plain
from tutor.safe_text import strip_controls
from tutor.session.asking import ask_yes_no, confirm_cluster, on_terminal
from tutor.session.commands import BadVariable
from tutor.session.events import all_pass
from tutor.session.factory import SessionRefused, Setup, build_session
from tutor.session.session import Opening

if TYPE_CHECKING:  # only with --workshop
    from tutor.plain.workshop import WorkshopLines
    from tutor.session.workshop import WorkshopLink, WorkshopSetup

HELP = (
    "Type a key, then press Enter. Enter: run this step's commands (or go on, once the "
    "step is done)  n: next step  p: previous step  h: a hint  c: why the checks are not passing  "
    "l: list the steps  m: the map of what the lesson builds  set NAME=VALUE: another port (set local_port=9191)  "
    "q: quit"
)


class PlainView(LessonLines):
    workshop: WorkshopLines | None = None
    """--workshop: the board's lines, and `g` for the instructor's "everyone, step N"."""
    _asking: list[tuple[str, Question]]
    """Questions being asked, the first one now: (its step, the question)."""
    _then_next = False
    """Once the questions are answered or skipped, go on to the next step."""

    # --- running -------------------------------------------------------------------------

    def run(self, *, autoplay: bool, input_stream: TextIO | None, pauses: TextIO | None = None) -> int:
        """`pauses`: with autoplay, wait for a line from it (Enter) before each step's commands."""
        session = self.session

        def fast_forward(opening: Opening) -> bool:
            titles = ", ".join(session.lesson.step(s).title for s in opening.missing)
            self.say(f"Before '{session.viewing.title}', these steps are not done on this cluster: {titles}.")
            return autoplay or self._ask("Fast-forward by running their commands? [Y/n] ", input_stream, True)

        if session.open(fast_forward=fast_forward).fast_forwarded is False:
            return 1
        if autoplay:
            if session.frontier is None:
                self.say("Every step of this lesson is already done on this cluster.")
                return 0
            if pauses is None:
                return 0 if session.autoplay() else 1
            gate = PresenterPauses(self.say, pauses)
            if session.autoplay(before_commands=gate):
                return 0
            if not gate.stopped:
                return 1
            session.close()  # nothing is watched any more: no check's line comes after this one
            self.say("Autoplay stopped here, as asked. Your progress is saved.")
            return 0
        return self._interactive(input_stream)

    def _ask(self, question: str, stream: TextIO | None, default: bool) -> bool:
        if stream is None or not self.interactive:
            return default
        self.say(question)
        answer = stream.readline()
        if not answer:
            return default
        answer = answer.strip().lower()
        return default if not answer else answer in ("y", "yes")

    def _interactive(self, stream: TextIO | None) -> int:
        if stream is not None and self.interactive:
            self.say(HELP + ("  g: the step the instructor asks for" if self.workshop else ""))
            threading.Thread(target=self._read, args=(stream,), name="plain-input", daemon=True).start()
        else:
            self.say("Run the commands in your own terminal; this view moves on when each step's checks pass.")
        self._asking = []
        self._skipped: set[str] = set()
        while not self.completed:
            try:
                command = self._inbox.get(timeout=0.2)
            except queue.Empty:
                if self._waits_for_answers():
                    self._answer_waiting()
                elif not self.interactive:
                    self._follow()
                continue
            if command is None:
                break
            if self._asking and command != "eof":
                if command.strip().lower() in ("quit", "exit"):
                    return 0
                self._answer(command)
                continue
            if not self._handle(command):
                return 0
        return 0

    def _follow(self) -> None:
        """Without a learner at the keyboard, move on as soon as the step in view is done."""
        session = self.session
        if session.progress.is_done(session.viewing.id):
            following = session.next_step()
            if following is not None:
                session.show(following.id)

    # --- questions -----------------------------------------------------------------------

    def _waits_for_answers(self) -> bool:
        """The step in view passes its checks and waits only for a question to be answered right."""
        session = self.session
        step = session.viewing.id
        return (
            not self._asking
            and not session.progress.is_done(step)
            and all_pass(session.results(step))
            and bool(session.questions_pending(step))
        )

    def _answer_waiting(self) -> None:
        session = self.session
        step = session.viewing.id
        pending = session.questions_pending(step)
        if not self.interactive:
            # Nobody to answer: the tutor does, and says so, so that following along goes on.
            for question in pending:
                self.say(f"The step waits for the answer to “{question.id}”; with no keyboard, here it is:")
                session.reveal(step, question.id, answers_it=True)
            return
        if any(question.id not in self._skipped for question in pending):
            self.say("The checks pass; the step is done once its question is answered right.")
            self._ask_questions([(step, question) for question in pending if question.id not in self._skipped])

    def _ask_questions(self, questions: list[tuple[str, Question]]) -> None:
        self._asking = questions
        if questions:
            self._prompt()
        elif self._then_next:
            self._then_next = False
            self._next()

    def _prompt(self) -> None:
        step, question = self._asking[0]
        for line in self.question_lines(step, question.id):
            self.say(line)
        if question.multiple_choice:
            last = label(len(question.choices) - 1)
            self.say(f"Your answer: a letter from a to {last} and Enter (Enter alone skips it).")
        else:
            self.say("Your answer, and Enter (Enter alone skips it):")

    def _answer(self, text: str) -> None:
        step, question = self._asking[0]
        if not text.strip():
            self._skipped.add(question.id)
            if question.blocking:
                self.say("Skipped: the step is done once it is answered right (Enter on the step asks again).")
            self._ask_questions(self._asking[1:])
            return
        verdict = self.session.answer(step, question.id, text)
        if verdict.outcome is Outcome.CORRECT:
            self._ask_questions(self._asking[1:])
        elif verdict.outcome is Outcome.UNREADABLE:
            self.say("Your answer, or Enter alone to skip it:")

    def _go_on(self) -> None:
        """Enter on a step whose checks pass: its questions not answered yet, then the next step."""
        session = self.session
        step = session.viewing
        unanswered = []
        for question in step.questions:
            known = session.answered(question.id)
            if question.id not in self._skipped and not (known is not None and (known.correct or known.revealed)):
                unanswered.append((step.id, question))
        self._then_next = session.progress.is_done(step.id)
        if not unanswered and not self._then_next:
            self._skipped.difference_update(question.id for question in step.questions)  # asked again
            unanswered = [(step.id, question) for question in session.questions_pending(step.id)]
        self._ask_questions(unanswered)

    def _read(self, stream: TextIO) -> None:
        for line in stream:
            self._inbox.put(line.strip())
        self._inbox.put("eof")

    def _handle(self, command: str) -> bool:
        session = self.session
        word = command.split()[0].lower() if command.split() else ""
        if word in ("q", "quit", "exit"):
            return False
        if word == "set":
            self._set(command.split(None, 1)[1] if len(command.split()) > 1 else "")
            return True
        if word == "eof":
            self.interactive = False
            return True
        if word == "g" and self.workshop is not None:
            self.workshop.go()
            return True
        if word == "":
            shown = session.viewing.id
            done = session.progress.is_done(shown)
            if done and shown in self.arrived_done and shown not in self.ran and session.viewing.runnable:
                self._run_in_background()  # already done when shown: its commands are still worth seeing
            elif done or (all_pass(session.results(shown)) and session.questions_pending(shown)):
                self._go_on()
            else:
                self._run_in_background()
            return True
        if word == "n":
            self._next()
        elif word == "p":
            index = session.lesson.index(session.viewing.id)
            if index > 0:
                session.show(session.lesson.steps[index - 1].id)
        elif word == "h":
            hint = session.hint()
            self.say(f"Hint: {plain(session.text(hint.markdown))}" if hint else "No more hints for this step.")
        elif word == "c":
            results = session.results(session.viewing.id)
            if not results:
                self.say("No check results yet.")
            for check in results:
                self.explain(check)
        elif word == "m":
            self.map_asked = True
            session.show_map()
        elif word == "l":
            for index, step in enumerate(session.lesson.steps, 1):
                state = "done" if session.progress.is_done(step.id) else "open"
                state = state if session.is_unlocked(step.id) else "locked"
                marker = "  <- you are here" if step.id == session.viewing.id else ""
                self.say(f"  {index:>2}. [{state}] {step.title}{marker}")
        else:
            self.say(HELP)
        return True

    def _next(self) -> None:
        session = self.session
        following = session.next_step()
        step = session.viewing.id
        if following is not None:
            session.show(following.id)
        elif session.questions_pending(step) and all_pass(session.results(step)):
            self.say("This step is done once its question is answered right (press Enter).")
        elif session.lesson.index(step) + 1 >= len(session.lesson.steps):
            self.say("This is the last step.")
        else:
            self.say("The next step unlocks when this one's checks pass (c shows why they do not).")

    def _set(self, assignment: str) -> None:
        """`set local_port=9191` (or `set local_port 9191`): another port from now on."""
        name, _, value = assignment.replace("=", " ", 1).partition(" ")
        if not name or not value.strip():
            self.say("Type set NAME=VALUE, for example: set local_port=9191")
            return
        try:
            self.session.set_variable(name.strip(), value.strip())
        except BadVariable as err:
            self.say(f"Cannot set {name.strip()}: {err}")

    def _run_in_background(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            self.say("The step's commands are still running.")
            return
        step = self.session.viewing
        self.ran.add(step.id)
        self._worker = threading.Thread(target=self.session.run_step, args=(step.id,), name="plain-run", daemon=True)
        self._worker.start()


class PresenterPauses:
    """`--autoplay --pause`: before each step's commands, wait for the presenter's Enter."""

    def __init__(self, say: Callable[[str], None], stream: TextIO) -> None:
        self.say = say
        self.stream = stream
        self.stopped = False
        """The presenter typed q: autoplay ends there, as asked."""
        self._ended = False

    def __call__(self, step: Step) -> bool:
        if self._ended:
            return True
        self.say(f"Paused before the commands of “{step.title}”. Enter: run them  q: stop here")
        line = self.stream.readline()
        if not line:
            self._ended = True
            self.say("No more input: playing on without pauses.")
            return True
        if line.strip().lower() in ("q", "quit", "exit"):
            self.stopped = True
            return False
        return True


def run_plain(lesson: Lesson, setup: Setup, *, step_id: str | None, autoplay: bool, pause: bool = False) -> int:
    """Run the lesson in line mode on stdin/stdout; returns the exit status. `pause` (with
    autoplay): wait for Enter on stdin before each step's commands."""
    interactive = on_terminal() and not autoplay
    setup.terminal = contextlib.nullcontext if on_terminal() else None
    setup.confirm = confirm_cluster if on_terminal() else None
    setup.ask_trust = _ask_trust if on_terminal() else None
    try:
        session = build_session(lesson, setup, step_id)
    except SessionRefused as err:
        print(f"k8s-tutor: {err}", file=sys.stderr)
        return 2
    view = PlainView(session, sys.stdout, interactive=interactive)
    link = _join(view, setup.workshop, interactive=interactive) if setup.workshop is not None else None
    try:
        return view.run(
            autoplay=autoplay,
            input_stream=sys.stdin if interactive else None,
            pauses=sys.stdin if autoplay and pause and sys.stdin is not None else None,
        )
    except KeyboardInterrupt:
        view.say("Stopped. Your progress is saved.")
        return 130
    finally:
        session.close()
        if link is not None:
            link.close()  # after the session: its last state gets one try


def _join(view: PlainView, workshop: WorkshopSetup, *, interactive: bool) -> WorkshopLink:
    """Report to the workshop's board from now on (the name is known: the CLI asked for it)."""
    from tutor.plain.workshop import WorkshopLines
    from tutor.session.workshop import WorkshopLink

    name = workshop.name or "learner"
    lines = view.workshop = WorkshopLines(view.session, view.say, name=name, interactive=interactive)
    link = WorkshopLink(view.session, workshop, on_state=lines.on_state, on_notice=lines.on_notice)
    link.join(name)
    return link


def _ask_trust(explanation: str) -> bool:
    print(strip_controls(explanation), flush=True)
    return ask_yes_no("Trust it and let it run its commands?")
