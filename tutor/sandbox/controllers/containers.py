"""One container on the simulated node, from image pull to its last exit.

A :class:`ContainerRun` is a small state machine that moves on the cluster's clock. Each
stage says what the container is doing and ``next_at`` when it next changes; the kubelet
calls :meth:`ContainerRun.advance` with the current time and the container catches up on
everything that fell due in between, in order and at the instants it happened (so a
test that moves the clock by an hour sees every restart of a crash loop).

What it reproduces of the real kubelet:

- pulling through the image catalogue: ``Pulling``/``Pulled``/``Failed`` events,
  ErrImagePull, then ImagePullBackOff with the kubelet's back-off (10 s doubling to
  5 min; an entry idle for 10 min starts over), InvalidImageName, ErrImageNeverPull;
- CreateContainerConfigError while an env var's ConfigMap or Secret is missing;
- the process (see ``programs.py``): its output is the container's log, its exit ends the
  container (Completed or Error), and restartPolicy decides what follows:
  a restart at once, or CrashLoopBackOff with the same back-off;
- startup, liveness and readiness probes on their schedule against what the process
  serves; a failed liveness probe kills the container;
- stopping: SIGTERM, then exit at once for a process that handles it, or at the end of
  the grace period for one that ignores it (a ``sleep`` as PID 1).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Protocol, assert_never

from tutor.sandbox import images, programs
from tutor.sandbox.controllers import probes
from tutor.sandbox.images import Served
from tutor.sandbox.objects import Obj, rfc3339

#: Lines of one container instance's log that are kept (older ones rotate away).
LOG_LINES = 10_000
#: Events read ahead of the clock while looking for the next one that matters.
LOOKAHEAD = 2_000
#: After a failed pull the kubelet syncs the pod again about this soon: ErrImagePull
#: shows until then, ImagePullBackOff after.
SYNC_AFTER_ERROR = 1.0
#: How often a container waiting for a missing ConfigMap or Secret is retried.
CONFIG_RETRY = 10.0


StopReason = Literal["delete", "liveness", "startup", "changed"]
"""Why a container is stopped: its pod is deleted, a probe failed, its image changed."""


class Stage(Enum):
    CREATING = "ContainerCreating"
    PULLING = "Pulling"
    PULL_FAILED = "ErrImagePull"
    PULL_BACKOFF = "ImagePullBackOff"
    INVALID = "InvalidImageName"
    NEVER_PULL = "ErrImageNeverPull"
    CONFIG_ERROR = "CreateContainerConfigError"
    RUNNING = "Running"
    STOPPING = "Stopping"
    CRASH_BACKOFF = "CrashLoopBackOff"
    TERMINATED = "Terminated"


@dataclass
class Backoff:
    """The kubelet's back-off for one container or one image pull (client-go flowcontrol)."""

    initial: float
    cap: float
    duration: float = 0.0
    last: float | None = None

    def _expired(self, at: float) -> bool:
        return self.last is None or at - self.last > 2 * self.cap

    def next(self, at: float) -> None:
        self.duration = self.initial if self._expired(at) else min(self.duration * 2, self.cap)
        self.last = at

    def active_since_update(self, at: float) -> bool:
        """Image pulls: still inside the back-off that the last failure started."""
        return self.last is not None and not self._expired(at) and at - self.last < self.duration

    def holds(self, finished: float) -> bool:
        """Restarts: a container that exited at ``finished`` waits (CrashLoopBackOff)."""
        return self.last is not None and not self._expired(finished)


class Host(Protocol):
    """What a container needs from its node: timings, images, events, its environment."""

    runtime: str
    backoff: float

    def delay(self, name: str) -> float: ...

    def image_present(self, image: str) -> bool: ...

    def add_image(self, image: str) -> None: ...

    def fault(self, image: str) -> str | None: ...

    def event(self, c: ContainerRun, at: float, type_: str, reason: str, message: str) -> None: ...

    def context(self, c: ContainerRun, at: float) -> programs.Context | str: ...

    def pod_name(self) -> str: ...


