"""The scheduler: binds each new pod to the one node, or says why it cannot.

The filters run in the default scheduler's order and the first that fails is the node's
reason: unschedulable node (cordoned), taints the pod does not tolerate, node selector
and required node affinity, host ports in use, and then resources: the pod's requests
(the larger of its containers' sum and any init container, requests defaulting to
limits) against the node's allocatable less what the pods already on it request, and
the node's pod limit. Claims that are not bound are checked first, as the volume
binding plugin's pre-filter does. The message is the real one::

    0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available:
    1 No preemption victims found for incoming pod.

An unschedulable pod stays Pending with a ``FailedScheduling`` event and a
``PodScheduled=False`` condition; it is tried again whenever room may have been made (a
pod on the node finished or went away, the node or a claim changed). A ``NoExecute``
taint on the node evicts the running pods that do not tolerate it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.objects import Obj, merge_conditions, parse_quantity, rfc3339
from tutor.sandbox.selectors import selector_from_map
from tutor.sandbox.store import WatchEvent

NOT_HELPFUL = "Preemption is not helpful for scheduling."
NO_VICTIMS = "No preemption victims found for incoming pod."
#: The queue key that retries every pending pod (FIFO) after room was made.
RETRY: Key = ("", "", "retry")
#: The queue key that evicts pods which do not tolerate the node's NoExecute taints.
EVICT: Key = ("", "", "evict")
RESOURCES = ("cpu", "memory", "ephemeral-storage")


@dataclass(frozen=True)
class Verdict:
    """Why the node does not fit: the reasons and whether preemption could help."""

    reasons: tuple[str, ...]
    resolvable: bool
    #: A pre-filter failure is named without the "1 node(s)" count.
    prefilter: bool = False

    def message(self) -> str:
        if self.prefilter:
            head = "; ".join(self.reasons)
        else:
            head = ", ".join(f"1 {reason}" for reason in sorted(self.reasons))
        preemption = NO_VICTIMS if self.resolvable else NOT_HELPFUL
        return f"0/1 nodes are available: {head}. preemption: 0/1 nodes are available: 1 {preemption}"


def requests_of(spec: Obj) -> dict[str, float]:
    """What a pod asks of the node: the containers' requests summed, at least any init
    container's, plus the pod overhead; a limit stands in for a missing request."""

    def one(container: Obj) -> dict[str, float]:
        resources = container.get("resources") or {}
        requests = dict(resources.get("limits") or {})
        requests.update(resources.get("requests") or {})
        return {k: parse_quantity(requests[k]) for k in RESOURCES if k in requests}

    total: dict[str, float] = {}
    for c in spec.get("containers") or []:
        for k, v in one(c).items():
            total[k] = total.get(k, 0.0) + v
    for c in spec.get("initContainers") or []:
        for k, v in one(c).items():
            total[k] = max(total.get(k, 0.0), v)
    for k, v in (spec.get("overhead") or {}).items():
        if k in RESOURCES:
            total[k] = total.get(k, 0.0) + parse_quantity(v)
    return total


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for t in tolerations:
        effect = t.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        key = t.get("key")
        if key and key != taint.get("key"):
            continue
        if not key and t.get("operator") != "Exists":
            continue
        if t.get("operator", "Equal") == "Exists" or t.get("value", "") == taint.get("value", ""):
            return True
    return False


def _term_matches(term: Obj, labels: dict[str, str], name: str) -> bool:
    for expr, value_of in [(e, labels.get) for e in term.get("matchExpressions") or []] + [
        (e, lambda key: name if key == "metadata.name" else None) for e in term.get("matchFields") or []
    ]:
        value = value_of(str(expr.get("key", "")))
        values = [str(v) for v in expr.get("values") or []]
        op = expr.get("operator")
        if op == "In" and value not in values:
            return False
        if op == "NotIn" and value in values:
            return False
        if op == "Exists" and value is None:
            return False
        if op == "DoesNotExist" and value is not None:
            return False
        if op in ("Gt", "Lt"):
            try:
                left, right = int(str(value)), int(values[0])
            except (TypeError, ValueError, IndexError):
                return False
            if (op == "Gt" and not left > right) or (op == "Lt" and not left < right):
                return False
    return True


