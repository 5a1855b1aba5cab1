"""Fault rules, for tests of how the tutor copes with a misbehaving cluster.

Passive: the rules are data that the API server (:meth:`Faults.match_request`) and the
kubelet (:meth:`Faults.image_fault`) read; nothing here acts on the cluster. What does act
(cutting watches, pausing requests, closing the port) is a test control on
:class:`~tutor.sandbox.sandbox.Sandbox`. All methods are safe to call from any thread::

    sb.faults.fail("GET", r"/api/v1/namespaces/pacman/pods$", status=500, times=2)
    sb.faults.image_pull_failure("quay.io/ifont/pacman-nodejs-app:*")
    sb.faults.crash_loop("docker.io/library/mongo:5.0.30")
    sb.faults.never_ready("mongo:*")
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tutor.sandbox.errors import ApiError

ImageFault = Literal["pull", "crash", "unready"]

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass
class FailureRule:
    method: str
    path: re.Pattern[str]
    status: int
    remaining: int | None
    until: float | None
    reason: str
    message: str
    hits: int = 0

    def active(self, now: float) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.until is None or now < self.until


class Faults:
    """The fault rules of one sandbox.

    ``normalize_image`` turns an image reference into its full form (``mongo`` ->
    ``docker.io/library/mongo:latest``) so that a glob may name either; subscribers
    (:meth:`on_image_change`) hear when the image rules change, so the kubelet can look again.
    """

    def __init__(
        self, normalize_image: Callable[[str], str] = lambda image: image, clock: Callable[[], float] = time.time
    ) -> None:
        self._normalize = normalize_image
        self._clock = clock
        """The sandbox's clock: an outage of `duration` seconds lasts that long in its time."""
        self._lock = threading.Lock()
        self._rules: list[FailureRule] = []
        self._images: dict[str, ImageFault] = {}
        self._listeners: list[Callable[[], None]] = []

    # ---- API errors ------------------------------------------------------------------

    def fail(
        self,
        method: str = "*",
        path: str = ".*",
        status: int = 500,
        *,
        times: int | None = 1,
        duration: float | None = None,
        reason: str | None = None,
        message: str | None = None,
    ) -> FailureRule:
        """Answer matching requests with ``status``: the next ``times`` of them, or all
        for ``duration`` seconds (``times=None``). ``path`` is a regex searched in the
        URL path; ``method`` is an HTTP method or ``*``."""
        rule = FailureRule(
            method.upper(),
            re.compile(path),
            status,
            None if duration is not None and times == 1 else times,
            self._clock() + duration if duration is not None else None,
            reason or _REASONS.get(status, "InternalError"),
            message or f"k8s-tutor sandbox: injected failure ({status})",
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_failures(self) -> None:
        with self._lock:
            self._rules.clear()

    def match_request(self, method: str, path: str) -> ApiError | None:
        """The injected error for this request, if a rule matches (and counts it)."""
        now = self._clock()
        with self._lock:
            for rule in self._rules:
                if not rule.active(now):
                    continue
                if rule.method not in ("*", method.upper()) or not rule.path.search(path):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                rule.hits += 1
                return ApiError(rule.status, rule.reason, rule.message, details={})
        return None

    # ---- images ------------------------------------------------------------------------

    def image_pull_failure(self, image: str) -> None:
        """Pods of this image (glob) fail with ErrImagePull, then ImagePullBackOff."""
        self._set_image(image, "pull")

    def crash_loop(self, image: str) -> None:
        """Containers of this image (glob) exit with code 1 and go into CrashLoopBackOff."""
        self._set_image(image, "crash")

    def never_ready(self, image: str) -> None:
        """Containers of this image (glob) run but never pass their readiness probe."""
        self._set_image(image, "unready")

    def clear_image_faults(self, image: str | None = None) -> None:
        with self._lock:
            if image is None:
                self._images.clear()
            else:
                self._images.pop(image, None)
        self._image_rules_changed()

    def on_image_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of the image rules."""
        with self._lock:
            self._listeners.append(listener)

    def image_fault(self, image: str) -> tuple[ImageFault, int] | None:
        """The fault for an image, as ("pull" | "crash" | "unready", exit code), or None."""
        with self._lock:
            items = list(self._images.items())
        if not items:
            return None
        full = self._normalize(image)
        for pattern, kind in items:
            if fnmatch.fnmatchcase(image, pattern) or fnmatch.fnmatchcase(full, pattern):
                return kind, 1
        return None

    def _set_image(self, image: str, kind: ImageFault) -> None:
        with self._lock:
            self._images[image] = kind
        self._image_rules_changed()

    def _image_rules_changed(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
