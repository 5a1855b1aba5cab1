"""The workshop in line mode: one line per change of the board's connection, the
instructor's messages, and "everyone, step N" as an offer the learner takes with `g`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import assert_never

from tutor.safe_text import strip_controls
from tutor.session.session import LessonSession
from tutor.session.workshop import ConnectionWords, Offer, OfferKind, offer_for
from tutor.workshop.client import ConnectionChange
from tutor.workshop.notices import GoToStep, Notice, RoomMessage


class WorkshopLines:
    def __init__(self, session: LessonSession, say: Callable[[str], None], *, name: str, interactive: bool) -> None:
        self.session = session
        self.say = say
        self.interactive = interactive
        self._words = ConnectionWords(name)
        self._lock = threading.Lock()
        self._offer: Offer | None = None

    def on_state(self, change: ConnectionChange) -> None:
        """The client's connection changed (its thread): said once per change."""
        self.say(f"[workshop] {self._words(change)}")
        if change.warning:
            self.say(f"[workshop] Note: {strip_controls(change.warning)}")

    def on_notice(self, notice: Notice) -> None:
        """A notice from the room (the client's thread)."""
        match notice:
            case RoomMessage(text=text):
                self.say(f"[workshop] Message from the instructor: {strip_controls(text)}")
            case GoToStep():
                offer = offer_for(self.session, notice)
                with self._lock:
                    self._offer = offer if offer.kind is OfferKind.GO else None
                how = "Type g and Enter to go there." if self.interactive else "This run goes on by itself."
                self.say(f"[workshop] {offer.words(how)}")
            case _:
                assert_never(notice)

    def go(self) -> None:
        """`g`: take the instructor's last offer, if it still stands."""
        with self._lock:
            offer, self._offer = self._offer, None
        if offer is None:
            self.say("Nothing to go to: g takes you to the step the instructor asks for, once they do.")
            return
        if not self.session.is_unlocked(offer.step):
            frontier = self.session.frontier
            self.say(f"Step {offer.number} is locked: finish “{frontier.title if frontier else ''}” first.")
            return
        self.session.show(offer.step)
