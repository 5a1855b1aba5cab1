"""Messages the lesson screen receives from its workers, named as what happened.

Workers run on other threads and only ever `post_message` these (thread-safe); the
screen changes widgets in their handlers, on its own thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tutor.session.session import Opening


class SessionOpened(Message):
    """`open` returned: where the learner is, which earlier steps needed work, and whether
    fast-forward ran them."""

    def __init__(self, opening: Opening) -> None:
        super().__init__()
        self.opening = opening


class SessionEventsArrived(Message):
    """The bridge queued session events; take them all."""


class CommandsFinished(Message):
    """A run the learner started (a step's commands, or one command) has returned."""

    def __init__(self, step_id: str) -> None:
        super().__init__()
        self.step_id = step_id


class AutoplayFinished(Message):
    """Autoplay returned; `ok` is False when a step's checks timed out."""

    def __init__(self, ok: bool) -> None:
        super().__init__()
        self.ok = ok


class WorkFailed(Message):
    """A worker met an error it could not turn into a session event."""

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__()
        self.what = what
        self.error = error
