"""Fault injection, for tests of how the tutor copes with a misbehaving cluster.

All methods are safe to call from the test's thread::

    sb.faults.fail("GET", r"/api/v1/namespaces/pacman/pods$", status=500, times=2)
    sb.faults.drop_watches()           # every open watch connection is cut
    sb.faults.expire_watch_cache()     # resuming watches get 410 Gone
    sb.faults.pause(); ...; sb.faults.resume()     # requests hang, then go on
    sb.faults.stop_listening(); sb.faults.start_listening(new_port=True)
    sb.faults.image_pull_failure("quay.io/ifont/pacman-nodejs-app:*")
    sb.faults.crash_loop("docker.io/library/mongo:5.0.30")
    sb.faults.never_ready("mongo:*")
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tutor.sandbox.errors import ApiError

if TYPE_CHECKING:
    from tutor.sandbox.sandbox import Sandbox

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
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._rules: list[FailureRule] = []
        self._images: dict[str, str] = {}

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
            time.monotonic() + duration if duration is not None else None,
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
        now = time.monotonic()
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

    # ---- connections -------------------------------------------------------------------

    def drop_watches(self) -> int:
        """Cut every open watch connection; returns how many were cut."""
        return int(self._sandbox.call(lambda: self._sandbox.server.drop_watches()))

    def expire_watch_cache(self) -> None:
        """Forget the event log, so a watch resumed from an older version gets 410 Gone."""
        self._sandbox.store.compact()

    def pause(self) -> None:
        """Requests hang (the connection stays open) until :meth:`resume`."""
        self._sandbox.call(self._sandbox.server.pause)

    def resume(self) -> None:
        self._sandbox.call(self._sandbox.server.resume)

    def stop_listening(self) -> None:
        """Close the API port: connection refused, as with a crashed API server."""
        self._sandbox.stop_listening()

    def start_listening(self, *, new_port: bool = False) -> int:
        """Open the API port again, on a new port if asked (the kubeconfig is rewritten)."""
        return self._sandbox.start_listening(new_port=new_port)

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
        self._sandbox.image_faults_changed()

    def _set_image(self, image: str, kind: str) -> None:
        with self._lock:
            self._images[image] = kind
        self._sandbox.image_faults_changed()

    def image_fault(self, image: str) -> tuple[str, int] | None:
        """The fault for an image, as ("pull" | "crash" | "unready", exit code), or None."""
        from tutor.sandbox.images import normalize_image

        with self._lock:
            items = list(self._images.items())
        full = normalize_image(image)
        for pattern, kind in items:
            if fnmatch.fnmatchcase(image, pattern) or fnmatch.fnmatchcase(full, pattern):
                return kind, 1
        return None
