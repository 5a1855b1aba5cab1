"""How the tutor stands with the cluster's API: the status line a learner sees."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

State = Literal["no_cluster", "refused", "connecting", "connected", "reconnecting", "unreachable", "rejected"]


@dataclass(frozen=True)
class ConnectionStatus:
    state: State
    since: float
    """Wall-clock time (time.time()) the state began."""
    message: str = ""
    """One line for the learner: what is wrong and what to do."""
    last_error: str | None = None
    server: str | None = None
    context: str | None = None

    @classmethod
    def connected_now(cls) -> ConnectionStatus:
        return cls("connected", time.time())

    @property
    def ok(self) -> bool:
        return self.state == "connected"

    @property
    def detail(self) -> str:
        """What is behind the state, in a line: the learner's message, the last error, or where
        the connection goes once it is up."""
        if self.message or self.last_error:
            return self.message or self.last_error or ""
        if self.state == "connected" and self.context:
            return f"context {self.context} at {self.server}"
        return ""

    def describe(self) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.since))
        text = {
            "no_cluster": "no cluster yet",
            "refused": "not using this cluster",
            "connecting": "connecting",
            "connected": "connected",
            "reconnecting": f"reconnecting since {when}",
            "unreachable": f"cluster unreachable since {when}",
            "rejected": "the server does not answer as this cluster's API server",
        }[self.state]
        if self.message.startswith(text):  # "no cluster yet: run the first step ..."
            text = self.message
        elif self.message:
            text += f": {self.message}"
        elif self.last_error:
            text += f" ({self.last_error})"
        return text
