"""Honest refusals: what the sandbox does not simulate is refused at once, saying so.

No container runs in the sandbox, so streaming into one (``exec``, ``attach``, ``cp``,
``run -i``), forwarding or proxying through the API, and metrics (``kubectl top``) have
nothing behind them. Each answers immediately with a Status whose message (in
``data/refusals.yaml``) says it is the sandbox's limit and what the command does on a real
cluster: never a 404 that reads as a missing object, never a hang.
"""

from __future__ import annotations

import threading
from importlib import resources

import yaml

from tutor.sandbox.errors import ApiError

# kind -> (HTTP status, Status reason). kubectl prints "Error from server (REASON): MESSAGE".
_STATUS = {
    "exec": (501, "NotImplemented"),
    "attach": (501, "NotImplemented"),
    "portforward": (501, "NotImplemented"),
    "proxy": (501, "NotImplemented"),
    "debug": (501, "NotImplemented"),
    "internals": (501, "NotImplemented"),
    # What a real server answers while an aggregated API (metrics-server) is unavailable.
    "metrics": (503, "ServiceUnavailable"),
    "unmodelled": (501, "NotImplemented"),
}
KINDS = tuple(_STATUS)

_messages: dict[str, str] | None = None
_lock = threading.Lock()


def _templates() -> dict[str, str]:
    global _messages
    with _lock:
        if _messages is None:
            text = resources.files("tutor.sandbox").joinpath("data/refusals.yaml").read_text()
            loaded = yaml.safe_load(text)
            _messages = {str(kind): " ".join(str(message).split()) for kind, message in loaded.items()}
        return _messages


def refusal(kind: str, name: str, detail: str = "") -> ApiError:
    """The answer to a request the sandbox cannot serve (``kind`` is one of :data:`KINDS`)."""
    status, reason = _STATUS[kind]
    message = _templates()[kind].format(name=name, detail=detail or "it")
    return ApiError(status, reason, message, details={"name": name, "kind": kind})
