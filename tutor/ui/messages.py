"""Messages the lesson screen receives from its workers, named as what happened.

Workers run on other threads and only ever `post_message` these (thread-safe); the
screen changes widgets in their handlers, on its own thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tutor.session.session import LessonSession, Opening
    from tutor.ui.bridge import EventBridge


class SessionBuilt(Message):
    """The session exists and the bridge listens to it; `open` runs next."""

    def __init__(self, session: LessonSession, bridge: EventBridge) -> None:
        super().__init__()
        self.session = session
        self.bridge = bridge


class SessionUnavailable(Message):
    """No session could be built (the guard refused the cluster, a broken kubeconfig...)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class SessionOpened(Message):
    """`open` returned: where the learner is, and which earlier steps need work."""

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


class PlayFinished(Message):
    """Fast-forward or autoplay returned; `ok` is False when a step's checks timed out."""

    def __init__(self, ok: bool, *, autoplay: bool) -> None:
        super().__init__()
        self.ok = ok
        self.autoplay = autoplay


class WorkFailed(Message):
    """A worker met an error it could not turn into a session event."""

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__()
        self.what = what
        self.error = error
