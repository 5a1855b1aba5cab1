"""The top line: the lesson, the step, which cluster (plainly: the SIMULATED one), and its connection."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from tutor.cluster.status import ConnectionStatus

CONNECTION_LABELS = {
    "connected": "● connected",
    "connecting": "◌ connecting…",
    "no_cluster": "○ no cluster yet: run the first step",
    "refused": "✗ not using this cluster",
    "unreachable": "✗ cluster unreachable",
    "rejected": "✗ the API server refuses the tutor",
}
CONNECTION_CLASSES = {
    "connected": "-up",
    "connecting": "-waiting",
    "reconnecting": "-waiting",
    "no_cluster": "-none",
    "refused": "-down",
    "unreachable": "-down",
    "rejected": "-down",
}


COMPACT_BELOW = 110
"""Narrower than this, the header says less by design: SIMULATED, the context without the server."""

BADGE = "SIMULATED CLUSTER (sandbox)"
BADGE_SHORT = "SIMULATED"


class LessonHeader(Horizontal):
    def __init__(self, title: str, *, sandbox: bool, position: tuple[int, int] | None = None) -> None:
        super().__init__(id="header")
        self._title = title
        self._sandbox = sandbox
        self._position = position
        self._compact = False
        self._labels = (CONNECTION_LABELS["connecting"], CONNECTION_LABELS["connecting"])
        """The connection as it reads (in full, compact)."""

    def compose(self) -> ComposeResult:
        yield Static("k8s-tutor", id="app-name")
        yield Static(Content(self._title), id="lesson-title")
        yield Static(self._position_text(*self._position) if self._position else "", id="step-position")
        badge = Static(BADGE, id="sandbox-badge")
        badge.display = self._sandbox
        yield badge
        yield Static(CONNECTION_LABELS["connecting"], id="connection", classes="-waiting")

    def on_resize(self) -> None:
        compact = self.size.width < COMPACT_BELOW
        if compact != self._compact:
            self._compact = compact
            self.query_one("#sandbox-badge", Static).update(BADGE_SHORT if compact else BADGE)
            self._show_label()
            if self._position is not None:
                self.show_step(*self._position)

    def _show_label(self) -> None:
        full, short = self._labels
        self.query_one("#connection", Static).update(short if self._compact else full)

    def _position_text(self, number: int, total: int) -> str:
        return f"{number}/{total}" if self._compact else f"Step {number} of {total}"

    def show_step(self, number: int, total: int) -> None:
        self._position = (number, total)
        self.query_one("#step-position", Static).update(self._position_text(number, total))

    def show_cluster(self, *, sandbox: bool) -> None:
        self._sandbox = sandbox
        self.query_one("#sandbox-badge").display = sandbox

    def show_connection(self, status: ConnectionStatus) -> None:
        state = status.state
        short = ""
        if state == "connected" and status.context:
            # Where the commands go: the context, and the server's host (its port is in the tooltip).
            host = urlsplit(status.server or "").hostname or status.server
            label = f"● {status.context} at {host}" if host else f"● {status.context}"
            short = f"● {status.context}"
        elif state == "reconnecting":
            # The time the connection was lost, not now: a learner reads how long it has been.
            label = f"◌ reconnecting since {time.strftime('%H:%M:%S', time.localtime(status.since))}"
        else:
            label = CONNECTION_LABELS[state]
            short = label.partition(":")[0]  # "○ no cluster yet: run the first step" says less
        widget = self.query_one("#connection", Static)
        self._labels = (label, short or label)
        self._show_label()
        widget.tooltip = Content(status.detail) if status.detail else None  # the cluster's words: not markup
        for css_class in set(CONNECTION_CLASSES.values()):
            widget.set_class(CONNECTION_CLASSES[state] == css_class, css_class)

    def show_unavailable(self) -> None:
        widget = self.query_one("#connection", Static)
        self._labels = ("✗ no session", "✗ no session")
        self._show_label()
        for css_class in set(CONNECTION_CLASSES.values()):
            widget.set_class(css_class == "-down", css_class)
