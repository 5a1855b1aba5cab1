"""The kubelet of the one node: the pods bound to it, from sandbox to their last container.

For each pod the scheduler bound here it sets up the sandbox (an IP, the volumes: a
missing ConfigMap or Secret keeps it in ContainerCreating with ``FailedMount`` events),
runs the init containers one after the other and then the containers (each a
:class:`~tutor.sandbox.controllers.containers.ContainerRun`), and writes the pod's status:
phase, conditions, container statuses. A deleted pod's containers get SIGTERM; the pod
goes when they have stopped.

The events of one pass are gathered and recorded at the end, repeats folded into one
with a count, as the real recorder aggregates them: a test that moves the clock by an
hour writes one ``Unhealthy`` event with a large count, not hundreds.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tutor.sandbox import programs
from tutor.sandbox.controllers.containers import ContainerRun, Stage
from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.images import lookup
from tutor.sandbox.objects import Obj, merge_conditions, rfc3339
from tutor.sandbox.store import WatchEvent

_SERVICE_NAME = re.compile(r"[^A-Z0-9]")


@dataclass
class PodRun:
    uid: str
    namespace: str
    name: str
    scheduled_at: float
    sandbox_at: float
    containers: list[ContainerRun] = field(default_factory=list)
    ip: str = ""
    deleting_since: float | None = None
    mount_error: str = ""
    mounted: bool = False
    #: The pod's resourceVersion after this kubelet last wrote its status, and when the
    #: pod next changes: a pass woken by its own write, with nothing due, has no work.
    written: str = ""
    wake: tuple[float, bool] | None = None

    @property
    def inits(self) -> list[ContainerRun]:
        return [c for c in self.containers if c.init]

    @property
    def mains(self) -> list[ContainerRun]:
        return [c for c in self.containers if not c.init]


@dataclass
class _Pending:
    type_: str
    reason: str
    message: str
    field_path: str
    first: float
    last: float
    count: int = 1


class _PodHost:
    """What one pod's containers see of the node during one pass of the kubelet."""

    def __init__(self, kubelet: Kubelet, pod: Obj, run: PodRun) -> None:
        self.kubelet = kubelet
        self.pod = pod
        self.run = run
        self.runtime = kubelet.cluster.container_runtime
        self.backoff = max(kubelet.cluster.delays.backoff, 0.05)
        self.events: dict[tuple[str, str, str, str], _Pending] = {}

    def delay(self, name: str) -> float:
        return self.kubelet.cluster.delay(name)

    def image_present(self, image: str) -> bool:
        return image in self.kubelet.images or _preloaded(image)

    def add_image(self, image: str) -> None:
        self.kubelet.images.add(image)

    def fault(self, image: str) -> str | None:
        faults = self.kubelet.cluster.faults
        found = faults.image_fault(image) if faults is not None else None
        return found[0] if found is not None else None

    def pod_name(self) -> str:
        return f"{self.run.name}_{self.run.namespace}"

    def event(self, c: ContainerRun, at: float, type_: str, reason: str, message: str) -> None:
        field_path = f"spec.{'initContainers' if c.init else 'containers'}{{{c.name}}}"
        key = (field_path, type_, reason, message)
        pending = self.events.get(key)
        if pending is None:
            self.events[key] = _Pending(type_, reason, message, field_path, at, at)
        else:
            pending.count += 1
            pending.last = at

    def flush(self) -> None:
        for p in sorted(self.events.values(), key=lambda p: p.first):
            self.kubelet.cluster.recorder.record(
                self.pod,
                p.type_,
                p.reason,
                p.message,
                component="kubelet",
                field_path=p.field_path,
                host=True,
                at=p.first,
                last=p.last,
                count=p.count,
            )
        self.events.clear()

    def context(self, c: ContainerRun, at: float) -> programs.Context | str:
        return self.kubelet.context(self.pod, self.run, c, at)


def _preloaded(image: str) -> bool:
    """The node has it before anything is pulled (minikube's control plane images)."""
    found = lookup(image)
    return isinstance(found, tuple) and found[1].preloaded


