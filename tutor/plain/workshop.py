"""The workshop in line mode: one line per change of the board's connection, the
instructor's messages, and "everyone, step N" as an offer the learner takes with `g`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import assert_never

from tutor.safe_text import strip_controls
from tutor.session.session import LessonSession
from tutor.session.workshop import Offer, OfferKind, offer_for
from tutor.workshop.client import ConnectionChange, ConnectionState
from tutor.workshop.notices import GoToStep, Notice, RoomMessage


class WorkshopLines:
    def __init__(self, session: LessonSession, say: Callable[[str], None], *, name: str, interactive: bool) -> None:
        self.session = session
        self.say = say
        self.name = name
        self.interactive = interactive
        self._lock = threading.Lock()
        self._offer: Offer | None = None
        self._joined = False

    def on_state(self, change: ConnectionChange) -> None:
        """The client's connection changed (its thread): said once per change."""
        detail = strip_controls(change.detail)
        match change.state:
            case ConnectionState.CONNECTED if not self._joined:
                self._joined = True
                self.say(
                    f"[workshop] Joined the {detail} as {self.name}: the instructor's board follows your progress."
                )
            case ConnectionState.CONNECTED:
                self.say("[workshop] The workshop board is back; it has your latest progress.")
            case ConnectionState.UNREACHABLE:
                self.say(
                    f"[workshop] The workshop board is unreachable ({detail}); the lesson carries on, "
                    "and your progress is sent when it is back."
                )
            case ConnectionState.REFUSED:
                self.say(f"[workshop] Not joined: {detail}. The lesson carries on without the board.")
            case _:
                assert_never(change.state)
        if change.warning:
            self.say(f"[workshop] Note: {strip_controls(change.warning)}")

    def on_notice(self, notice: Notice) -> None:
        """A notice from the room (the client's thread)."""
        match notice:
            case RoomMessage(text=text):
                self.say(f"[workshop] Message from the instructor: {strip_controls(text)}")
            case GoToStep():
                self._goto(notice)
            case _:
                assert_never(notice)

    def _goto(self, notice: GoToStep) -> None:
        offer = offer_for(self.session, notice)
        asked = f"The instructor asks everyone to go to step {offer.number} ({offer.title})"
        with self._lock:
            self._offer = offer if offer.kind is OfferKind.GO else None
        match offer.kind:
            case OfferKind.GO if self.interactive:
                self.say(f"[workshop] {asked}. Type g and Enter to go there.")
            case OfferKind.GO:
                self.say(f"[workshop] {asked}; this run goes on by itself.")
            case OfferKind.HERE:
                self.say(f"[workshop] {asked}: you are on it.")
            case OfferKind.LOCKED:
                self.say(
                    f"[workshop] {asked}. It unlocks once “{offer.waits_for}” is done on your cluster: "
                    "carry on with that first."
                )
            case OfferKind.ELSEWHERE:
                where = f"lesson {notice.lesson}" if notice.lesson else "another lesson"
                self.say(f"[workshop] The instructor asks everyone to go to step {notice.step} of {where}.")
            case _:
                assert_never(offer.kind)

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
