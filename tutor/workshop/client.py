"""The learner's side of a workshop: send snapshots to the board, hear the room's notices.

    client = WorkshopClient(
        ClientOptions(url=WorkshopUrl.parse(text, join=True), name="Ana"),
        on_state=view_says_connection_state,     # ConnectionChange, on transitions only
        on_notice=view_shows_notice,             # RoomMessage | GoToStep
    )
    client.start()
    client.submit(snapshot)                      # returns at once, whatever the network does
    ...
    client.close()

Threading contract. `submit` never blocks: it puts the snapshot in a one-place queue
(a newer snapshot replaces one not yet sent) and returns. Two daemon threads do the
I/O: `k8s-tutor workshop sender` (joins, then sends the latest snapshot) and
`k8s-tutor workshop notices` (holds a long poll open for the room's notices). The
callbacks run on those threads, one at a time; they must return quickly (post a message
to the view). When the server is away the threads retry with back-off; once it answers
again the latest snapshot not yet delivered is sent. A join the server refuses (unknown
join code, room full) stops the client: state `refused`, nothing more is tried.

The learner's id and secret are saved (see `identity.py`) so a restarted tutor rejoins
as the same learner.
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from tutor.workshop.http import JsonHttp, Reply, Unreachable, WorkshopUrl
from tutor.workshop.identity import Identity, IdentityStore, UnsafeIdentity
from tutor.workshop.notices import Notice, parse_notice
from tutor.workshop.snapshot import Snapshot, SnapshotError

log = logging.getLogger(__name__)

_LOST_IDENTITY = frozenset({"unknown_secret", "not_your_record"})


class ConnectionState(StrEnum):
    CONNECTED = "connected"
    """The server answered the last request."""
    UNREACHABLE = "unreachable"
    """Requests fail (no answer, or the server's own error); retrying with back-off."""
    REFUSED = "refused"
    """The server will not take this learner (unknown join code, room full); stopped."""


@dataclass(frozen=True)
class ConnectionChange:
    state: ConnectionState
    previous: ConnectionState | None
    """None the first time: CONNECTED then means joined; after UNREACHABLE, reconnected."""
    detail: str
    """For people: the workshop's name, or why the server is unreachable or refused."""
    warning: str | None = None
    """Something the learner should know once (a saved identity that was not trusted)."""


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    most: float = 15.0
    factor: float = 2.0
    jitter: float = 0.25
    """Each delay is stretched by up to this fraction, so a room does not retry in step."""

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay * (1 + random.random() * self.jitter)
            delay = min(self.most, delay * self.factor)


@dataclass(frozen=True)
class ClientOptions:
    url: WorkshopUrl
    name: str
    tls: ssl.SSLContext | None = None
    timeout: float = 10.0
    """Seconds to wait for an answer to a join or a snapshot."""
    poll_wait: int = 25
    """Seconds the server holds a request for notices open."""
    backoff: Backoff = field(default_factory=Backoff)
    identities: IdentityStore | None = None
    """Where the learner's identity is kept (default: the user's state folder)."""

    def __post_init__(self) -> None:
        if self.url.code is None:
            raise ValueError("a learner's workshop URL ends in the join code")


class _Stop(Exception):
    """The server refused this learner: nothing more to try."""


class _Tracker:
    """The one connection state both threads report into; callbacks on transitions only."""

    def __init__(self, on_state: Callable[[ConnectionChange], None]) -> None:
        self._on_state = on_state
        self._lock = threading.Lock()
        self.state: ConnectionState | None = None
        self.warning: str | None = None
        self._last_ok: float | None = None

    def ok(self, detail: str) -> bool:
        """Returns True when this answer ends a time of failures."""
        with self._lock:
            self._last_ok = time.monotonic()
        return self._move(ConnectionState.CONNECTED, detail) == ConnectionState.UNREACHABLE

    def failed(self, detail: str, started: float) -> None:
        """A request begun at `started` (monotonic) got no answer. If another thread has had
        an answer since it began, the news is stale (the server came back meanwhile): the
        thread's next try, begun after that answer, says whether it is down again."""
        with self._lock:
            if self._last_ok is not None and started < self._last_ok:
                return
        self._move(ConnectionState.UNREACHABLE, detail)

    def refused(self, detail: str) -> None:
        self._move(ConnectionState.REFUSED, detail)

    def _move(self, state: ConnectionState, detail: str) -> ConnectionState | None:
        with self._lock:
            previous = self.state
            if previous == state or previous == ConnectionState.REFUSED:
                return None
            self.state = state
            change = ConnectionChange(state, previous, detail, self.warning)
            self.warning = None
            try:
                self._on_state(change)
            except Exception:
                log.exception("a workshop connection callback failed")
            return previous


class WorkshopClient:
    def __init__(
        self,
        options: ClientOptions,
        *,
        on_state: Callable[[ConnectionChange], None],
        on_notice: Callable[[Notice], None],
    ) -> None:
        self.options = options
        self._on_notice = on_notice
        self._identities = options.identities or IdentityStore()
        self._tracker = _Tracker(on_state)
        self._lock = threading.Lock()
        self._pending: Snapshot | None = None
        self._delivered: Snapshot | None = None
        self._identity: Identity | None = None
        self._cursor: int | None = None
        self._wake = threading.Event()
        """Set when there is something to send, or the client is closing."""
        self._retry = threading.Event()
        """Set to cut a back-off short: the server answered again, or the client is closing."""
        self._joined = threading.Event()
        self._closing = threading.Event()
        self._send_http = JsonHttp(options.url, timeout=options.timeout, tls=options.tls)
        self._poll_http = JsonHttp(options.url, timeout=options.timeout, tls=options.tls)
        self._threads = [
            threading.Thread(target=self._send_loop, name="k8s-tutor workshop sender", daemon=True),
            threading.Thread(target=self._notice_loop, name="k8s-tutor workshop notices", daemon=True),
        ]
        self.rejected = 0
        """Snapshots the server refused as invalid (a bug on this side; they are dropped)."""

    # --- the caller's side ------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, snapshot: Snapshot) -> None:
        """Queue `snapshot` to be sent; returns at once. A newer one replaces it if it has not left yet."""
        with self._lock:
            self._pending = snapshot
        self._wake.set()

    @property
    def state(self) -> ConnectionState | None:
        return self._tracker.state

    @property
    def learner_id(self) -> str | None:
        identity = self._identity
        return identity.learner if identity else None

    def close(self, timeout: float = 2.0) -> list[str]:
        """Stop both threads (a snapshot still queued gets one try if the server is there).
        Returns the names of threads that did not stop in time (normally none)."""
        self._closing.set()
        self._wake.set()
        self._retry.set()
        self._joined.set()
        self._poll_http.abort()
        sender = self._threads[0]
        if sender.is_alive():
            sender.join(timeout)
            if sender.is_alive():
                self._send_http.abort()
                sender.join(1.0)
        for thread in self._threads[1:]:
            if thread.is_alive():
                thread.join(timeout)
        return [thread.name for thread in self._threads if thread.is_alive()]

    # --- the sender -------------------------------------------------------------------

    def _take(self) -> Snapshot | None:
        with self._lock:
            snapshot, self._pending = self._pending, None
            self._wake.clear()
            return snapshot

    def _put_back(self, snapshot: Snapshot) -> None:
        with self._lock:
            if self._pending is None:
                self._pending = snapshot

    def _send_loop(self) -> None:
        delays = self.options.backoff.delays()
        try:
            while True:
                self._wake.wait()
                closing = self._closing.is_set()
                snapshot = self._take()
                if snapshot is None:
                    if closing:
                        return
                    continue
                if closing and self._tracker.state != ConnectionState.CONNECTED:
                    return
                if self._deliver(snapshot):
                    delays = self.options.backoff.delays()
                    continue
                if closing:
                    return
                self._put_back(snapshot)
                self._retry.wait(next(delays))
                self._retry.clear()
                self._wake.set()
        except _Stop:
            return
        finally:
            self._send_http.close()

    def _deliver(self, snapshot: Snapshot) -> bool:
        """True when the snapshot is dealt with (stored, or refused as invalid); False to retry."""
        for fresh_join in (False, True):
            started = time.monotonic()
            try:
                identity = self._ensure_identity()
                reply = self._send_http.request(
                    "PUT",
                    f"/api/v1/learners/{identity.learner}/snapshot",
                    body=snapshot.to_json(),
                    token=identity.secret,
                )
            except Unreachable as err:
                self._tracker.failed(f"{self.options.url.base}: {err}", started)
                return False
            if reply.ok:
                self._delivered = snapshot
                if self._tracker.ok(self._workshop_detail()):
                    self._retry.set()
                return True
            if reply.status >= 500:
                self._tracker.failed(f"{self.options.url.base}: {reply.error_message}", started)
                return False
            if reply.error_code in _LOST_IDENTITY and not fresh_join:
                # The server no longer knows us (its database was replaced): join anew, resend.
                self._lose_identity(identity)
                continue
            self.rejected += 1
            log.warning("the workshop refused a snapshot: %s", reply.error_message)
            return True
        return True

    def _workshop_detail(self) -> str:
        return f"workshop at {self.options.url.base}"

    def _ensure_identity(self) -> Identity:
        identity = self._identity
        if identity is not None:
            return identity
        url = self.options.url
        assert url.code is not None
        try:
            saved = self._identities.load(url.base, url.code)
        except (UnsafeIdentity, OSError) as err:
            self._tracker.warning = f"not using the saved workshop identity: {err}; joining as a new learner"
            saved = None
        if saved is not None:
            if saved.name != self.options.name:
                saved = self._rename(saved)
            self._adopt(saved)
            return saved
        reply = self._send_http.request("POST", f"/api/v1/join/{url.code}", body={"name": self.options.name})
        if reply.status >= 500:
            raise Unreachable(reply.error_message)
        if reply.status != 201 or not isinstance(reply.data, dict):
            self._tracker.refused(_refusal(reply))
            raise _Stop
        data = reply.data
        identity = Identity(url.base, url.code, str(data["learner"]), str(data["secret"]), self.options.name)
        cursor = data.get("cursor")
        self._cursor = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
        try:
            self._identities.save(identity)
        except OSError as err:
            self._tracker.warning = f"could not save the workshop identity ({err}); a restart joins anew"
        self._adopt(identity)
        return identity

    def _rename(self, saved: Identity) -> Identity:
        reply = self._send_http.request(
            "PATCH", f"/api/v1/learners/{saved.learner}", body={"name": self.options.name}, token=saved.secret
        )
        if not reply.ok:
            return saved
        renamed = Identity(saved.server, saved.code, saved.learner, saved.secret, self.options.name)
        with contextlib.suppress(OSError):
            self._identities.save(renamed)
        return renamed

    def _adopt(self, identity: Identity) -> None:
        self._identity = identity
        self._joined.set()

    def _lose_identity(self, identity: Identity) -> None:
        with self._lock:
            if self._identity is not identity:
                return
            self._identity = None
            self._joined.clear()
            self._cursor = None
            # Whatever the old record held is gone: the new one starts from the latest state.
            if self._pending is None and self._delivered is not None:
                self._pending = self._delivered
        self._identities.forget(identity.server, identity.code)
        self._wake.set()

    # --- the notices ------------------------------------------------------------------

    def _notice_loop(self) -> None:
        delays = self.options.backoff.delays()
        try:
            while not self._closing.is_set():
                self._joined.wait()
                identity = self._identity
                if identity is None or self._closing.is_set():
                    continue
                query = f"wait={self.options.poll_wait}"
                if self._cursor is not None:
                    query += f"&after={self._cursor}"
                started = time.monotonic()
                try:
                    reply = self._poll_http.request(
                        "GET",
                        f"/api/v1/learners/{identity.learner}/notices?{query}",
                        token=identity.secret,
                        timeout=self.options.poll_wait + self.options.timeout,
                    )
                except Unreachable as err:
                    if self._closing.is_set():
                        return
                    self._tracker.failed(f"{self.options.url.base}: {err}", started)
                    self._closing.wait(next(delays))
                    continue
                if reply.ok and isinstance(reply.data, dict):
                    delays = self.options.backoff.delays()
                    if self._tracker.ok(self._workshop_detail()):
                        self._retry.set()
                    self._hand_over(reply)
                elif reply.error_code in _LOST_IDENTITY:
                    self._lose_identity(identity)
                else:
                    self._tracker.failed(f"{self.options.url.base}: {reply.error_message}", started)
                    self._closing.wait(next(delays))
        finally:
            self._poll_http.close()

    def _hand_over(self, reply: Reply) -> None:
        cursor = reply.data.get("cursor")
        if isinstance(cursor, int) and not isinstance(cursor, bool):
            self._cursor = cursor
        for raw in reply.data.get("notices") or []:
            try:
                notice = parse_notice(raw)
            except SnapshotError as err:
                log.warning("ignored a notice the workshop sent: %s", err)
                continue
            try:
                self._on_notice(notice)
            except Exception:
                log.exception("a workshop notice callback failed")


def _refusal(reply: Reply) -> str:
    match reply.error_code:
        case "unknown_join_code":
            return "the workshop does not know this join code: check the URL the instructor gave"
        case "room_full":
            return "the workshop is full"
        case _:
            return f"the workshop refused to let this learner join: {reply.error_message}"
