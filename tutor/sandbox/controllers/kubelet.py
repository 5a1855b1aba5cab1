"""The scheduler and the kubelet of the one node: pods from Pending to Running and away.

Scheduling checks what a learner can get wrong in the lessons: claims that are not
bound (``pod has unbound immediate PersistentVolumeClaims``), missing claims, node
selectors. The kubelet then walks each container through image pull, init containers,
start and readiness with the configured delays, and applies the image faults
(ErrImagePull/ImagePullBackOff, CrashLoopBackOff, never Ready) that tests switch on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.objects import Obj, controller_of, merge_conditions, rfc3339
from tutor.sandbox.selectors import selector_from_map
from tutor.sandbox.store import WatchEvent
from tutor.sandbox.versions import runtime_info

BACKOFF_CAP = 32
PREEMPTION = "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."


def normalize_image(image: str) -> str:
    """``mongo:5.0`` -> ``docker.io/library/mongo:5.0``, as containerd reports it."""
    name = image
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return "docker.io/library/" + name
    if "." not in first and ":" not in first and first != "localhost":
        return "docker.io/" + name
    return name


def image_id(image: str) -> str:
    repo = normalize_image(image).rsplit(":", 1)[0] if "@" not in image else normalize_image(image).split("@")[0]
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


@dataclass
class ContainerRun:
    name: str
    image: str
    init: bool
    #: new, pulling, pull_error, pull_backoff, running, crash_backoff, completed
    state: str = "new"
    until: float = 0.0
    started_at: float = 0.0
    ready_at: float | None = None
    finish_at: float | None = None
    crash_at: float | None = None
    restarts: int = 0
    failures: int = 0
    container_id: str = ""
    last_terminated: Obj | None = None
    terminated: Obj | None = None
    unhealthy_reported: bool = False


@dataclass
class PodRun:
    uid: str
    scheduled_at: float
    sandbox_at: float
    containers: list[ContainerRun] = field(default_factory=list)
    started_phase_at: float | None = None
    deleting_since: float | None = None
    ip: str = ""


class Kubelet(Controller):
    """Scheduler + kubelet for pods; reacts to pods, claims and the node."""

    name = "kubelet"
    watches = ("pods", "persistentvolumeclaims", "nodes")

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.runs: dict[str, PodRun] = {}
        self.images: set[str] = set()
        self._scheduling_failures: dict[str, str] = {}
        self._first_seen: dict[str, float] = {}

    # ---- event mapping ---------------------------------------------------------------

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods":
            return [(event.namespace, event.name)]
        if event.resource == "persistentvolumeclaims":
            return [
                (p["metadata"]["namespace"], p["metadata"]["name"])
                for p in self.store.iter("pods", event.namespace)
                if not (p.get("spec") or {}).get("nodeName")
            ]
        # The node changed (Ready, labels): retry every unscheduled pod.
        return [
            (p["metadata"]["namespace"], p["metadata"]["name"])
            for p in self.store.iter("pods")
            if not (p.get("spec") or {}).get("nodeName")
        ]

    def requeue_all(self) -> None:
        for pod in list(self.store.iter("pods")):
            self.requeue((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    # ---- reconcile -------------------------------------------------------------------

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        pod = self.store.peek("pods", namespace, name)
        if pod is None:
            self._forget_missing()
            return None
        uid = pod["metadata"]["uid"]
        now = self.store.clock()
        spec = pod.get("spec") or {}
        if pod["metadata"].get("deletionTimestamp"):
            return self._terminate(pod, now)
        if not spec.get("nodeName"):
            return self._schedule(pod, now)
        if (pod.get("status") or {}).get("phase") in (
            "Succeeded",
            "Failed",
        ) and uid not in self.runs:
            return None
        run = self.runs.get(uid)
        if run is None:
            run = self._new_run(pod, now)
        wake = self._advance(pod, run, now)
        status = self._status(pod, run, now)
        self.store.replace_status("pods", namespace, name, status)
        if wake is None:
            return None
        return max(0.0, wake - now)

    def _forget_missing(self) -> None:
        live = {p["metadata"]["uid"] for p in self.store.iter("pods")} if len(self.runs) > 64 else None
        for uid in list(self.runs):
            if (live is not None and uid not in live) or (live is None and self.store.by_uid(uid) is None):
                del self.runs[uid]
                self._scheduling_failures.pop(uid, None)
                self._first_seen.pop(uid, None)

    # ---- scheduling --------------------------------------------------------------------

    def _node(self) -> Obj | None:
        return self.store.peek("nodes", "", self.cluster.node_name)

    def _schedule(self, pod: Obj, now: float) -> float | None:
        uid = pod["metadata"]["uid"]
        first = self._first_seen.setdefault(uid, now)
        wait = first + self.cluster.delay("schedule") - now
        if wait > 0:
            return wait
        problem = self._unschedulable_reason(pod)
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if problem is not None:
            if problem == "":
                return None  # waiting for a volume to be provisioned for this node
            message = f"0/1 nodes are available: {problem}. {PREEMPTION}"
            if self._scheduling_failures.get(uid) != message:
                self._scheduling_failures[uid] = message
                self.cluster.recorder.record(pod, "Warning", "FailedScheduling", message, component="default-scheduler")
            status = dict(pod.get("status") or {})
            status["phase"] = "Pending"
            status["conditions"] = merge_conditions(
                status.get("conditions"),
                [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": rfc3339(now),
                        "reason": "Unschedulable",
                        "message": message,
                    }
                ],
                rfc3339(now),
            )
            self.store.replace_status("pods", namespace, name, status)
            return None
        self._scheduling_failures.pop(uid, None)
        self.store.patch("pods", namespace, name, {"spec": {"nodeName": self.cluster.node_name}})
        self.cluster.recorder.record(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {namespace}/{name} to {self.cluster.node_name}",
            component="default-scheduler",
        )
        return 0.0

    def _unschedulable_reason(self, pod: Obj) -> str | None:
        """None when the pod fits; "" to wait silently; otherwise the scheduler's reason."""
        node = self._node()
        if node is None:
            return "no nodes available to schedule pods"
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (node.get("status") or {}).get("conditions") or []
        )
        if not ready:
            return "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
        spec = pod.get("spec") or {}
        if not selector_from_map(spec.get("nodeSelector") or {"_": "_"}).matches(
            {**(node["metadata"].get("labels") or {}), "_": "_"}
        ):
            return "1 node(s) didn't match Pod's node affinity/selector"
        namespace = pod["metadata"]["namespace"]
        waiting_for_provisioning = False
        for vol in spec.get("volumes") or []:
            claim_name = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim_name:
                continue
            claim = self.store.peek("persistentvolumeclaims", namespace, claim_name)
            if claim is None:
                return f'persistentvolumeclaim "{claim_name}" not found'
            if claim["metadata"].get("deletionTimestamp"):
                return f'persistentvolumeclaim "{claim_name}" is being deleted'
            if (claim.get("status") or {}).get("phase") == "Bound":
                continue
            sc_name = (claim.get("spec") or {}).get("storageClassName")
            sc = self.store.peek("storageclasses.storage.k8s.io", "", sc_name) if sc_name else None
            if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
                annotations = claim["metadata"].get("annotations") or {}
                if annotations.get("volume.kubernetes.io/selected-node") != self.cluster.node_name:
                    self.store.patch(
                        "persistentvolumeclaims",
                        namespace,
                        claim_name,
                        {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": self.cluster.node_name}}},
                    )
                waiting_for_provisioning = True
                continue
            return "pod has unbound immediate PersistentVolumeClaims"
        return "" if waiting_for_provisioning else None

    # ---- the kubelet ---------------------------------------------------------------------

    def _new_run(self, pod: Obj, now: float) -> PodRun:
        spec = pod.get("spec") or {}
        sandbox_at = now + self.cluster.delay("container_create")
        run = PodRun(pod["metadata"]["uid"], now, sandbox_at)
        for c in spec.get("initContainers") or []:
            run.containers.append(ContainerRun(c.get("name", ""), c.get("image", ""), True))
        for c in spec.get("containers") or []:
            run.containers.append(ContainerRun(c.get("name", ""), c.get("image", ""), False))
        self.runs[run.uid] = run
        return run

    def _spec_of(self, pod: Obj, c: ContainerRun) -> Obj:
        field_name = "initContainers" if c.init else "containers"
        for spec in (pod.get("spec") or {}).get(field_name) or []:
            if spec.get("name") == c.name:
                return dict(spec)
        return {}

    def _event(self, pod: Obj, c: ContainerRun, type_: str, reason: str, message: str) -> None:
        field_path = f"spec.{'initContainers' if c.init else 'containers'}{{{c.name}}}"
        self.cluster.recorder.record(pod, type_, reason, message, component="kubelet", field_path=field_path, host=True)

    def _fault(self, image: str) -> tuple[str, int] | None:
        faults = self.cluster.faults
        return faults.image_fault(image) if faults is not None else None

    def _backoff(self, failures: int) -> float:
        base = max(self.cluster.delays.backoff, 0.05)
        return float(base * min(2 ** max(failures - 1, 0), BACKOFF_CAP))

    def _advance(self, pod: Obj, run: PodRun, now: float) -> float | None:
        """Move every container along; return when something next changes."""
        if now < run.sandbox_at:
            return run.sandbox_at
        if not run.ip:
            host_network = (pod.get("spec") or {}).get("hostNetwork")
            admission = self.store.admission
            if host_network or admission is None:
                run.ip = self.cluster.node_ip
            else:
                run.ip = admission.allocate_pod_ip()
        wakes: list[float] = []
        for c in run.containers:
            if not c.init or c.state == "completed":
                continue
            wake = self._step(pod, run, c, now)
            if c.state == "completed":
                continue
            return wake
        is_job = (controller_of(pod) or {}).get("kind") == "Job"
        for c in run.containers:
            if c.init:
                continue
            wake = self._step(pod, run, c, now, job=is_job)
            if wake is not None:
                wakes.append(wake)
        return min(wakes) if wakes else None

    def _start(self, pod: Obj, run: PodRun, c: ContainerRun, now: float, *, job: bool) -> None:
        spec = self._spec_of(pod, c)
        c.state = "running"
        c.started_at = now
        c.terminated = None
        runtime = runtime_info(self.cluster.container_runtime)[0]
        c.container_id = f"{runtime}://" + hashlib.sha256(f"{run.uid}/{c.name}/{c.restarts}".encode()).hexdigest()
        self._event(pod, c, "Normal", "Created", f"Created container {c.name}")
        self._event(pod, c, "Normal", "Started", f"Started container {c.name}")
        if c.init:
            c.finish_at = now + self.cluster.delay("init_container")
        elif job:
            c.finish_at = now + self.cluster.delay("job_run")
        else:
            c.finish_at = None
        probe = spec.get("readinessProbe")
        c.ready_at = now + (self.cluster.delay("readiness") if probe else 0.0)
        fault = self._fault(c.image)
        c.crash_at = None
        if fault is not None and fault[0] == "crash":
            c.crash_at = now + max(self.cluster.delays.backoff, 0.05) / 2

    def _pull(self, pod: Obj, c: ContainerRun, now: float) -> float | None:
        spec = self._spec_of(pod, c)
        fault = self._fault(c.image)
        if fault is not None and fault[0] == "pull":
            c.failures += 1
            c.state = "pull_error"
            c.until = now + max(self.cluster.delays.backoff, 0.05) / 2
            self._event(pod, c, "Normal", "Pulling", f'Pulling image "{c.image}"')
            self._event(
                pod,
                c,
                "Warning",
                "Failed",
                f'Failed to pull image "{c.image}": {self._pull_error(c.image)}',
            )
            self._event(pod, c, "Warning", "Failed", "Error: ErrImagePull")
            return c.until
        policy = spec.get("imagePullPolicy", "IfNotPresent")
        if policy == "Never" or (policy == "IfNotPresent" and c.image in self.images):
            self._event(
                pod,
                c,
                "Normal",
                "Pulled",
                f'Container image "{c.image}" already present on machine',
            )
            c.state = "pulled"
            return now
        c.state = "pulling"
        c.until = now + self.cluster.delay("image_pull")
        self._event(pod, c, "Normal", "Pulling", f'Pulling image "{c.image}"')
        return c.until

    @staticmethod
    def _pull_error(image: str) -> str:
        return (
            f'failed to pull and unpack image "{normalize_image(image)}": failed to resolve '
            "reference "
            f'"{normalize_image(image)}": {normalize_image(image)}: not found'
        )

    def _step(self, pod: Obj, run: PodRun, c: ContainerRun, now: float, *, job: bool = False) -> float | None:
        # A few transitions may happen at the same instant (zero delays): loop until a wait.
        for _ in range(8):
            if c.state == "new":
                wake = self._pull(pod, c, now)
                if c.state in ("pull_error", "pulling") and wake is not None and wake > now:
                    return wake
                continue
            if c.state == "pulling":
                if now < c.until:
                    return c.until
                took = self.cluster.delay("image_pull")
                self.images.add(c.image)
                self._event(
                    pod,
                    c,
                    "Normal",
                    "Pulled",
                    f'Successfully pulled image "{c.image}" in {took:.3g}s ({took:.3g}s '
                    "including waiting). "
                    "Image size: 0 bytes.",
                )
                c.state = "pulled"
                continue
            if c.state == "pulled":
                self._start(pod, run, c, now, job=job)
                continue
            if c.state == "pull_error":
                if now < c.until:
                    return c.until
                if self._fault(c.image) is None:
                    c.state = "new"
                    continue
                c.state = "pull_backoff"
                c.until = now + self._backoff(c.failures)
                self._event(pod, c, "Normal", "BackOff", f'Back-off pulling image "{c.image}"')
                self._event(pod, c, "Warning", "Failed", "Error: ImagePullBackOff")
                self.requeue(
                    (pod["metadata"]["namespace"], pod["metadata"]["name"]),
                    c.until - now,
                    background=True,
                )
                return None
            if c.state == "pull_backoff":
                # A cleared fault is retried at once, so a test's recovery does not wait
                # out a back-off the learner would have waited out anyway.
                if now < c.until and self._fault(c.image) is not None:
                    self.requeue(
                        (pod["metadata"]["namespace"], pod["metadata"]["name"]),
                        c.until - now,
                        background=True,
                    )
                    return None
                c.state = "new"
                continue
            if c.state == "running":
                if c.crash_at is not None:
                    if now < c.crash_at:
                        return c.crash_at
                    c.failures += 1
                    c.last_terminated = {
                        "terminated": {
                            "exitCode": 1,
                            "reason": "Error",
                            "startedAt": rfc3339(c.started_at),
                            "finishedAt": rfc3339(now),
                            "containerID": c.container_id,
                        }
                    }
                    c.state = "crash_backoff"
                    c.until = now + self._backoff(c.failures)
                    self._event(
                        pod,
                        c,
                        "Warning",
                        "BackOff",
                        f"Back-off restarting failed container {c.name} in pod "
                        f"{pod['metadata']['name']}_{pod['metadata']['namespace']}({run.uid})",
                    )
                    self.requeue(
                        (pod["metadata"]["namespace"], pod["metadata"]["name"]),
                        c.until - now,
                        background=True,
                    )
                    return None
                if c.finish_at is not None:
                    if now < c.finish_at:
                        return c.finish_at
                    c.state = "completed"
                    c.terminated = {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": rfc3339(c.started_at),
                        "finishedAt": rfc3339(now),
                        "containerID": c.container_id,
                    }
                    return None
                if c.ready_at is not None and now < c.ready_at:
                    return c.ready_at
                fault = self._fault(c.image)
                if fault is not None and fault[0] == "unready" and not c.unhealthy_reported:
                    c.unhealthy_reported = True
                    self._event(
                        pod,
                        c,
                        "Warning",
                        "Unhealthy",
                        "Readiness probe failed: the k8s-tutor sandbox was told to keep this container unready",
                    )
                if fault is not None and fault[0] == "crash":
                    c.crash_at = now
                    continue
                return None
            if c.state == "crash_backoff":
                if now < c.until and self._fault(c.image) is not None:
                    self.requeue(
                        (pod["metadata"]["namespace"], pod["metadata"]["name"]),
                        c.until - now,
                        background=True,
                    )
                    return None
                c.restarts += 1
                self._event(
                    pod,
                    c,
                    "Normal",
                    "Pulled",
                    f'Container image "{c.image}" already present on machine',
                )
                self._start(pod, run, c, now, job=job)
                continue
            return None
        return None

    def _container_status(self, pod: Obj, run: PodRun, c: ContainerRun, now: float, inits_pending: bool) -> Obj:
        status: Obj = {
            "name": c.name,
            "image": normalize_image(c.image),
            "imageID": "",
            "ready": False,
            "restartCount": c.restarts,
            "started": False,
            "lastState": c.last_terminated or {},
        }
        # As the kubelet reports it: a pod with init containers shows Init:N/M, then
        # PodInitializing, never ContainerCreating.
        has_inits = any(other.init for other in run.containers)
        waiting_reason = "PodInitializing" if has_inits else "ContainerCreating"
        if c.state in ("new", "pulling", "pulled"):
            status["state"] = {"waiting": {"reason": waiting_reason}}
        elif c.state == "pull_error":
            status["state"] = {"waiting": {"reason": "ErrImagePull", "message": self._pull_error(c.image)}}
        elif c.state == "pull_backoff":
            status["state"] = {
                "waiting": {
                    "reason": "ImagePullBackOff",
                    "message": f'Back-off pulling image "{c.image}"',
                }
            }
        elif c.state == "crash_backoff":
            wait = int(self._backoff(c.failures) * 10) or 10
            status["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {wait}s restarting failed container={c.name} pod="
                    f"{pod['metadata']['name']}_{pod['metadata']['namespace']}({run.uid})",
                }
            }
            status["imageID"] = image_id(c.image)
            status["containerID"] = c.container_id
        elif c.state == "running":
            fault = self._fault(c.image)
            ready = c.ready_at is not None and now >= c.ready_at and not (fault is not None and fault[0] == "unready")
            status["state"] = {"running": {"startedAt": rfc3339(c.started_at)}}
            status["ready"] = ready and not c.init
            status["started"] = True
            status["imageID"] = image_id(c.image)
            status["containerID"] = c.container_id
        elif c.state == "completed":
            status["state"] = {"terminated": c.terminated or {}}
            status["imageID"] = image_id(c.image)
            status["containerID"] = c.container_id
        if c.init:
            status["ready"] = c.state == "completed"
        return status

    def _status(self, pod: Obj, run: PodRun, now: float) -> Obj:
        old = pod.get("status") or {}
        inits = [c for c in run.containers if c.init]
        mains = [c for c in run.containers if not c.init]
        inits_pending = any(c.state != "completed" for c in inits)
        init_statuses = [self._container_status(pod, run, c, now, inits_pending) for c in inits]
        main_statuses = [self._container_status(pod, run, c, now, inits_pending) for c in mains]
        sandbox_ready = now >= run.sandbox_at
        all_ready = bool(main_statuses) and all(s["ready"] for s in main_statuses)
        all_done = bool(mains) and all(c.state == "completed" for c in mains)
        any_started = any(c.state in ("running", "crash_backoff", "completed") for c in mains)
        if all_done:
            phase = "Succeeded"
        elif any_started and not inits_pending:
            phase = "Running"
        else:
            phase = "Pending"
        stamp = rfc3339(now)
        unready = [s["name"] for s in main_statuses if not s["ready"]]
        conditions: list[Obj] = [
            {
                "type": "PodReadyToStartContainers",
                "status": "True" if sandbox_ready and phase != "Succeeded" else "False",
            },
        ]
        if inits_pending:
            pending_names = [c.name for c in inits if c.state != "completed"]
            conditions.append(
                {
                    "type": "Initialized",
                    "status": "False",
                    "reason": "ContainersNotInitialized",
                    "message": f"containers with incomplete status: [{' '.join(pending_names)}]",
                }
            )
        else:
            conditions.append({"type": "Initialized", "status": "True"})
        if phase == "Succeeded":
            ready_cond: Obj = {"status": "False", "reason": "PodCompleted"}
        elif all_ready:
            ready_cond = {"status": "True"}
        else:
            ready_cond = {
                "status": "False",
                "reason": "ContainersNotReady",
                "message": f"containers with unready status: [{' '.join(unready)}]",
            }
        conditions.append({"type": "Ready", **ready_cond})
        conditions.append({"type": "ContainersReady", **ready_cond})
        conditions.append({"type": "PodScheduled", "status": "True"})
        for c in conditions:
            c.setdefault("lastProbeTime", None)
            c["lastTransitionTime"] = stamp
        status: Obj = {
            "phase": phase,
            "conditions": merge_conditions(old.get("conditions"), conditions, stamp),
            "hostIP": self.cluster.node_ip,
            "hostIPs": [{"ip": self.cluster.node_ip}],
            "startTime": old.get("startTime") or rfc3339(run.scheduled_at),
            "qosClass": old.get("qosClass", "BestEffort"),
            "containerStatuses": main_statuses,
        }
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        if run.ip:
            status["podIP"] = run.ip
            status["podIPs"] = [{"ip": run.ip}]
        return status

    # ---- termination -------------------------------------------------------------------

    def _terminate(self, pod: Obj, now: float) -> float | None:
        meta = pod["metadata"]
        run = self.runs.get(meta["uid"])
        if not (pod.get("spec") or {}).get("nodeName") or int(meta.get("deletionGracePeriodSeconds") or 0) == 0:
            return None
        if run is None:
            run = PodRun(meta["uid"], now, now)
            self.runs[meta["uid"]] = run
        if run.deleting_since is None:
            run.deleting_since = now
            for c in run.containers:
                if c.state == "running" and not c.init:
                    self._event(pod, c, "Normal", "Killing", f"Stopping container {c.name}")
        grace = float(meta.get("deletionGracePeriodSeconds") or 0)
        due = run.deleting_since + min(self.cluster.delay("pod_termination"), grace)
        if now < due:
            return due - now
        self.store.delete("pods", meta["namespace"], meta["name"], grace_period=0, uid=meta["uid"])
        self.runs.pop(meta["uid"], None)
        return None