def affinity_matches(spec: Obj, node: Obj) -> bool:
    labels = dict(node["metadata"].get("labels") or {})
    selector = spec.get("nodeSelector") or {}
    if selector and not selector_from_map(selector).matches(labels):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    if terms is None:
        return True
    return any(_term_matches(term, labels, node["metadata"]["name"]) for term in terms)


def _host_ports(spec: Obj) -> set[tuple[int, str]]:
    return {
        (int(p["hostPort"]), str(p.get("protocol", "TCP")))
        for c in spec.get("containers") or []
        for p in c.get("ports") or []
        if p.get("hostPort")
    }


class Scheduler(Controller):
    name = "scheduler"
    watches = ("pods", "nodes", "persistentvolumeclaims")

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        #: Unscheduled pods in the order they came: (namespace, name) -> uid.
        self.pending: dict[tuple[str, str], str] = {}
        #: What the pods on the node ask for: uid -> requests (and host ports), and the sums.
        self.usage: dict[str, dict[str, float]] = {}
        self.ports: dict[str, set[tuple[int, str]]] = {}
        self.used: dict[str, float] = dict.fromkeys(RESOURCES, 0.0)
        self.ports_used: Counter[tuple[int, str]] = Counter()
        self._first_seen: dict[str, float] = {}
        self._reported: dict[str, str] = {}

    # ---- bookkeeping from events -----------------------------------------------------

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "nodes":
            return [RETRY, EVICT] if self.pending else [EVICT]
        if event.resource != "pods":
            return [RETRY] if self.pending else []
        pod, uid = event.obj, str(event.obj["metadata"].get("uid", ""))
        key = (event.namespace, event.name)
        spec, phase = pod.get("spec") or {}, (pod.get("status") or {}).get("phase")
        holds = event.type != "DELETED" and bool(spec.get("nodeName")) and phase not in ("Succeeded", "Failed")
        freed = uid in self.usage and not holds
        if freed:
            self._release(uid)
        elif holds and uid not in self.usage:
            # A pod's requests do not change while it holds them: counted once.
            self.usage[uid] = requests_of(spec)
            self.ports[uid] = _host_ports(spec)
            for resource, amount in self.usage[uid].items():
                self.used[resource] += amount
            self.ports_used.update(self.ports[uid])
        if event.type == "DELETED" or spec.get("nodeName"):
            if self.pending.pop(key, None) is not None:
                self._first_seen.pop(uid, None)
                self._reported.pop(uid, None)
            return [RETRY] if freed and self.pending else []
        self.pending.setdefault(key, uid)
        return [key, RETRY] if freed else [key]

    def _release(self, uid: str) -> None:
        for resource, amount in self.usage.pop(uid, {}).items():
            self.used[resource] -= amount
        self.ports_used.subtract(self.ports.pop(uid, set()))

    # ---- reconcile -------------------------------------------------------------------

    def reconcile(self, key: Key) -> float | None:
        if key == EVICT:
            self._evict()
            return None
        if key == RETRY:
            waits = [w for k in list(self.pending) if (w := self._attempt(k)) is not None]
            return min(waits) if waits else None
        return self._attempt((key[0], key[1]))

    def _attempt(self, key: tuple[str, str]) -> float | None:
        pod = self.store.peek("pods", *key)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            self.pending.pop(key, None)
            return None
        uid = pod["metadata"]["uid"]
        now = self.store.clock()
        first = self._first_seen.setdefault(uid, now)
        wait = first + self.cluster.delay("schedule") - now
        if wait > 0:
            return wait
        verdict = self._verdict(pod)
        namespace, name = key
        if verdict is None:
            self.pending.pop(key, None)
            self._reported.pop(uid, None)
            self._first_seen.pop(uid, None)
            node = self.cluster.node_name
            self.store.patch("pods", namespace, name, {"spec": {"nodeName": node}})
            self.cluster.recorder.record(
                pod,
                "Normal",
                "Scheduled",
                f"Successfully assigned {namespace}/{name} to {node}",
                component="default-scheduler",
            )
            return None
        if not verdict.reasons:
            return None  # waiting for a volume to be provisioned for this node
        message = verdict.message()
        if self._reported.get(uid) != message:
            self._reported[uid] = message
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

    def _evict(self) -> None:
        """The taint eviction controller: a NoExecute taint the pod does not tolerate
        deletes it (tolerationSeconds is taken as tolerating)."""
        node = self.store.peek("nodes", "", self.cluster.node_name)
        taints = [t for t in ((node or {}).get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
        if not taints:
            return
        for uid in list(self.usage):
            pod = self.store.by_uid(uid)
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                continue
            tolerations = list((pod.get("spec") or {}).get("tolerations") or [])
            if all(tolerates(tolerations, taint) for taint in taints):
                continue
            namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            self.cluster.recorder.record(
                pod,
                "Normal",
                "TaintManagerEviction",
                f"Marking for deletion Pod {namespace}/{name}",
                component="taint-eviction-controller",
            )
            self.store.delete("pods", namespace, name)

    # ---- the filters -------------------------------------------------------------------

    def _verdict(self, pod: Obj) -> Verdict | None:
        """None when the pod fits; a verdict without reasons to wait silently."""
        claims = self._claims(pod)
        if claims is not None:
            return claims
        node = self.store.peek("nodes", "", self.cluster.node_name)
        if node is None:
            return Verdict(("no nodes available to schedule pods",), False, prefilter=True)
        spec = pod.get("spec") or {}
        tolerations = list(spec.get("tolerations") or [])
        node_spec = node.get("spec") or {}
        unschedulable = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        if node_spec.get("unschedulable") and not tolerates(tolerations, unschedulable):
            return Verdict(("node(s) were unschedulable",), False)
        taints = list(node_spec.get("taints") or [])
        if not any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (node.get("status") or {}).get("conditions") or []
        ):
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        for taint in taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
                return Verdict(
                    (f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}",), False
                )
        if not affinity_matches(spec, node):
            return Verdict(("node(s) didn't match Pod's node affinity/selector",), False)
        if any(self.ports_used[port] > 0 for port in _host_ports(spec)):
            return Verdict(("node(s) didn't have free ports for the requested pod ports",), True)
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        insufficient = []
        if len(self.usage) + 1 > int(parse_quantity(allocatable.get("pods", "110"))):
            insufficient.append("Too many pods")
        asked = requests_of(spec)
        for resource in RESOURCES:
            if resource not in asked or resource not in allocatable:
                continue
            if self.used[resource] + asked[resource] > parse_quantity(allocatable[resource]) + 1e-9:
                insufficient.append(f"Insufficient {resource}")
        if insufficient:
            return Verdict(tuple(insufficient), True)
        return None

    def _claims(self, pod: Obj) -> Verdict | None:
        namespace = pod["metadata"]["namespace"]
        spec = pod.get("spec") or {}
        waiting_for_provisioning = False
        for vol in spec.get("volumes") or []:
            claim_name = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim_name:
                continue
            claim = self.store.peek("persistentvolumeclaims", namespace, claim_name)
            if claim is None:
                return Verdict((f'persistentvolumeclaim "{claim_name}" not found',), False, prefilter=True)
            if claim["metadata"].get("deletionTimestamp"):
                return Verdict((f'persistentvolumeclaim "{claim_name}" is being deleted',), False, prefilter=True)
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
            return Verdict(("pod has unbound immediate PersistentVolumeClaims",), False, prefilter=True)
        return Verdict((), False) if waiting_for_provisioning else None