class Kubelet(Controller):
    """The node's kubelet; the scheduler (``scheduler.py``) binds the pods it runs."""

    name = "kubelet"
    watches = ("pods", "configmaps", "secrets")

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.runs: dict[str, PodRun] = {}
        self._by_key: dict[tuple[str, str], str] = {}
        self.images: set[str] = set()
        #: Pods waiting for a ConfigMap or Secret (a volume or an env var), by namespace.
        self._waiting_config: dict[str, set[str]] = {}

    # ---- event mapping ---------------------------------------------------------------

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods":
            spec = event.obj.get("spec") or {}
            if spec.get("nodeName") == self.cluster.node_name or event.type == "DELETED":
                return [(event.namespace, event.name)]
            return []
        return [(event.namespace, name) for name in self._waiting_config.get(event.namespace, ())]

    def requeue_all(self) -> None:
        """Look at every pod again now (image faults changed): a fault's back-off ends."""
        now = self.store.clock()
        for run in self.runs.values():
            for c in run.containers:
                c.retry_now(now)
            self.requeue((run.namespace, run.name))

    def attach_ended(self, namespace: str, name: str, container: str) -> None:
        """An attach session with stdin ended: as the runtime does for a container with
        ``stdinOnce``, its stdin is closed, and a shell reading it exits."""
        run = self.runs.get(self._by_key.get((namespace, name), ""))
        if run is None:
            return
        for c in run.mains:
            if c.name == container and c.spec.get("stdinOnce") and c.close_stdin(self.store.clock()):
                self.requeue((namespace, name))

    # ---- reconcile -------------------------------------------------------------------

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        pod = self.store.peek("pods", namespace, name)
        if pod is None or (pod.get("spec") or {}).get("nodeName") != self.cluster.node_name:
            self._forget(namespace, name)
            return None
        uid = pod["metadata"]["uid"]
        if self._by_key.get((namespace, name)) not in (None, uid):
            self._forget(namespace, name)
        now = self.store.clock()
        run = self.runs.get(uid)
        if run is None:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return None
            run = self._new_run(pod, now)
        if self._quiet(pod, run, now):
            return self._wake(key, run.wake, now)
        host = _PodHost(self, pod, run)
        try:
            wake = self._sync(pod, run, host, now)
        finally:
            host.flush()
        run.wake = wake
        return self._wake(key, wake, now)

    @staticmethod
    def _quiet(pod: Obj, run: PodRun, now: float) -> bool:
        """Nothing to do: woken by its own status write, the pod's sandbox and volumes set
        up, and no container due (a pass would only write the same status)."""
        return (
            run.written == pod["metadata"].get("resourceVersion")
            and now >= run.sandbox_at
            and run.mounted
            and all(
                (c.next_at is None or c.next_at > now) and c.stage is not Stage.CONFIG_ERROR for c in run.containers
            )
        )

    def _wake(self, key: Key, wake: tuple[float, bool] | None, now: float) -> float | None:
        if wake is None:
            return None
        when, urgent = wake
        if urgent:
            return max(0.0, when - now)
        # The cluster's own timing (a back-off, a probe period, a program's sleep): not
        # work a caller of wait_idle waits for.
        self.requeue(key, max(0.0, when - now), background=True)
        return None

    def _forget(self, namespace: str, name: str) -> None:
        uid = self._by_key.pop((namespace, name), None)
        if uid is not None:
            self.runs.pop(uid, None)
        self._waiting_config.get(namespace, set()).discard(name)

    def _new_run(self, pod: Obj, now: float) -> PodRun:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        run = PodRun(meta["uid"], meta["namespace"], meta["name"], now, now + self.cluster.delay("container_create"))
        policy = str(spec.get("restartPolicy") or "Always")
        grace = float(spec.get("terminationGracePeriodSeconds", 30))
        for init, field_name in ((True, "initContainers"), (False, "containers")):
            for c in spec.get(field_name) or []:
                run.containers.append(ContainerRun(str(c.get("name", "")), init, dict(c), run.uid, policy, grace))
        self.runs[run.uid] = run
        self._by_key[(run.namespace, run.name)] = run.uid
        return run

    def _sync(self, pod: Obj, run: PodRun, host: _PodHost, now: float) -> tuple[float, bool] | None:
        meta = pod["metadata"]
        self._follow_spec(pod, run, host, now)
        if meta.get("deletionTimestamp") and run.deleting_since is None:
            run.deleting_since = now
            grace = float(meta.get("deletionGracePeriodSeconds") or 0)
            for c in run.containers:
                if c.stage is Stage.RUNNING:
                    host.event(c, now, "Normal", "Killing", f"Stopping container {c.name}")
                c.stop(host, now, "delete", grace)
        wake = self._advance(pod, run, host, now)
        if run.deleting_since is not None and not any(
            c.stage in (Stage.RUNNING, Stage.STOPPING) for c in run.containers
        ):
            self.store.delete("pods", run.namespace, run.name, grace_period=0, uid=run.uid)
            self._forget(run.namespace, run.name)
            return None
        stored = self.store.replace_status("pods", run.namespace, run.name, self._status(pod, run, now))
        run.written = str((stored or {}).get("metadata", {}).get("resourceVersion", ""))
        return wake

    def _follow_spec(self, pod: Obj, run: PodRun, host: _PodHost, now: float) -> None:
        """A container whose image was changed in the pod's spec is restarted with it."""
        spec = pod.get("spec") or {}
        images = {
            (init, str(c.get("name", ""))): str(c.get("image", ""))
            for init, field_name in ((True, "initContainers"), (False, "containers"))
            for c in spec.get(field_name) or []
        }
        for c in run.containers:
            wanted = images.get((c.init, c.name))
            if wanted is not None and wanted != c.image:
                c.change_image(host, now, wanted)

    def _advance(self, pod: Obj, run: PodRun, host: _PodHost, now: float) -> tuple[float, bool] | None:
        """Move the pod's containers to ``now``; when it next changes, and whether that
        is a simulated delay (``urgent``)."""
        if now < run.sandbox_at:
            return run.sandbox_at, True
        if not run.ip:
            host_network = (pod.get("spec") or {}).get("hostNetwork")
            admission = self.store.admission
            run.ip = self.cluster.node_ip if host_network or admission is None else admission.allocate_pod_ip()
        if not run.mounted and run.deleting_since is None:
            problem = self._mount_problem(pod)
            if problem:
                self._waiting_config.setdefault(run.namespace, set()).add(run.name)
                if problem != run.mount_error:
                    run.mount_error = problem
                    self.cluster.recorder.record(
                        pod, "Warning", "FailedMount", problem, component="kubelet", host=True, at=now
                    )
                return None
            run.mounted, run.mount_error = True, ""
            self._waiting_config.get(run.namespace, set()).discard(run.name)
        for c in run.containers:
            if c.stage is Stage.CONFIG_ERROR:
                c.retry_now(now)  # every sync tries again: the ConfigMap may be there now
        ready_at = run.sandbox_at
        for c in run.inits:
            c.start_at(ready_at)
            c.advance(host, now)
            if not c.succeeded:
                return (c.next_at, c.urgent) if c.next_at is not None else None
            last = c.instances[-1] if c.instances else None
            ready_at = last.finished if last is not None and last.finished is not None else ready_at
        wakes: list[tuple[float, bool]] = []
        for c in run.mains:
            c.start_at(ready_at)
            c.advance(host, now)
            if c.stage is Stage.CONFIG_ERROR:
                self._waiting_config.setdefault(run.namespace, set()).add(run.name)
            if c.next_at is not None:
                wakes.append((c.next_at, c.urgent))
        if not wakes:
            return None
        return min(t for t, _ in wakes), any(urgent for _, urgent in wakes)

    # ---- volumes and environment ------------------------------------------------------

    def _mount_problem(self, pod: Obj) -> str:
        namespace = pod["metadata"]["namespace"]
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            for kind, resource, ref_field in (
                ("configMap", "configmaps", "name"),
                ("secret", "secrets", "secretName"),
            ):
                source = vol.get(kind)
                if not source or source.get("optional"):
                    continue
                ref = str(source.get(ref_field, ""))
                if self.store.peek(resource, namespace, ref) is None:
                    what = "configmap" if kind == "configMap" else "secret"
                    return f'MountVolume.SetUp failed for volume "{vol.get("name")}" : {what} "{ref}" not found'
        return ""

    def _data(self, resource: str, namespace: str, name: str) -> dict[str, str] | None:
        obj = self.store.peek(resource, namespace, name)
        if obj is None:
            return None
        data = dict(obj.get("data") or {})
        if resource == "secrets":
            decoded = {}
            for k, v in data.items():
                try:
                    decoded[k] = base64.b64decode(str(v)).decode("utf-8", "replace")
                except ValueError:
                    decoded[k] = ""
            return decoded
        data.update({k: "" for k in obj.get("binaryData") or {}})
        return {k: str(v) for k, v in data.items()}

    def context(self, pod: Obj, run: PodRun, c: ContainerRun, at: float) -> programs.Context | str:
        """The process's view of the world, or why the container cannot be created."""
        meta, spec = pod["metadata"], pod.get("spec") or {}
        namespace = run.namespace
        env: dict[str, str] = {}
        if spec.get("enableServiceLinks", True):
            env.update(self._service_env(namespace))
        for source in c.spec.get("envFrom") or []:
            prefix = str(source.get("prefix") or "")
            for kind, resource, label in (
                ("configMapRef", "configmaps", "configmap"),
                ("secretRef", "secrets", "secret"),
            ):
                ref = source.get(kind)
                if not ref:
                    continue
                data = self._data(resource, namespace, str(ref.get("name", "")))
                if data is None:
                    if ref.get("optional"):
                        continue
                    return f'{label} "{ref.get("name", "")}" not found'
                env.update({prefix + k: v for k, v in data.items()})
        for var in c.spec.get("env") or []:
            name = str(var.get("name", ""))
            if "value" in var or "valueFrom" not in var:
                env[name] = programs.expand_references(str(var.get("value", "")), env)
                continue
            source = var.get("valueFrom") or {}
            for kind, resource, label, title in (
                ("configMapKeyRef", "configmaps", "configmap", "ConfigMap"),
                ("secretKeyRef", "secrets", "secret", "Secret"),
            ):
                ref = source.get(kind)
                if not ref:
                    continue
                ref_name, key = str(ref.get("name", "")), str(ref.get("key", ""))
                data = self._data(resource, namespace, ref_name)
                if data is None or key not in data:
                    if ref.get("optional"):
                        break
                    if data is None:
                        return f'{label} "{ref_name}" not found'
                    return f"couldn't find key {key} in {title} {namespace}/{ref_name}"
                env[name] = data[key]
            if "fieldRef" in source:
                env[name] = self._field(pod, run, str((source["fieldRef"] or {}).get("fieldPath", "")))
        files: dict[str, str] = {}
        volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        for mount in c.spec.get("volumeMounts") or []:
            vol = volumes.get(mount.get("name")) or {}
            path = str(mount.get("mountPath", "")).rstrip("/")
            # A projected volume (the service account's: token, ca.crt, namespace) is its
            # sources' files side by side.
            sources = (vol.get("projected") or {}).get("sources") or [vol]
            for source in sources:
                files.update(self._volume_files(pod, run, source, path))
        found = lookup(c.image)
        tag = found[0].tag if isinstance(found, tuple) else ""
        return programs.Context(
            image=found[1] if isinstance(found, tuple) else None,
            env=env,
            files=files,
            hostname=str(spec.get("hostname") or meta["name"]),
            ip=run.ip,
            tag=tag,
            stdin=programs.Stdin() if c.spec.get("stdin") else None,
            long_running=c.restart_policy == "Always" and not c.init,
            task_seconds=self.cluster.delay("init_container" if c.init else "job_run"),
            started=at,
        )

    def _volume_files(self, pod: Obj, run: PodRun, source: Obj, path: str) -> dict[str, str]:
        """The files one volume (or projected source) shows at ``path``."""
        namespace = run.namespace
        for kind, resource, ref_field in (("configMap", "configmaps", "name"), ("secret", "secrets", "secretName")):
            ref = source.get(kind)
            if not ref:
                continue
            data = self._data(resource, namespace, str(ref.get(ref_field, ""))) or {}
            items = ref.get("items")
            if not items:
                return {f"{path}/{k}": v for k, v in data.items()}
            return {f"{path}/{item.get('path')}": data[item["key"]] for item in items if item.get("key") in data}
        if source.get("downwardAPI"):
            return {
                f"{path}/{item.get('path')}": self._field(
                    pod, run, str((item.get("fieldRef") or {}).get("fieldPath", ""))
                )
                for item in source["downwardAPI"].get("items") or []
                if item.get("fieldRef")
            }
        token = source.get("serviceAccountToken")
        if token and self.cluster.issue_token is not None:
            account = str((pod.get("spec") or {}).get("serviceAccountName") or "default")
            seconds = int(token.get("expirationSeconds") or 3607)
            return {f"{path}/{token.get('path', 'token')}": self.cluster.issue_token(namespace, account, seconds)}
        return {}

    def _field(self, pod: Obj, run: PodRun, path: str) -> str:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        label = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
        if label:
            return str((meta.get(label.group(1)) or {}).get(label.group(2), ""))
        fields: dict[str, str] = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": str(spec.get("nodeName", "")),
            "spec.serviceAccountName": str(spec.get("serviceAccountName", "")),
            "status.podIP": run.ip,
            "status.hostIP": self.cluster.node_ip,
        }
        return fields.get(path, "")

    def _service_env(self, namespace: str) -> dict[str, str]:
        env: dict[str, str] = {}
        services = list(self.store.iter("services", namespace))
        if namespace != "default":
            kubernetes = self.store.peek("services", "default", "kubernetes")
            if kubernetes is not None:
                services.append(kubernetes)
        for svc in services:
            spec = svc.get("spec") or {}
            ip = spec.get("clusterIP")
            ports = spec.get("ports") or []
            if not ip or ip == "None" or not ports:
                continue
            prefix = _SERVICE_NAME.sub("_", svc["metadata"]["name"].upper())
            first = ports[0]
            env[f"{prefix}_SERVICE_HOST"] = str(ip)
            env[f"{prefix}_SERVICE_PORT"] = str(first.get("port"))
            for port in ports:
                if port.get("name"):
                    env[f"{prefix}_SERVICE_PORT_{_SERVICE_NAME.sub('_', str(port['name']).upper())}"] = str(
                        port["port"]
                    )
            proto = str(first.get("protocol", "TCP")).lower()
            env[f"{prefix}_PORT"] = f"{proto}://{ip}:{first.get('port')}"
            for port in ports:
                p_proto = str(port.get("protocol", "TCP"))
                base = f"{prefix}_PORT_{port.get('port')}_{p_proto.upper()}"
                env[base] = f"{p_proto.lower()}://{ip}:{port.get('port')}"
                env[f"{base}_PROTO"] = p_proto.lower()
                env[f"{base}_PORT"] = str(port.get("port"))
                env[f"{base}_ADDR"] = str(ip)
        return env

    # ---- status ------------------------------------------------------------------------

    def _phase(self, pod: Obj, run: PodRun, now: float) -> str:
        policy = str((pod.get("spec") or {}).get("restartPolicy") or "Always")
        for c in run.inits:
            if c.stage is Stage.TERMINATED and not c.succeeded:
                return "Failed"
            if not c.succeeded:
                return "Pending"
        running = stopped = succeeded = waiting = 0
        for c in run.mains:
            if c.stage in (Stage.RUNNING, Stage.STOPPING):
                running += 1
            elif c.stage is Stage.TERMINATED:
                stopped += 1
                succeeded += c.succeeded
            elif c.instances:
                stopped += 1  # waiting to restart: it has run before
            else:
                waiting += 1
        if waiting or now < run.sandbox_at or not run.mains:
            return "Pending"
        if running:
            return "Running"
        if policy == "Always":
            return "Running"
        if policy == "OnFailure":
            return "Succeeded" if stopped == succeeded else "Running"
        return "Succeeded" if stopped == succeeded else "Failed"

    def _status(self, pod: Obj, run: PodRun, now: float) -> Obj:
        old = pod.get("status") or {}
        phase = self._phase(pod, run, now)
        has_inits = bool(run.inits)
        waiting_reason = "PodInitializing" if has_inits else "ContainerCreating"
        inits_done = all(c.succeeded for c in run.inits)
        init_statuses = [c.status("PodInitializing") for c in run.inits]
        main_statuses = [c.status(waiting_reason) for c in run.mains]
        sandbox_ready = now >= run.sandbox_at and run.deleting_since is None
        all_ready = bool(main_statuses) and all(s["ready"] for s in main_statuses)
        stamp = rfc3339(now)
        unready = [s["name"] for s in main_statuses if not s["ready"]]
        conditions: list[Obj] = [
            {
                "type": "PodReadyToStartContainers",
                "status": "True" if sandbox_ready and phase not in ("Succeeded", "Failed") else "False",
            },
        ]
        if inits_done:
            conditions.append({"type": "Initialized", "status": "True"})
        else:
            pending_names = [c.name for c in run.inits if not c.succeeded]
            conditions.append(
                {
                    "type": "Initialized",
                    "status": "False",
                    "reason": "ContainersNotInitialized",
                    "message": f"containers with incomplete status: [{' '.join(pending_names)}]",
                }
            )
        if phase in ("Succeeded", "Failed"):
            ready_cond: Obj = {"status": "False", "reason": "PodCompleted"}
        elif all_ready and run.deleting_since is None:
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

    # ---- logs --------------------------------------------------------------------------

    def container(self, pod: Obj, name: str) -> ContainerRun | None:
        """The run of a pod's container (for its log), caught up to now."""
        run = self.runs.get(pod["metadata"]["uid"])
        if run is None:
            return None
        for c in run.containers:
            if c.name == name:
                c.logs_until(self.store.clock())
                return c
        return None
