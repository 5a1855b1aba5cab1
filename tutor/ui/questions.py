"""Asking the learner a question from a worker thread, with a modal screen.

`attach_cluster` calls `Setup.confirm(decision)` and `Setup.ask_trust(text)`, and `open`
asks whether to fast-forward, on the worker's thread, and wait for the answer. The modal
is pushed on the app thread; the worker waits on a future, but never forever: when the
app closes (`closing`), the answer is "no".
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from textual.app import App
from textual.screen import ModalScreen

from tutor.ui.screens.question import CautiousQuestionScreen, QuestionScreen

if TYPE_CHECKING:
    from tutor.cluster.guard import GuardDecision
    from tutor.lesson.model import Lesson
    from tutor.session.session import Opening


def ask_from_thread(app: App[object], screen: ModalScreen[bool], closing: threading.Event) -> bool:
    answer: Future[bool] = Future()

    def push() -> None:
        app.push_screen(screen, lambda result: answer.set_result(bool(result)))

    try:
        app.call_from_thread(push)
    except RuntimeError:
        return False
    while not closing.is_set():
        try:
            return answer.result(timeout=0.1)
        except FutureTimeout:
            continue
    return False


def confirm_cluster(app: App[object], closing: threading.Event, decision: GuardDecision) -> bool:
    question = QuestionScreen(
        "A cluster that is not local", decision.message, yes="Use it anyway", no="Quit", default=False
    )
    return ask_from_thread(app, question, closing)


def trust_lesson(app: App[object], closing: threading.Event, explanation: str) -> bool:
    question = CautiousQuestionScreen("A lesson from elsewhere", explanation, yes="Trust it", no="Only read it")
    return ask_from_thread(app, question, closing)


def fast_forward(app: App[object], closing: threading.Event, lesson: Lesson, opening: Opening) -> bool:
    titles = "\n".join(f"  • {lesson.step(step_id).title}" for step_id in opening.missing)
    question = QuestionScreen(
        "Replay",
        f"Before “{lesson.step(opening.current).title}”, these steps are not done on this cluster:\n\n"
        f"{titles}\n\nFast-forward runs their commands and waits for their checks. "
        "Or continue anyway, and do them yourself.",
        yes="Fast-forward",
        no="Continue anyway",
    )
    return ask_from_thread(app, question, closing)
