"""The check engine: keeps the active checks' results current, from watch events and probes.

The session hands it the checks to watch (`set_active`: one step's checks, plus drift
checks of earlier steps on resume). The engine asks the watch cache for the keys they
depend on, and re-evaluates a check only when an event touches one of its keys (and,
where the check names objects, one of those objects). Polled checks (http, commands,
processes) run on a probe thread every `interval`, and at once when one of their keys
changes.

Threading contract: `on_result(check_id, result)` and `on_status(status)` are always
called from the engine's own thread ("k8s-tutor checks"), one at a time, and only when
something changed. They must return quickly (post a message to the UI). The public
methods may be called from any thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tutor.cluster.checks import Check, CheckContext
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.diagnosis import Case, diagnose
from tutor.cluster.results import CheckResult, waiting
from tutor.cluster.status import ConnectionStatus
from tutor.cluster.view import ClusterView, Dependency, WatchKey
from tutor.cluster.watch_cache import WatchCache

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
"""What the caller knows a check by (the session: which step, which check of it)."""
StatusListener = Callable[[ConnectionStatus], None]
ChangeHook = Callable[[], None]

JOIN_TIMEOUT = 1.5


def gate(check: Check, view: ClusterView, errors: Callable[[WatchKey], str | None] | None = None) -> CheckResult | None:
    """A waiting result when the check cannot be judged from the cluster right now, else None."""
    required = [dep.key for dep in check.dependencies() if dep.required]
    if not required:
        return None
    status = view.connection
    if status.state in ("no_cluster", "refused", "rejected"):
        return waiting(status.message or status.describe(), unjudged="connection")
    if status.state == "unreachable":
        return waiting(status.describe(), unjudged="connection")
    for key in required:
        problem = errors(key) if errors else None
        if problem:
            return waiting(problem)
    unsynced = [key for key in required if not view.synced(key)]
    if unsynced:
        if status.state == "reconnecting":
            return waiting(status.describe(), unjudged="connection")
        return waiting(f"reading {unsynced[0]} from the cluster", unjudged="loading")
    return None


def run_check(
    check: Check,
    view: ClusterView,
    ctx: CheckContext,
    *,
    profile: str | None = None,
    errors: Callable[[WatchKey], str | None] | None = None,
) -> CheckResult:
    """Evaluate one check and, unless it passes, diagnose what it is about."""
    gated = gate(check, view, errors)
    result = gated if gated is not None else check.evaluate(view, ctx)
    if result.passed:
        return result
    case = Case(
        view,
        result.subjects,
        check_kind=check.kind,
        wanted_default=check.wanted_default,
        profile=profile,
    )
    return result.with_findings(diagnose(case, objects_read=gated is None))


@dataclass
class _Entry:
    check: Check
    deps: list[Dependency]
    generation: int
    next_probe: float = 0.0


class CheckEngine(Generic[K]):
    def __init__(
        self,
        connection: ClusterConnection,
        context: CheckContext,
        *,
        on_result: Callable[[K, CheckResult], None] | None = None,
        on_status: StatusListener | None = None,
    ) -> None:
        self.connection = connection
        self.context = context
        self._on_result = on_result
        self._on_status = on_status
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.cache = WatchCache(connection, lambda key, names: self._queue.put(("change", key, names)))
        connection.add_listener(lambda status: self._queue.put(("status", status)))
        self._lock = threading.Lock()
        self._entries: dict[K, _Entry] = {}
        self._results: dict[K, CheckResult] = {}
        self._generation = 0
        self._also: frozenset[WatchKey] = frozenset()
        self._also_changed: ChangeHook | None = None
        self._stop = threading.Event()
        self._probe_wake = threading.Event()
        self._dispatcher = threading.Thread(target=self._dispatch, name="k8s-tutor checks", daemon=True)
        self._prober = threading.Thread(target=self._probe_loop, name="k8s-tutor probes", daemon=True)
        self._started = False

    # --- public API (any thread) ---------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self._started = True
            if self.connection.status.state == "connecting" and self.connection.info is None:
                self.connection.open()
            self._dispatcher.start()
            self._prober.start()

    def set_active(self, checks: Mapping[K, Check]) -> None:
        """Watch exactly these checks (ids chosen by the caller); others are dropped."""
        self._queue.put(("active", dict(checks)))

    def watch_also(self, keys: Iterable[WatchKey], on_change: ChangeHook | None) -> None:
        """Keep `keys` watched besides the active checks' keys (the object map, while it is
        shown), and call `on_change()` after each batch of changes to any watched key or to
        the connection, on the engine's thread: it must return at once. No keys and None stop it."""
        self._queue.put(("also", frozenset(keys), on_change))

    def refresh(self, check_id: K | None = None) -> None:
        """Probe now (the session knows a process changed state), one check or all polled ones."""
        self._queue.put(("refresh", check_id))

    def settled(self, timeout: float = 5.0) -> bool:
        """Wait until every key is listed and everything queued so far was handled (tests, benchmark)."""
        deadline = time.monotonic() + timeout
        while self.connection.status.state not in ("no_cluster", "refused", "unreachable", "rejected") and not all(
            self.cache.synced(key) or self.cache.error(key) for key in self.cache.keys
        ):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        done = threading.Event()
        self._queue.put(("sync", done))
        return done.wait(max(0.0, deadline - time.monotonic()))

    def result(self, check_id: K) -> CheckResult | None:
        with self._lock:
            return self._results.get(check_id)

    def results(self) -> dict[K, CheckResult]:
        with self._lock:
            return dict(self._results)

    @property
    def status(self) -> ConnectionStatus:
        return self.connection.status

    def node_ip(self, node_name: str | None = None) -> str | None:
        return self.connection.node_ip(node_name)

    def close(self) -> list[str]:
        """Stop the engine and every watch; returns names of threads that did not end in time."""
        self._stop.set()
        self._probe_wake.set()
        self._queue.put(("stop",))
        stuck = self.cache.close()
        for thread in (self._dispatcher, self._prober):
            if thread.is_alive():
                thread.join(JOIN_TIMEOUT)
                if thread.is_alive():
                    stuck.append(thread.name)
        return stuck

    # --- the engine's thread ----------------------------------------------------------

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._dispatch_once():
                    return
            except Exception:  # a bug must not end the engine's thread: later events still count
                log.exception("the check engine failed to handle an event")

    def _dispatch_once(self) -> bool:
        """Handle every queued item; False once asked to stop."""
        items = [self._queue.get()]
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        affected: set[K] = set()
        handled: list[threading.Event] = []
        seen = False  # something the watched keys show, or the connection, changed
        for item in items:
            kind = item[0]
            if kind == "stop":
                return False
            if kind == "active":
                affected |= self._activate(item[1])
            elif kind == "also":
                self._also, self._also_changed = item[1], item[2]
                self.cache.set_keys(self._keys())
                seen = True
            elif kind == "change":
                affected |= self._touched(item[1], item[2])
                seen = True
            elif kind == "status":
                if self._on_status:
                    self._on_status(item[1])
                affected |= set(self._entries)
                seen = True
            elif kind == "probe":
                self._publish_probe(item[1], item[2], item[3])
            elif kind == "refresh":
                self._kick([item[1]] if item[1] is not None else list(self._entries))
            elif kind == "sync":
                handled.append(item[1])
        self._evaluate(affected)
        if seen and self._also_changed is not None:
            self._also_changed()
        for event in handled:
            event.set()
        return True

    def _activate(self, checks: dict[K, Check]) -> set[K]:
        with self._lock:
            for check_id in list(self._entries):
                if check_id not in checks or self._entries[check_id].check is not checks[check_id]:
                    del self._entries[check_id]
                    self._results.pop(check_id, None)
            added = set()
            for check_id, check in checks.items():
                if check_id not in self._entries:
                    self._generation += 1
                    self._entries[check_id] = _Entry(check, check.dependencies(), self._generation)
                    added.add(check_id)
        self.cache.set_keys(self._keys())
        return added

    def _keys(self) -> set[WatchKey]:
        """The keys to watch: the active checks', and those asked for besides (`watch_also`)."""
        with self._lock:
            return {dep.key for entry in self._entries.values() for dep in entry.deps} | self._also

    def _touched(self, key: WatchKey, names: frozenset[str] | None) -> set[K]:
        touched = set()
        with self._lock:
            for check_id, entry in self._entries.items():
                passing = self._results.get(check_id)
                for dep in entry.deps:
                    if dep.key != key or not dep.concerns(names):
                        continue
                    # Keys read only for diagnosis do not matter while the check passes.
                    if dep.required or entry.check.polled or not (passing and passing.passed):
                        touched.add(check_id)
                        break
        return touched

    def _evaluate(self, check_ids: set[K]) -> None:
        polled = []
        with self._lock:  # in the order they were activated
            entries = [(check_id, entry) for check_id, entry in self._entries.items() if check_id in check_ids]
        for check_id, entry in entries:
            if entry.check.polled:
                polled.append(check_id)
                continue
            self._publish(check_id, self._run(entry.check))
        if polled:
            self._kick(polled)

    def _run(self, check: Check) -> CheckResult:
        info = self.connection.info
        try:
            return run_check(
                check,
                self.cache,
                self.context,
                profile=info.minikube_profile if info else None,
                errors=self.cache.error,
            )
        except Exception as err:  # a bug in one check must not stop the others
            return waiting(f"this check could not be evaluated: {type(err).__name__}: {err}")

    def _publish(self, check_id: K, result: CheckResult) -> None:
        with self._lock:
            if check_id not in self._entries or self._results.get(check_id) == result:
                return
            self._results[check_id] = result
        if self._on_result:
            self._on_result(check_id, result)

    def _publish_probe(self, check_id: K, generation: int, result: CheckResult) -> None:
        with self._lock:
            entry = self._entries.get(check_id)
            current = entry is not None and entry.generation == generation
        if current:
            self._publish(check_id, result)

    def _kick(self, check_ids: list[K]) -> None:
        with self._lock:
            for check_id in check_ids:
                entry = self._entries.get(check_id)
                if entry is not None and entry.check.polled:
                    entry.next_probe = 0.0
        self._probe_wake.set()

    # --- the probe thread ---------------------------------------------------------------

    def _probe_loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                due = [(cid, e) for cid, e in self._entries.items() if e.check.polled and e.next_probe <= now]
                for _, entry in due:
                    entry.next_probe = now + entry.check.interval
            for check_id, entry in due:
                if self._stop.is_set():
                    return
                self._queue.put(("probe", check_id, entry.generation, self._run(entry.check)))
            with self._lock:
                upcoming = [e.next_probe for e in self._entries.values() if e.check.polled]
            delay = (min(upcoming) - time.monotonic()) if upcoming else 3600.0
            if delay > 0:
                self._probe_wake.wait(delay)
            self._probe_wake.clear()


