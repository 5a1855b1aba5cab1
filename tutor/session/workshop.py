"""The session's side of a workshop: what the instructor's board hears of this lesson.

`WorkshopReporter` listens to the session's events and, whenever something the instructor
cares about changes, builds a snapshot (tutor/workshop/snapshot.py) from the session's own
state and hands it to a sender that never blocks (the workshop client's `submit`). What a
snapshot can say is fixed by its schema: ids, the lesson's titles, counts, whether each
background process is up, sandbox or real, the time, and one headline for a step that has
not passed for a while. Command output, notices, kubeconfigs and the environment never
reach it: the reporter reads none of them.

`WorkshopLink` joins the two: the reporter, the client, and a clock that ticks so that a
step can become "stuck" while nothing else happens. `offer_for` decides what a room's
"everyone, step N" means for this learner; the views put it in words.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from tutor import __version__
from tutor.safe_text import strip_controls
from tutor.session import events
from tutor.session.session import LessonSession
from tutor.workshop.client import ClientOptions, ConnectionChange, ConnectionState, WorkshopClient
from tutor.workshop.http import WorkshopUrl
from tutor.workshop.identity import IdentityStore, UnsafeIdentity
from tutor.workshop.notices import GoToStep, Notice
from tutor.workshop.snapshot import (
    EARLIEST,
    ID,
    LATEST,
    MAX_HEADLINE,
    MAX_PROCESSES,
    MAX_SECONDS,
    MAX_STEPS,
    MAX_TITLE,
    CheckCounts,
    Cluster,
    Process,
    Snapshot,
    SnapshotError,
    StepState,
    Stuck,
    clip,
)

log = logging.getLogger(__name__)

STUCK_AFTER = 120.0
"""Seconds a step may go without passing before the board lists the learner as stuck."""
TICK = 10.0
"""Seconds between looks at the clock while no event comes (for `STUCK_AFTER`)."""

_OPAQUE = re.compile(r"[A-Za-z0-9+/=_.-]{20,}")
"""A run of characters that may be a credential (a token, a key, base64 data)."""


@dataclass(frozen=True)
class WorkshopSetup:
    """`--workshop URL` (with its join code) and the learner's display name, if known yet."""

    url: WorkshopUrl
    name: str | None = None
    """None: the view asks for it before joining."""
    stuck_after: float = STUCK_AFTER


def saved_name(url: WorkshopUrl) -> str | None:
    """The name this learner joined this workshop with before (kept with its identity), if any."""
    if url.code is None:
        return None
    try:
        identity = IdentityStore().load(url.base, url.code)
    except (UnsafeIdentity, OSError):
        return None  # the client says why once it joins anew
    return identity.name if identity is not None else None


def headline(text: str) -> str:
    """A check's words as the board may show them: one printable line, at most 200
    characters, without control sequences (a terminal title's words go with it), and with
    anything that looks like a credential (mixed-case letters and digits in
    a long run, as tokens and base64 are; Kubernetes names are lower case) left out."""

    def redact(match: re.Match[str]) -> str:
        run = match.group(0)
        if any(c.isupper() for c in run) and any(c.islower() for c in run) and any(c.isdigit() for c in run):
            return "[redacted]"
        return run

    return _line(_OPAQUE.sub(redact, strip_controls(text)), MAX_HEADLINE)


def _line(text: str, limit: int) -> str:
    """A lesson's or a cluster's words as one printable line: control sequences go whole
    (with what they carried, such as a terminal title), then the rest is clipped."""
    return clip(strip_controls(text), limit)


