"""Lending the learner's terminal to a command that asks for a password (the tunnel's sudo).

The session asks for the terminal from a worker thread (`Setup.terminal`, a callable
returning a context manager), but `App.suspend()` must run on the app's thread, and
the app must not draw while a command owns the screen. So the loan blocks the app
thread for its duration, the way `with app.suspend(): os.system(...)` does:

    worker thread                         app thread
    with lender():  ── call_from_thread ─► with app.suspend():   (screen handed back)
      run the command                          wait for release   (nothing draws)
    (exit)          ── release ──────────►  (resumes, redraws)

A helper thread makes the `call_from_thread`, because that call only returns once the
loan is over, while the worker must run the command in the meantime.

Keys the learner typed just before the app suspended may still be queued when it comes
back (the app thread was blocked all along); the app is told to drop them
(`InputGate.drop_input_before`), so that an `r` pressed twice does not run the step again.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.app import App

if TYPE_CHECKING:
    from tutor.session.events import Event, InputNeeded


@runtime_checkable
class InputGate(Protocol):
    def drop_input_before(self, moment: float) -> None: ...


class TerminalUnavailable(RuntimeError):
    """The app could not hand the terminal over (it is closing, or cannot suspend)."""


class TerminalLender:
    def __init__(self, app: App[object]) -> None:
        self.app = app
        self._asking: InputNeeded | None = None

    def on_event(self, event: Event) -> None:
        """A session listener: remember which command asks, to say so on the bare terminal."""
        from tutor.session.events import InputNeeded  # loaded with the session, long before

        if isinstance(event, InputNeeded) and event.lent:
            self._asking = event

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        entered = threading.Event()
        release = threading.Event()
        problems: list[BaseException] = []

        def hold() -> None:  # on the app thread
            try:
                with self.app.suspend():
                    self._explain()
                    entered.set()
                    release.wait()
                    # Still suspended: no input is read now, so what came before was typed
                    # before the loan. (Textual's event clock is time.monotonic() wherever
                    # it can suspend, i.e. not on Windows.)
                    returned = time.monotonic()
                if isinstance(self.app, InputGate):
                    self.app.drop_input_before(returned)
            except Exception as err:  # SuspendNotSupported, or a driver error
                problems.append(err)
            finally:
                entered.set()

        def ask_app_thread() -> None:
            try:
                self.app.call_from_thread(hold)
            except RuntimeError as err:  # the app is not running any more
                problems.append(err)
                entered.set()

        helper = threading.Thread(target=ask_app_thread, name="tui-terminal-loan", daemon=True)
        helper.start()
        entered.wait()
        if problems:
            release.set()
            helper.join()
            raise TerminalUnavailable(f"the tutor could not hand over the terminal: {problems[0]}")
        try:
            yield
        finally:
            release.set()
            helper.join()

    def _explain(self) -> None:
        asking = self._asking
        what = f"`{asking.text}`" if asking else "A command"
        prompt = f" ({asking.prompt.strip()})" if asking and asking.prompt.strip() else ""
        out = sys.__stdout__
        if out is None:
            return
        out.write(
            f"\nk8s-tutor: {what} needs you at the terminal{prompt}.\n"
            "Answer it here; the lesson comes back when the command has what it needs.\n\n"
        )
        out.flush()


# Every mode Textual's driver may turn on, turned off: mouse reporting (all its encodings),
# focus events, bracketed paste, in-band resize, the kitty keyboard protocol; then line
# wrap, plain colours, the main screen and a visible cursor.
GIVE_BACK = (
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l\x1b[?1004l"
    "\x1b[?2004l\x1b[?2048l\x1b[<u\x1b[?7h\x1b[0m\x1b[?1049l\x1b[?25h"
)


def terminal_keeper() -> Callable[[], None]:
    """Note the learner's terminal as it is now, before the TUI takes it; the function
    returned gives it back as it was, whatever state the TUI left it in.

    For the way out that Textual does not see: the tutor killed by a signal. It only
    writes and sets the terminal's attributes, so it may run in a signal handler.
    """
    import termios

    stdin, screen = sys.__stdin__, sys.__stderr__  # what Textual reads from and draws on
    keys = stdin.fileno() if stdin is not None else -1
    drawn = screen.fileno() if screen is not None else -1
    try:
        saved = termios.tcgetattr(keys)
    except (termios.error, OSError, ValueError):
        saved = None

    def give_back() -> None:
        with contextlib.suppress(OSError):
            os.write(drawn, GIVE_BACK.encode())
        if saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(keys, termios.TCSANOW, saved)

    return give_back