@dataclass
class ProbeState:
    timing: probes.Timing
    next_at: float | None
    #: The first readiness probe: it comes after Delays.readiness, a simulated time.
    first: bool = False
    failures: int = 0
    successes: int = 0
    passing: bool = False


@dataclass
class Instance:
    """One run of the container: its process, output, files and what it serves."""

    started: float
    container_id: str
    process: programs.Process
    ctx: programs.Context
    future: deque[programs.Event] = field(default_factory=deque)
    exhausted: bool = False
    log: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    files: dict[str, str] = field(default_factory=dict)
    serves: tuple[Served, ...] = ()
    exit_at: float | None = None
    exit_code: int | None = None
    finished: float | None = None
    reason: str = ""
    probes: dict[str, ProbeState] = field(default_factory=dict)
    started_ok: bool = True  # the startup probe passed (or there is none)
    ready: bool = False
    unhealthy_reported: bool = False

    def waiting_for_input(self) -> bool:
        """Whether a process that reads its stdin now still waits (it is open)."""
        return self.ctx.stdin is not None and self.ctx.stdin.closed_at is None

    def terminated(self) -> Obj:
        return {
            "exitCode": self.exit_code if self.exit_code is not None else 0,
            "reason": self.reason,
            "startedAt": rfc3339(self.started),
            "finishedAt": rfc3339(self.finished if self.finished is not None else self.started),
            "containerID": self.container_id,
        }