class WorkshopReporter:
    """Builds the learner's snapshot from the session and submits it when it changes.

    `clock` (monotonic seconds) times how long a step has not passed; `wall` (seconds
    since the epoch) stamps `sent_at`. Both are injected, so tests move time.
    """

    def __init__(
        self,
        session: LessonSession,
        submit: Callable[[Snapshot], None],
        *,
        stuck_after: float = STUCK_AFTER,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self._submit = submit
        self.stuck_after = stuck_after
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._opened = False
        self._processes: dict[str, bool] = {}
        self._frontier: tuple[str | None, float] = (None, 0.0)
        """The first step not done, and since when (on `clock`) it has been."""
        self._last: Snapshot | None = None
        """The last snapshot submitted, as compared (no time, no sequence number)."""
        self._seq = 0
        self._broken = False
        self.latest: Snapshot | None = None
        """The last snapshot submitted."""
        session.subscribe(self.on_event)

    def on_event(self, event: events.Event) -> None:
        """The session's listener (any thread): cheap, and never waits on the network."""
        match event:
            case (
                events.OutputLine() | events.CommandStarted() | events.CommandFinished() | events.Notice()
                | events.MapChanged()
            ):  # fmt: skip
                return  # what commands print, what the learner is told and the cluster's map stay here
            case events.LessonOpened():
                self._opened = True
            case events.ProcessChanged(process=process, state=state):
                from tutor.run import ProcessState  # loaded already: it made this event

                with self._lock:
                    self._processes[process] = state in (ProcessState.RUNNING, ProcessState.READY)
            case _:
                pass
        self.update()

    def update(self) -> Snapshot | None:
        """Build the snapshot now; submit it if it differs from the last one. Returns what was sent."""
        if not self._opened or self._broken:
            return None
        with self._lock:
            try:
                snapshot = self._build()
            except SnapshotError as err:
                # A lesson whose ids the schema cannot carry: the board hears nothing of it.
                self._broken = True
                log.warning("this lesson cannot be shown on the workshop board: %s", err)
                return None
            compared = _comparable(snapshot)
            if compared == self._last:
                return None
            self._last = compared
            self._seq += 1
            self.latest = snapshot
            # Under the lock: two threads' snapshots reach the sender in the order they were built.
            self._submit(snapshot)
        return snapshot

    def _build(self) -> Snapshot:
        session = self.session
        lesson = session.lesson
        steps = []
        for step in lesson.steps[:MAX_STEPS]:
            counts = {"pass": 0, "waiting": 0, "fail": 0}
            for check in session.results(step.id):
                counts[check.result.status] += 1
            steps.append(
                StepState(
                    step.id,
                    _line(step.title, MAX_TITLE) or step.id,
                    done=session.progress.is_done(step.id),
                    checks=CheckCounts(counts["pass"], counts["waiting"], counts["fail"]),
                    hints_used=len(session.hints_shown(step.id)),
                )
            )
        listed = {step.id for step in steps}
        viewing = session.viewing.id
        processes = tuple(Process(name, up) for name, up in sorted(self._processes.items()) if ID.fullmatch(name))[
            :MAX_PROCESSES
        ]
        return Snapshot(
            lesson=lesson.id,
            lesson_title=_line(lesson.title, MAX_TITLE) or lesson.id,
            steps=tuple(steps),
            cluster=Cluster.SANDBOX if session.sandbox else Cluster.REAL,
            tutor_version=__version__,
            # A clock that was never set says 1970; the board keeps its own time of receipt anyway.
            sent_at=min(max(self._wall(), EARLIEST), LATEST),
            seq=self._seq,
            on_screen=viewing if viewing in listed else None,
            stuck=self._stuck(listed),
            questions_answered=self._questions_answered(),
            processes=processes,
        )

    def _questions_answered(self) -> int:
        """The lesson's questions the learner has answered (a try, or answered right), as the
        progress keeps them (saved with it, so a restarted tutor counts them too)."""
        answers = self.session.progress.answers
        return sum(
            1
            for step in self.session.lesson.steps
            for question in step.questions
            if (known := answers.get(question.id)) is not None and (known.tries > 0 or known.correct)
        )

    def _stuck(self, listed: set[str]) -> Stuck | None:
        frontier = self.session.frontier
        now = self._clock()
        step_id = frontier.id if frontier is not None else None
        if step_id != self._frontier[0]:
            self._frontier = (step_id, now)
        if frontier is None or step_id not in listed:
            return None
        waited = now - self._frontier[1]
        results = self.session.results(frontier.id)
        if waited < self.stuck_after or not results or all(check.result.passed for check in results):
            return None
        failing = [check for check in results if not check.result.passed]
        # The check's own verdict before "cannot read the cluster", and a failure before a wait.
        worst = min(failing, key=lambda check: (check.result.unjudged is not None, check.result.status != "fail"))
        words = headline(worst.result.reason or worst.title) or "its checks do not pass"
        return Stuck(frontier.id, min(int(waited), MAX_SECONDS), words)


EPOCH = 1_600_000_000.0


def _comparable(snapshot: Snapshot) -> Snapshot:
    """What decides whether a snapshot is news: not its time, its number, or how long a step
    has been stuck (the board counts that itself)."""
    stuck = snapshot.stuck
    return dataclasses.replace(
        snapshot,
        sent_at=EPOCH,
        seq=0,
        stuck=dataclasses.replace(stuck, for_seconds=0) if stuck is not None else None,
    )


class OfferKind(enum.Enum):
    GO = "go"
    """The step is unlocked and not on screen: the learner may go there."""
    HERE = "here"
    """The learner is on it already."""
    LOCKED = "locked"
    """Not unlocked for this learner yet: said why, not jumped to."""
    ELSEWHERE = "elsewhere"
    """Another lesson, or a step this lesson does not have: nothing to offer."""


@dataclass(frozen=True)
class Offer:
    kind: OfferKind
    step: str
    number: int = 0
    """The step's place in the lesson, from 1 (0 for ELSEWHERE)."""
    title: str = ""
    waits_for: str = ""
    """LOCKED: the title of the step to finish first."""
    lesson: str | None = None
    """ELSEWHERE: the lesson the instructor named, if one."""

    def words(self, how_to_go: str) -> str:
        """The offer in a sentence; `how_to_go` ends a GO one ("Press g to go there.")."""
        asked = f"The instructor asks everyone to go to step {self.number} ({self.title})"
        match self.kind:
            case OfferKind.GO:
                return f"{asked}. {how_to_go}"
            case OfferKind.HERE:
                return f"{asked}: you are on it."
            case OfferKind.LOCKED:
                return f"{asked}. It unlocks once “{self.waits_for}” is done on your cluster: carry on with that first."
            case OfferKind.ELSEWHERE:
                where = f"lesson {self.lesson}" if self.lesson else "another lesson"
                return f"The instructor asks everyone to go to step {self.step} of {where}."
            case _:
                assert_never(self.kind)


def offer_for(session: LessonSession, notice: GoToStep) -> Offer:
    """What "everyone, go to step N" means for this learner. Never moves them."""
    lesson = session.lesson
    known = {step.id for step in lesson.steps}
    if (notice.lesson is not None and notice.lesson != lesson.id) or notice.step not in known:
        return Offer(OfferKind.ELSEWHERE, notice.step, lesson=notice.lesson)
    step = lesson.step(notice.step)
    number, title = lesson.index(step.id) + 1, step.title
    if session.viewing.id == step.id:
        return Offer(OfferKind.HERE, step.id, number, title)
    if not session.is_unlocked(step.id):
        frontier = session.frontier
        return Offer(OfferKind.LOCKED, step.id, number, title, frontier.title if frontier else "")
    return Offer(OfferKind.GO, step.id, number, title)


class ConnectionWords:
    """What a view says when the board's connection changes: one sentence per change."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._joined = False

    def __call__(self, change: ConnectionChange) -> str:
        detail = strip_controls(change.detail)
        match change.state:
            case ConnectionState.CONNECTED if not self._joined:
                # The first answer, even after the board was away at the start, is the join.
                self._joined = True
                return f"Joined the {detail} as {self.name}: the instructor's board follows your progress."
            case ConnectionState.CONNECTED:
                return "The workshop board is back; it has your latest progress."
            case ConnectionState.UNREACHABLE:
                return (
                    f"The workshop board is unreachable ({detail}); the lesson carries on, "
                    "and your progress is sent when it is back."
                )
            case ConnectionState.REFUSED:
                return f"Not joined: {detail}. The lesson carries on without the board."
            case _:
                assert_never(change.state)


class WorkshopLink:
    """The reporter and the client together, for one session; a view creates it before the
    lesson opens, `join`s once it has the learner's name, and `close`s it after the session.

    `on_state` and `on_notice` run on the client's threads and must return at once (a view
    posts them to its own thread)."""

    def __init__(
        self,
        session: LessonSession,
        setup: WorkshopSetup,
        *,
        on_state: Callable[[ConnectionChange], None],
        on_notice: Callable[[Notice], None],
        client_options: Callable[[WorkshopUrl, str], ClientOptions] | None = None,
        tick: float = TICK,
    ) -> None:
        self.setup = setup
        self._on_state = on_state
        self._on_notice = on_notice
        self._client_options = client_options or (lambda url, name: ClientOptions(url=url, name=name))
        self._client: WorkshopClient | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.reporter = WorkshopReporter(session, self._submit, stuck_after=setup.stuck_after)
        self._ticker = threading.Thread(target=self._tick, args=(tick,), name="k8s-tutor workshop clock", daemon=True)
        self._ticker.start()

    @property
    def client(self) -> WorkshopClient | None:
        return self._client

    def join(self, name: str) -> None:
        """Start sending as `name` (the latest state first). Never blocks."""
        with self._lock:
            if self._client is not None or self._closed.is_set():
                return
            client = WorkshopClient(
                self._client_options(self.setup.url, name), on_state=self._on_state, on_notice=self._on_notice
            )
            self._client = client
        client.start()
        latest = self.reporter.latest
        if latest is not None:
            client.submit(latest)

    def _submit(self, snapshot: Snapshot) -> None:
        client = self._client
        if client is not None:
            client.submit(snapshot)

    def _tick(self, every: float) -> None:
        while not self._closed.wait(every):
            try:
                self.reporter.update()
            except Exception:  # the board must never take the lesson down
                log.exception("building a workshop snapshot failed")

    def close(self, timeout: float = 2.0) -> list[str]:
        """Stop the clock and the client (the last snapshot gets one try). Returns the names of
        threads that did not stop (normally none)."""
        self._closed.set()
        with self._lock:
            client = self._client
        left = client.close(timeout) if client is not None else []
        self._ticker.join(timeout)
        return [*left, *([self._ticker.name] if self._ticker.is_alive() else [])]
