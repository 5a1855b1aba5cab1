"""Asking the learner a question from a worker thread, with a modal screen.

`build_session` calls `Setup.confirm(message)` on the connecting worker's thread and
waits for the answer. The modal is pushed on the app thread; the worker waits on a
future, but never forever: when the app closes, the answer is "no".
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from textual.app import App
from textual.screen import ModalScreen


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