@dataclass
class ContainerRun:
    name: str
    init: bool
    spec: Obj
    pod_uid: str
    restart_policy: str
    grace: float
    stage: Stage = Stage.CREATING
    next_at: float | None = None
    #: Whether ``next_at`` is the simulated machinery's doing (a delay: a pull, a start,
    #: a task's work), which tests wait for, rather than the cluster's own timing (a
    #: back-off, a probe period, a sleep in the program), which they move a clock for.
    urgent: bool = True
    image: str = ""
    message: str = ""
    restarts: int = 0
    #: The latest instances, newest last: the one running or last exited, and the one before.
    instances: deque[Instance] = field(default_factory=lambda: deque(maxlen=2))
    crash: Backoff = field(default_factory=lambda: Backoff(10.0, 300.0))
    pull: Backoff = field(default_factory=lambda: Backoff(10.0, 300.0))
    fault_driven: bool = False
    pulled_in: float = 0.0
    #: Why the current stop was asked (None while none was).
    stopping_for: StopReason | None = None

    def __post_init__(self) -> None:
        self.image = str(self.spec.get("image", ""))

    @property
    def current(self) -> Instance | None:
        """The instance that runs (or is stopping), if any."""
        if self.stage in (Stage.RUNNING, Stage.STOPPING) and self.instances:
            return self.instances[-1]
        return None

    @property
    def last_state(self) -> Instance | None:
        """The instance ``lastState`` shows: the latest that exited, other than the one
        ``state`` shows."""
        if self.stage in (Stage.RUNNING, Stage.STOPPING, Stage.TERMINATED):
            return self.instances[0] if len(self.instances) == 2 else None
        return self.instances[-1] if self.instances else None

    # ---- the clock -----------------------------------------------------------------------

    def advance(self, host: Host, now: float) -> None:
        """Apply everything that fell due up to ``now``, each at its own instant."""
        self.crash.initial = self.pull.initial = host.backoff
        self.crash.cap = self.pull.cap = host.backoff * 30
        for _ in range(100_000):
            if self.next_at is None or self.next_at > now:
                if self.stage is Stage.RUNNING and self.current is not None:
                    self._consume(self.current, now)
                return
            self._step(host, self.next_at, now)

    def _step(self, host: Host, at: float, now: float) -> None:
        match self.stage:
            case Stage.CREATING | Stage.PULL_BACKOFF | Stage.CONFIG_ERROR:
                self._pull(host, at)
            case Stage.PULLING:
                self._pulled(host, at)
            case Stage.PULL_FAILED:
                self.stage = Stage.PULL_BACKOFF
                self.message = f'Back-off pulling image "{self.image}"'
                host.event(self, at, "Normal", "BackOff", self.message)
                host.event(self, at, "Warning", "Failed", "Error: ImagePullBackOff")
                assert self.pull.last is not None
                self.next_at, self.urgent = self.pull.last + self.pull.duration, False
            case Stage.RUNNING:
                self._running(host, at)
            case Stage.STOPPING:
                self._stopped(host, at)
            case Stage.CRASH_BACKOFF:
                exited = self.instances[-1] if self.instances else None
                self.crash.next(exited.finished if exited and exited.finished is not None else at)
                self.restarts += 1
                self._pull(host, at)
            case Stage.INVALID | Stage.NEVER_PULL | Stage.TERMINATED:
                self.next_at = None

    # ---- pulling -------------------------------------------------------------------------

    def start_at(self, at: float) -> None:
        """The container may begin (sandbox ready, earlier init containers done)."""
        if self.stage is Stage.CREATING and self.next_at is None and not self.instances:
            self.next_at, self.urgent = at, True

    def _pull_policy(self) -> str:
        policy = self.spec.get("imagePullPolicy")
        if policy:
            return str(policy)
        ref = images.parse_reference(self.image)
        latest = isinstance(ref, images.Reference) and not ref.digest and ref.tag == "latest"
        return "Always" if latest else "IfNotPresent"

    def _pull(self, host: Host, at: float) -> None:
        found = images.lookup(self.image)
        fault = host.fault(self.image)
        if isinstance(found, images.PullFailure) and found.failure is images.Failure.INVALID:
            self.stage, self.next_at, self.message = Stage.INVALID, None, found.message
            host.event(self, at, "Warning", "InspectFailed", found.message)
            host.event(self, at, "Warning", "Failed", "Error: InvalidImageName")
            return
        policy = self._pull_policy()
        present = host.image_present(self.image) and fault != "pull"
        if policy == "Never" or (policy == "IfNotPresent" and present):
            if not present:
                self.stage, self.next_at = Stage.NEVER_PULL, None
                self.message = f'Container image "{self.image}" is not present with pull policy of Never'
                host.event(self, at, "Warning", "ErrImageNeverPull", self.message)
                host.event(self, at, "Warning", "Failed", "Error: ErrImageNeverPull")
                return
            host.event(self, at, "Normal", "Pulled", f'Container image "{self.image}" already present on machine')
            self._start(host, at)
            return
        if self.pull.active_since_update(at):
            self.stage = Stage.PULL_BACKOFF
            assert self.pull.last is not None
            self.next_at, self.urgent = self.pull.last + self.pull.duration, False
            return
        self.stage = Stage.PULLING
        self.pulled_in = host.delay("image_pull")
        self.next_at, self.urgent = at + self.pulled_in, True
        host.event(self, at, "Normal", "Pulling", f'Pulling image "{self.image}"')

    def _pulled(self, host: Host, at: float) -> None:
        found = images.lookup(self.image)
        fault = host.fault(self.image)
        failure: images.PullFailure | None = found if isinstance(found, images.PullFailure) else None
        if fault == "pull" and failure is None:
            failure = images.PullFailure(images.Failure.MANIFEST)
        if failure is not None:
            self.fault_driven = fault == "pull"
            self.message = images.pull_error(self.image, failure, host.runtime)
            host.event(self, at, "Warning", "Failed", f'Failed to pull image "{self.image}": {self.message}')
            host.event(self, at, "Warning", "Failed", "Error: ErrImagePull")
            self.pull.next(at)
            self.stage = Stage.PULL_FAILED
            self.next_at, self.urgent = at + SYNC_AFTER_ERROR, True
            return
        host.add_image(self.image)
        took = f"{self.pulled_in:.3g}s"
        size = found[1].size if not isinstance(found, images.PullFailure) else 0
        host.event(
            self,
            at,
            "Normal",
            "Pulled",
            f'Successfully pulled image "{self.image}" in {took} ({took} including waiting). Image size: {size} bytes.',
        )
        self._start(host, at)

    # ---- running -------------------------------------------------------------------------

    def _start(self, host: Host, at: float) -> None:
        ctx = host.context(self, at)
        if isinstance(ctx, str):
            self.stage, self.message = Stage.CONFIG_ERROR, ctx
            host.event(self, at, "Warning", "Failed", f"Error: {ctx}")
            self.next_at, self.urgent = at + CONFIG_RETRY, False
            return
        found = images.lookup(self.image)
        image = None if isinstance(found, images.PullFailure) else found[1]
        fault = host.fault(self.image)
        if fault == "crash":
            self.fault_driven = True
            process = programs.Process(iter([programs.Event(0.0, "exit", code=1)]), True)
        else:
            process = programs.start(programs.argv_of(self.spec, image, ctx.env), ctx)
        runtime = host.runtime.split(":", 1)[0]
        digest = hashlib.sha256(f"{self.pod_uid}/{self.name}/{self.restarts}".encode()).hexdigest()
        inst = Instance(at, f"{runtime}://{digest}", process, ctx)
        inst.files.update(ctx.files)
        self._schedule_probes(host, inst)
        self.instances.append(inst)
        self.stage, self.message = Stage.RUNNING, ""
        host.event(self, at, "Normal", "Created", f"Created container {self.name}")
        host.event(self, at, "Normal", "Started", f"Started container {self.name}")
        self.next_at, self.urgent = at, True
        self.stopping_for = None

    def _schedule_probes(self, host: Host, inst: Instance) -> None:
        for kind in probes.PROBE_KINDS:
            probe = self.spec.get(kind)
            if not probe:
                continue
            timing = probes.Timing.of(probe)
            if kind == "readinessProbe":
                # Readiness comes after the simulated start-up time (Delays.readiness), so
                # that lessons run at the pace of the delays; later probes keep the period.
                first = inst.started + host.delay("readiness")
            else:
                first = inst.started + timing.initial_delay
            inst.probes[kind] = ProbeState(timing, first, first=kind == "readinessProbe")
        inst.started_ok = "startupProbe" not in inst.probes
        inst.ready = not inst.probes.get("readinessProbe") and inst.started_ok

    def _events(self, inst: Instance) -> Iterator[programs.Event]:
        while True:
            if inst.future:
                yield inst.future.popleft()
                continue
            if inst.exhausted:
                return
            try:
                yield next(inst.process.events)
            except StopIteration:
                inst.exhausted = True
                return

    def _consume(self, inst: Instance, until: float) -> None:
        """Apply the process's events up to ``until`` (output, files, serving, exit)."""
        for event in self._events(inst):
            at = inst.started + event.at
            if at > until or inst.exit_at is not None:
                inst.future.appendleft(event)
                return
            match event.kind:
                case "out":
                    inst.log.append((at, event.text))
                case "file":
                    if event.content is None:
                        inst.files.pop(event.text, None)
                    else:
                        inst.files[event.text] = event.content
                case "serve":
                    inst.serves = inst.serves + event.serves
                case "exit":
                    inst.exit_at, inst.exit_code = at, event.code
                case "block":
                    inst.exhausted = True
                case "read":
                    # Waiting for input: nothing more happens until its stdin is closed.
                    inst.exhausted = inst.waiting_for_input()
                case "tick":
                    pass

    def _next_event_at(self, inst: Instance, now: float) -> float | None:
        """When the process next does something a status or probe could see."""
        looked = 0
        for event in list(inst.future):
            if event.kind in ("exit", "serve", "file"):
                return inst.started + event.at
        while not inst.exhausted and looked < LOOKAHEAD:
            try:
                event = next(inst.process.events)
            except StopIteration:
                inst.exhausted = True
                break
            inst.future.append(event)
            looked += 1
            if event.kind in ("exit", "serve", "file"):
                return inst.started + event.at
            if event.kind == "block" or (event.kind == "read" and inst.waiting_for_input()):
                inst.exhausted = True
                break
            if inst.started + event.at > now + 3600:
                break
        if inst.future and not inst.exhausted:
            # Only output so far: look again from the last of it.
            return max(now, inst.started + inst.future[-1].at)
        return None

    def _running(self, host: Host, at: float) -> None:
        inst = self.current
        assert inst is not None
        self._consume(inst, at)
        if inst.exit_at is not None and inst.exit_at <= at:
            inst.reason = "Completed" if inst.exit_code == 0 else "Error"
            self._exited(host, inst.exit_at)
            return
        self._probe(host, inst, at)
        if self.stage is not Stage.RUNNING:
            return
        event_at = self._next_event_at(inst, at)
        probe_at, probe_urgent = self._next_probe_at(inst)
        candidates = []
        if event_at is not None:
            candidates.append((event_at, self._simulated_exit_next(inst)))
        if probe_at is not None:
            candidates.append((probe_at, probe_urgent))
        if not candidates:
            self.next_at = None
            return
        when = min(t for t, _ in candidates)
        self.next_at = max(when, at)
        self.urgent = any(urgent for t, urgent in candidates if t == when)

    def _next_probe_at(self, inst: Instance) -> tuple[float | None, bool]:
        """When a probe runs next, and whether it is the first readiness probe (which
        comes after the simulated start-up time, a delay)."""
        due = [(p.next_at, p.first) for p in inst.probes.values() if p.next_at is not None]
        if not due:
            return None, False
        when = min(t for t, _ in due)
        return when, any(first for t, first in due if t == when)

    @staticmethod
    def _simulated_exit_next(inst: Instance) -> bool:
        for event in inst.future:
            if event.kind in ("exit", "serve", "file"):
                return event.kind == "exit" and event.simulated
        return False

    def logs_until(self, now: float) -> None:
        if self.stage is Stage.RUNNING and self.current is not None:
            self._consume(self.current, now)

    # ---- probes ----------------------------------------------------------------------------

    def _probe(self, host: Host, inst: Instance, at: float) -> None:
        for kind in probes.PROBE_KINDS:
            state = inst.probes.get(kind)
            if state is None or state.next_at is None or state.next_at > at:
                continue
            if kind != "startupProbe" and not inst.started_ok:
                state.next_at = None
                continue
            result = probes.run(
                self.spec[kind], self.spec, ip=inst.ctx.ip, serves=inst.serves, files=inst.files, ctx=inst.ctx
            )
            if kind == "readinessProbe" and host.fault(self.image) == "unready":
                result = probes.Result(False, "the k8s-tutor sandbox was told to keep this container unready")
            timing = state.timing
            if result.ok:
                state.failures, state.successes = 0, state.successes + 1
                state.passing = state.passing or state.successes >= timing.success_threshold
            else:
                state.failures, state.successes = state.failures + 1, 0
                if state.failures >= timing.failure_threshold:
                    state.passing = False
                host.event(self, at, "Warning", "Unhealthy", f"{probes.LABEL[kind]} probe failed: {result.message}")
            state.next_at, state.first = at + timing.period, False
            if kind == "startupProbe":
                if state.passing:
                    inst.started_ok, state.next_at = True, None
                    self._after_startup(host, inst, at)
                elif state.failures >= timing.failure_threshold:
                    self._kill(host, at, "startup", timing.termination_grace)
                    return
            elif kind == "livenessProbe" and state.failures >= timing.failure_threshold:
                self._kill(host, at, "liveness", timing.termination_grace)
                return
            elif kind == "readinessProbe":
                inst.ready = state.passing
            if result.ok and state.passing and self._steady(inst, at):
                # Passing, and nothing the probe looks at will change: no need to ask again.
                state.next_at = None
        if "readinessProbe" not in inst.probes:
            inst.ready = inst.started_ok and host.fault(self.image) != "unready"
            if host.fault(self.image) == "unready" and not inst.unhealthy_reported:
                inst.unhealthy_reported = True
                host.event(
                    self,
                    at,
                    "Warning",
                    "Unhealthy",
                    "Readiness probe failed: the k8s-tutor sandbox was told to keep this container unready",
                )

    def _after_startup(self, host: Host, inst: Instance, at: float) -> None:
        for kind, state in inst.probes.items():
            if kind != "startupProbe":
                state.next_at = at

    def _steady(self, inst: Instance, at: float) -> bool:
        return self._next_event_at(inst, at) is None

    # ---- exits and restarts ------------------------------------------------------------

    def _exited(self, host: Host, at: float) -> None:
        inst = self.current
        assert inst is not None
        inst.finished = at
        inst.ready = False
        code = inst.exit_code or 0
        if self.stopping_for == "delete":
            self.stage, self.next_at = Stage.TERMINATED, None
            return
        killed = self.stopping_for in ("liveness", "startup", "changed")
        if self.init:
            restart = (code != 0 or killed) and self.restart_policy != "Never"
        elif self.restart_policy == "Always":
            restart = True
        elif self.restart_policy == "OnFailure":
            restart = code != 0 or killed
        else:
            restart = False
        if not restart:
            self.stage, self.next_at = Stage.TERMINATED, None
            return
        if self.stopping_for == "changed":
            self.restarts += 1
            self.stage = Stage.CREATING
            self.next_at, self.urgent = at, True
            return
        if self.crash.holds(at):
            self.stage = Stage.CRASH_BACKOFF
            self.next_at, self.urgent = at + self.crash.duration, False
            self.message = (
                f"back-off {int(self.crash.duration)}s restarting failed container={self.name} "
                f"pod={host.pod_name()}({self.pod_uid})"
            )
            host.event(
                self,
                at,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {self.name} in pod {host.pod_name()}({self.pod_uid})",
            )
            return
        self.crash.next(at)
        self.restarts += 1
        self._pull(host, at)

    def _kill(self, host: Host, at: float, why: StopReason, grace: float | None = None) -> None:
        match why:
            case "liveness" | "startup":
                message = f"Container {self.name} failed {why} probe, will be restarted"
            case "changed":
                message = f"Container {self.name} definition changed, will be restarted"
            case "delete":
                message = f"Stopping container {self.name}"
            case _:
                assert_never(why)
        host.event(self, at, "Normal", "Killing", message)
        self.stop(host, at, why, grace)

    def stop(self, host: Host, at: float, why: StopReason, grace: float | None = None) -> None:
        """SIGTERM: the process exits at once if it handles it, at the end of the grace
        period otherwise (SIGKILL, exit 137)."""
        inst = self.current
        self.stopping_for = why
        if self.stage is not Stage.RUNNING or inst is None:
            if why == "delete":
                self.stage, self.next_at = Stage.TERMINATED, None
            return
        self._consume(inst, at)
        inst.ready = False
        window = self.grace if grace is None else grace
        if inst.process.stops_on_sigterm:
            inst.exit_code = 0
            inst.reason = "Completed"
            self.next_at, self.urgent = at + min(host.delay("pod_termination"), window), True
        else:
            inst.exit_code = 137
            inst.reason = "Error"
            self.next_at, self.urgent = at + window, False
        self.stage = Stage.STOPPING

    def _stopped(self, host: Host, at: float) -> None:
        inst = self.current
        assert inst is not None
        self._consume(inst, at)
        self._exited(host, at)

    def close_stdin(self, at: float) -> bool:
        """The runtime closes the running process's stdin (its attached client went, with
        ``stdinOnce``): a program reading it reads end of file. False: nothing to close."""
        inst = self.current
        if self.stage is not Stage.RUNNING or inst is None or not inst.waiting_for_input():
            return False
        assert inst.ctx.stdin is not None
        inst.ctx.stdin.closed_at = at
        inst.exhausted = False  # a process paused on its input goes on from there
        self.next_at, self.urgent = at, True
        return True

    def change_image(self, host: Host, at: float, image: str) -> None:
        """The pod's spec now names another image: restart the container with it."""
        self.spec = {**self.spec, "image": image}
        old_stage = self.stage
        self.image = image
        if old_stage is Stage.RUNNING:
            self._kill(host, at, "changed")
            return
        if old_stage in (Stage.TERMINATED,):
            return
        self.stage, self.next_at, self.urgent = Stage.CREATING, at, True
        self.pull = Backoff(host.backoff, host.backoff * 30)

    def retry_now(self, at: float) -> None:
        """A fault was cleared, or a missing ConfigMap appeared: retry without waiting."""
        if self.stage in (Stage.PULL_BACKOFF, Stage.PULL_FAILED) and self.fault_driven:
            self.pull = Backoff(self.pull.initial, self.pull.cap)
            self.stage, self.next_at, self.urgent = Stage.CREATING, at, True
        elif (self.stage is Stage.CRASH_BACKOFF and self.fault_driven) or self.stage is Stage.CONFIG_ERROR:
            self.next_at, self.urgent = at, True
        elif self.stage is Stage.RUNNING and self.current is not None:
            # What a probe looks at may have changed: ask again now.
            inst = self.current
            for kind, state in inst.probes.items():
                if inst.started_ok or kind == "startupProbe":
                    state.next_at = at if state.next_at is None else min(state.next_at, at)
            self.next_at, self.urgent = at, True
        self.fault_driven = self.fault_driven and self.stage is not Stage.CREATING

    # ---- what the API shows ----------------------------------------------------------

    @property
    def ready(self) -> bool:
        if self.init:
            return self.succeeded
        inst = self.current
        return self.stage is Stage.RUNNING and inst is not None and inst.ready

    @property
    def succeeded(self) -> bool:
        return self.stage is Stage.TERMINATED and bool(self.instances) and self.instances[-1].exit_code == 0

    def status(self, waiting_reason: str) -> Obj:
        """The containerStatus; ``waiting_reason`` for a container not started yet
        (ContainerCreating, or PodInitializing in a pod with init containers)."""
        image = images.normalize_image(self.image)
        status: Obj = {
            "name": self.name,
            "image": image,
            "imageID": "",
            "ready": self.ready,
            "restartCount": self.restarts,
            "started": False,
            "lastState": {},
        }
        last = self.last_state
        if last is not None and last.finished is not None:
            status["lastState"] = {"terminated": last.terminated()}
        digest = f"{image.rsplit(':', 1)[0] if '@' not in image else image.split('@')[0]}@sha256:" + (
            hashlib.sha256(self.image.encode()).hexdigest()
        )
        stage = self.stage
        latest = self.instances[-1] if self.instances else None
        if stage in (Stage.RUNNING, Stage.STOPPING) and latest is not None:
            status["state"] = {"running": {"startedAt": rfc3339(latest.started)}}
            status["started"] = latest.started_ok
            status["imageID"] = digest
            status["containerID"] = latest.container_id
        elif stage is Stage.TERMINATED and latest is not None:
            status["state"] = {"terminated": latest.terminated()}
            status["imageID"] = digest
            status["containerID"] = latest.container_id
        elif stage in (Stage.CREATING, Stage.PULLING, Stage.TERMINATED):
            status["state"] = {"waiting": {"reason": waiting_reason}}
        else:
            waiting: Obj = {"reason": stage.value}
            if self.message:
                waiting["message"] = self.message
            status["state"] = {"waiting": waiting}
            if latest is not None:
                status["imageID"] = digest
                status["containerID"] = latest.container_id
        return status

    def log_source(self, previous: bool) -> Instance | str:
        """The instance whose log ``kubectl logs`` shows, or the kubelet's refusal
        (``{c}`` and ``{p}`` stand for the quoted container and pod names)."""
        if previous:
            last = self.last_state
            return last if last is not None else "previous terminated container {c} in pod {p} not found"
        if self.instances:
            return self.instances[-1]
        if self.stage is Stage.PULL_FAILED:
            return "container {c} in pod {p} is waiting to start: image can't be pulled"
        if self.stage is Stage.PULL_BACKOFF:
            return "container {c} in pod {p} is waiting to start: trying and failing to pull image"
        reason = "ContainerCreating" if self.stage in (Stage.CREATING, Stage.PULLING) else self.stage.value
        return "container {c} in pod {p} is waiting to start: " + reason