def evaluate_once(
    connection: ClusterConnection,
    context: CheckContext,
    checks: Mapping[K, Check],
    *,
    settle: float = 8.0,
    give_up_after: float = 1.5,
) -> tuple[dict[K, CheckResult], ConnectionStatus]:
    """Evaluate `checks` once (the headless `check`): list what they need, judge, stop.

    Returns the results and the connection status they were judged under.

    Waits until every key a check requires has been listed, at most `settle` seconds,
    and no longer than `give_up_after` seconds of failing requests: a cluster that is
    down is reported at once rather than after the interactive grace period.
    """
    if connection.info is None:
        connection.open()
    failing_since: list[float] = []

    def watch_status(status: ConnectionStatus) -> None:
        if status.state in ("reconnecting", "unreachable") and not failing_since:
            failing_since.append(time.monotonic())
        elif status.state == "connected":
            failing_since.clear()

    connection.add_listener(watch_status)
    changed = threading.Event()
    cache = WatchCache(connection, lambda key, names: changed.set())
    try:
        cache.set_keys({dep.key for check in checks.values() for dep in check.dependencies()})
        required = {dep.key for check in checks.values() for dep in check.dependencies() if dep.required}
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            state = connection.status.state
            if state in ("no_cluster", "refused"):
                break
            if failing_since and time.monotonic() - failing_since[0] >= give_up_after:
                break
            if all(cache.synced(key) or cache.error(key) for key in required):
                break
            changed.wait(0.05)
            changed.clear()
        judged = _final_status(connection.status, bool(failing_since))
        view = _FrozenStatus(cache, judged)
        info = connection.info
        profile = info.minikube_profile if info else None
        results = {
            check_id: run_check(check, view, context, profile=profile, errors=cache.error)
            for check_id, check in checks.items()
        }
        return results, judged
    finally:
        cache.close()


def _final_status(status: ConnectionStatus, failing: bool) -> ConnectionStatus:
    """A one-shot check does not wait out the grace period: failing now is unreachable."""
    if failing and status.state == "reconnecting":
        return ConnectionStatus(
            "unreachable", status.since, status.message, status.last_error, status.server, status.context
        )
    return status


class _FrozenStatus:
    """The cache as a view, with the connection status fixed at the moment of judging."""

    def __init__(self, cache: WatchCache, status: ConnectionStatus) -> None:
        self._cache = cache
        self._status = status

    def objects(self, key: WatchKey) -> Any:
        return self._cache.objects(key)

    def synced(self, key: WatchKey) -> bool:
        return self._cache.synced(key)

    def type_missing(self, kind: str) -> bool:
        return self._cache.type_missing(kind)

    def read_now(self, kind: str, namespace: str | None, name: str) -> Any:
        return self._cache.read_now(kind, namespace, name)

    @property
    def connection(self) -> ConnectionStatus:
        return self._status
