"""The controller runtime: store events in, deduplicated work keys out, on the sandbox loop.

Controllers are level-triggered: ``reconcile(key)`` reads the current state and writes
only what differs (``Store.replace_status`` skips unchanged statuses), so running it
twice is harmless and a burst of events costs one pass. A reconcile may ask to run again
after a delay (a container that becomes Ready in two seconds); such timers count as
pending work for :meth:`Manager.wait_idle` unless they are *background* timers (crash
loop back-offs, which never end).

Timers run on the store's clock. On wall time they are the loop's own timers; on a
:class:`~tutor.sandbox.clock.ManualClock` they fall due only when a test moves the clock,
and none of them counts as pending work: nothing happens until the clock moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tutor.sandbox.clock import ManualClock
from tutor.sandbox.delays import Delays
from tutor.sandbox.errors import ApiError
from tutor.sandbox.store import Store, WatchEvent
from tutor.sandbox.versions import DEFAULT_RUNTIME

if TYPE_CHECKING:
    from tutor.sandbox.events import EventRecorder
    from tutor.sandbox.faults import Faults

log = logging.getLogger(__name__)

# Usually (namespace, name), "" for cluster-scoped objects; a controller may use longer keys.
Key = tuple[str, ...]


@dataclass
class Cluster:
    """What controllers share: the store, timings, the node and the fault switches."""

    store: Store
    delays: Delays
    recorder: EventRecorder
    faults: Faults | None = None
    node_name: str = "minikube"
    node_ip: str = "127.0.0.1"
    #: The node's container runtime (minikube's --container-runtime): prefixes container IDs.
    container_runtime: str = DEFAULT_RUNTIME
    #: Set while the baseline boots: everything converges with no delay.
    booting: bool = False
    #: The cluster's CA certificate (PEM): the API server's, which kube-root-ca.crt publishes.
    root_ca: str = ""
    #: Mints a service account token (namespace, account, seconds): what the kubelet
    #: projects into a pod's service account volume.
    issue_token: Callable[[str, str, int], str] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def delay(self, name: str) -> float:
        if self.booting:
            return 0.0
        return float(getattr(self.delays, name))


class Controller:
    """One reconciler. Subclasses set ``watches`` and implement ``keys_for``/``reconcile``."""

    name = "controller"
    #: Resource keys whose events this controller reacts to.
    watches: tuple[str, ...] = ()

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.manager: Manager | None = None

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        """The keys to reconcile because of this event (default: the object itself)."""
        return [(event.namespace, event.name)]

    def reconcile(self, key: Key) -> float | None:
        """Converge one key; return seconds until it should run again, or None."""
        raise NotImplementedError

    def requeue(self, key: Key, delay: float = 0.0, *, background: bool = False) -> None:
        if self.manager is not None:
            self.manager.enqueue(self, key, delay, background=background)


class Manager:
    """Feeds store events to controllers and runs their reconciles on the loop."""

    def __init__(self, store: Store, controllers: list[Controller]) -> None:
        self.store = store
        self.controllers = controllers
        self._by_resource: dict[str, list[Controller]] = {}
        self._wildcard: list[Controller] = []
        for c in controllers:
            c.manager = self
            for resource in c.watches:
                if resource == "*":
                    self._wildcard.append(c)
                else:
                    self._by_resource.setdefault(resource, []).append(c)
        self._events: deque[WatchEvent] = deque()
        self._queue: OrderedDict[tuple[int, Key], Controller] = OrderedDict()
        self._timers: dict[tuple[int, Key], tuple[asyncio.TimerHandle, bool]] = {}
        # On a manual clock: when each timer falls due (clock time), and whose it is.
        self._manual = store.clock if isinstance(store.clock, ManualClock) else None
        self._due: dict[tuple[int, Key], tuple[float, Controller]] = {}
        self._unsubscribe_clock = self._manual.subscribe(self._clock_moved) if self._manual is not None else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wakeup: asyncio.Event | None = None
        self._lock = threading.Lock()
        self._signal_pending = False
        self._idle = threading.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        # Paused while the cluster is stopped: events queue up, nothing reconciles.
        self._paused = True
        self._unsubscribe = store.subscribe(self._on_event)
        self.reconciles = 0

    # ---- lifecycle (loop thread) -------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wakeup = asyncio.Event()
        self._task = self._loop.create_task(self._run())
        if self._events or self._queue:
            self._wakeup.set()

    async def stop(self) -> None:
        self._unsubscribe()
        if self._unsubscribe_clock is not None:
            self._unsubscribe_clock()
        for handle, _bg in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._due.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._idle.set()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        """Start reconciling (any thread)."""
        self._paused = False
        self._signal_pending = False
        self._signal_any_thread()

    def _signal_any_thread(self) -> None:
        if self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            if self._wakeup is not None:
                self._wakeup.set()
        else:
            self._loop.call_soon_threadsafe(self._wake_from_thread)

    # ---- input -------------------------------------------------------------------

    def _on_event(self, event: WatchEvent) -> None:
        if not self._wildcard and event.resource not in self._by_resource:
            return
        self._idle.clear()
        self._events.append(event)
        self._signal()

    def _signal(self) -> None:
        if self._loop is None or self._wakeup is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wakeup.set()
            return
        with self._lock:
            if self._signal_pending:
                return
            self._signal_pending = True
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._wake_from_thread)

    def _wake_from_thread(self) -> None:
        with self._lock:
            self._signal_pending = False
        if self._wakeup is not None:
            self._wakeup.set()

    def enqueue(self, controller: Controller, key: Key, delay: float = 0.0, *, background: bool = False) -> None:
        """Schedule a reconcile (loop thread, or before start)."""
        qkey = (id(controller), key)
        if delay <= 0:
            self._idle.clear()
            self._queue[qkey] = controller
            if self._wakeup is not None:
                self._wakeup.set()
            return
        if self._manual is not None:
            due = self._manual() + delay
            pending = self._due.get(qkey)
            if pending is None or due < pending[0]:
                self._due[qkey] = (due, controller)
            return
        existing = self._timers.get(qkey)
        when = time.monotonic() + delay
        if existing is not None:
            handle, _was_background = existing
            if handle.when() <= self._loop_time(when):
                return
            handle.cancel()
        if not background:
            self._idle.clear()
        assert self._loop is not None
        handle = self._loop.call_later(delay, self._fire, qkey, controller)
        self._timers[qkey] = (handle, background)

    def _loop_time(self, monotonic_when: float) -> float:
        assert self._loop is not None
        return self._loop.time() + (monotonic_when - time.monotonic())

    def _fire(self, qkey: tuple[int, Key], controller: Controller) -> None:
        self._timers.pop(qkey, None)
        self._idle.clear()
        self._queue[qkey] = controller
        if self._wakeup is not None:
            self._wakeup.set()

    def _clock_moved(self) -> None:
        """A test moved the manual clock (any thread): run what fell due."""
        if self._loop is None or self._paused:
            return
        self._idle.clear()
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._fire_due)

    def _fire_due(self) -> None:
        assert self._manual is not None
        now = self._manual()
        for qkey, (due, controller) in sorted(self._due.items(), key=lambda item: item[1][0]):
            if due <= now:
                del self._due[qkey]
                self._queue[qkey] = controller
        if self._wakeup is not None:
            self._wakeup.set()

    # ---- the work loop -------------------------------------------------------------

    def _absorb_events(self) -> None:
        while self._events:
            event = self._events.popleft()
            for controller in [*self._by_resource.get(event.resource, ()), *self._wildcard]:
                try:
                    keys = list(controller.keys_for(event))
                except Exception:
                    log.exception("%s failed to map %s %s", controller.name, event.type, event.resource)
                    continue
                for key in keys:
                    self._queue[(id(controller), key)] = controller

    def run_pending(self, limit: int = 100_000) -> int:
        """Process queued events and keys until none are left (synchronously)."""
        done = 0
        while done < limit:
            self._absorb_events()
            if not self._queue:
                break
            (_cid, key), controller = self._queue.popitem(last=False)
            self._reconcile(controller, key)
            done += 1
        return done

    def _reconcile(self, controller: Controller, key: Key) -> None:
        self.reconciles += 1
        try:
            again = controller.reconcile(key)
        except ApiError as err:
            if err.code == 409:
                self.enqueue(controller, key, 0.02)
            elif err.code not in (404, 403):
                log.warning("%s %s: %s", controller.name, key, err.message)
                self.enqueue(controller, key, 0.5)
            return
        except Exception:
            log.exception("%s failed to reconcile %s", controller.name, key)
            self.enqueue(controller, key, 1.0)
            return
        if again is not None:
            self.enqueue(controller, key, again)

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._paused:
                continue
            while not self._paused:
                processed = self.run_pending(limit=200)
                if not self._events and not self._queue:
                    break
                if processed:
                    # Let HTTP handlers run between long cascades.
                    await asyncio.sleep(0)
            if not self._events and not self._queue and not any(not bg for _h, bg in self._timers.values()):
                self._idle.set()

    # ---- idleness ------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    def wait_idle(self, timeout: float) -> bool:
        """Block (any thread but the loop's) until no work is pending; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._idle.wait(remaining):
                # Settle: a write just before may still be on its way to the queue.
                time.sleep(0.005)
                if self._idle.is_set():
                    return True
