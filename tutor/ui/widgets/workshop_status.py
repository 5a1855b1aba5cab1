"""The workshop in the TUI: a word in the header for the board's connection, the room's
messages as notifications, and "everyone, step N" as an offer the learner takes with `g`.

It owns the session's `WorkshopLink` (tutor/session/workshop.py). The client's callbacks
run on its threads: they only post messages here, and this widget draws them on the
app's thread.
"""

from __future__ import annotations

from typing import assert_never

from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tutor.safe_text import strip_controls
from tutor.session.session import LessonSession
from tutor.session.workshop import ConnectionWords, Offer, OfferKind, WorkshopLink, WorkshopSetup, offer_for
from tutor.workshop.client import ConnectionChange, ConnectionState
from tutor.workshop.notices import GoToStep, Notice, RoomMessage

CLASSES = ("-up", "-waiting", "-down")


class WorkshopStatus(Static):
    DEFAULT_CSS = """
    WorkshopStatus { width: auto; max-width: 40; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    WorkshopStatus.-up { color: $success; }
    WorkshopStatus.-waiting { color: $warning; }
    WorkshopStatus.-down { color: $error; text-style: bold; }
    """

    class StateChanged(Message):
        def __init__(self, change: ConnectionChange) -> None:
            super().__init__()
            self.change = change

    class NoticeArrived(Message):
        def __init__(self, notice: Notice) -> None:
            super().__init__()
            self.notice = notice

    def __init__(self, session: LessonSession, setup: WorkshopSetup) -> None:
        super().__init__("◌ workshop: joining…", id="workshop-status", classes="-waiting", markup=False)
        self.session = session
        self.setup = setup
        self.learner: str | None = setup.name
        self.offer: Offer | None = None
        """The instructor's step this learner may go to (`g`), if one stands."""
        self._words = ConnectionWords(setup.name or "")
        self._asked = False
        # Before the lesson opens: the board hears of it from its first event.
        self.link = WorkshopLink(
            session,
            setup,
            on_state=self._state_changed,
            on_notice=self._notice_arrived,
        )

    # The client's threads: post, never draw.
    def _state_changed(self, change: ConnectionChange) -> None:
        self.post_message(self.StateChanged(change))

    def _notice_arrived(self, notice: Notice) -> None:
        self.post_message(self.NoticeArrived(notice))

    def on_mount(self) -> None:
        if self.learner is not None:
            self.link.join(self.learner)

    def lesson_opened(self) -> None:
        """Asks the learner's name, when it is not known, once the lesson is open: a window
        pushed while the screen is still being painted would hold up its first frames."""
        if self.learner is not None or self._asked:
            return
        self._asked = True
        from tutor.ui.screens.workshop_name import WorkshopNameScreen

        self.app.push_screen(WorkshopNameScreen(self.setup.url.base), self._named)

    def _named(self, name: str | None) -> None:
        if name is None:
            self._show("○ workshop: not joined", "-down", None)
            self.app.notify(
                "Not joining the workshop: your progress stays on this machine. "
                "Start the tutor again with --name NAME to join.",
                title="Workshop",
                markup=False,
            )
            return
        self.learner = self._words.name = name
        self.link.join(name)

    def close(self) -> list[str]:
        """After the session closed: its last state gets one short try."""
        return self.link.close(timeout=1.0)

    # --- what the client says -----------------------------------------------------------

    def on_workshop_status_state_changed(self, message: StateChanged) -> None:
        change = message.change
        detail = strip_controls(change.detail)
        words = self._words(change)
        match change.state:
            case ConnectionState.CONNECTED:
                self._show(f"● workshop: {self.learner}", "-up", detail)
                self.app.notify(words, title="Workshop", markup=False)
            case ConnectionState.UNREACHABLE:
                self._show("✗ workshop board unreachable", "-down", detail)
                self.app.notify(words, title="Workshop", severity="warning", timeout=10, markup=False)
            case ConnectionState.REFUSED:
                self._show("✗ workshop: not joined", "-down", detail)
                self.app.notify(words, title="Workshop", severity="error", timeout=15, markup=False)
            case _:
                assert_never(change.state)
        if change.warning:
            self.app.notify(strip_controls(change.warning), title="Workshop", severity="warning", markup=False)

    def _show(self, label: str, css_class: str, detail: str | None) -> None:
        self.update(label)
        self.tooltip = Content(detail) if detail else None
        for name in CLASSES:
            self.set_class(name == css_class, name)

    def on_workshop_status_notice_arrived(self, message: NoticeArrived) -> None:
        notice = message.notice
        match notice:
            case RoomMessage(text=text):
                self.app.notify(strip_controls(text), title="From the instructor", timeout=30, markup=False)
            case GoToStep():
                self._offer(notice)
            case _:
                assert_never(notice)

    def _offer(self, notice: GoToStep) -> None:
        offer = offer_for(self.session, notice)
        self.offer = offer if offer.kind is OfferKind.GO else None
        self.app.notify(offer.words("Press g to go there."), title="From the instructor", timeout=30, markup=False)
        self.screen.refresh_bindings()

    def take_offer(self) -> str | None:
        """`g`: the step to go to, once; None when no offer stands."""
        offer, self.offer = self.offer, None
        self.screen.refresh_bindings()
        return offer.step if offer is not None else None
