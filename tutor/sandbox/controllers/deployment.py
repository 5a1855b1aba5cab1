"""Deployments roll ReplicaSets: one per pod template, named ``<deployment>-<pod-template-hash>``.

As the real Deployment controller does it:

- the ReplicaSet of the current template is found by comparing templates (ignoring the
  ``pod-template-hash`` label and what means nothing: ``creationTimestamp: null``, empty
  fields, ``1000m`` against ``1``), the oldest first; so ``kubectl rollout undo``, which
  patches an old ReplicaSet's template back, scales that ReplicaSet up again instead of
  making a new one;
- a new ReplicaSet's hash is FNV-32a over the template (and ``status.collisionCount``
  when set, as 8 little-endian bytes), encoded with Kubernetes' safe alphabet; a name
  taken by another template counts a collision and hashes again. (The real controller
  hashes Go's printout of the struct, so the same template gets another value there.)
- revisions: the new ReplicaSet takes the highest revision + 1, and one brought back by
  an undo keeps its old number in ``deployment.kubernetes.io/revision-history``
  (history ``1 2 3`` becomes ``1 3 4`` after undoing to 2); the Deployment's annotations
  (``kubernetes.io/change-cause``...) are copied to it;
- ``progressDeadlineSeconds`` without progress sets ``Progressing=False`` with reason
  ``ProgressDeadlineExceeded``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

from tutor.sandbox.controllers.common import owned, owner_keys, resolve_int_or_percent
from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.objects import (
    Obj,
    clone,
    fnv32a,
    merge_conditions,
    owner_ref,
    parse_quantity,
    parse_time,
    rfc3339,
    safe_encode,
)
from tutor.sandbox.store import WatchEvent

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
HASH_LABEL = "pod-template-hash"
#: Deployment annotations that are not copied to its ReplicaSets.
NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def _normalized(value: Any, key: str = "") -> Any:
    """A template as the API's types see it: no nulls or empty fields, quantities as numbers."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            n = _normalized(v, k)
            if n is None or n == {} or n == []:
                continue
            out[k] = n
        if key in ("requests", "limits"):
            out = {k: parse_quantity(v) for k, v in out.items()}
        return out
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def semantic(template: Obj) -> Obj:
    """The template without its hash label, normalized for comparison and hashing."""
    copy = clone(template)
    labels = (copy.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    result: Obj = _normalized(copy)
    return result


def equal_ignoring_hash(a: Obj, b: Obj) -> bool:
    return semantic(a) == semantic(b)


def template_hash(template: Obj, collision_count: int | None = None) -> str:
    data = json.dumps(semantic(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += struct.pack("<Q", collision_count & 0xFFFFFFFF)
    return safe_encode(fnv32a(data))


def _revision(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _replicas(rs: Obj) -> int:
    return int((rs.get("spec") or {}).get("replicas", 0))


def _available(rs: Obj) -> int:
    return int((rs.get("status") or {}).get("availableReplicas", 0))


class DeploymentController(Controller):
    name = "deployment"
    watches = ("deployments.apps", "replicasets.apps")

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self._templates: dict[str, tuple[Any, Obj]] = {}

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "replicasets.apps":
            return owner_keys(event, "Deployment")
        return [(event.namespace, event.name)]

    def _scale(self, d: Obj, rs: Obj, replicas: int) -> None:
        if _replicas(rs) == replicas:
            return
        direction = "up" if replicas > _replicas(rs) else "down"
        annotations = {
            "deployment.kubernetes.io/desired-replicas": str((d.get("spec") or {}).get("replicas", 1)),
        }
        self.store.patch(
            "replicasets.apps",
            rs["metadata"]["namespace"],
            rs["metadata"]["name"],
            {"metadata": {"annotations": annotations}, "spec": {"replicas": replicas}},
        )
        self.cluster.recorder.record(
            d,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {_replicas(rs)} to {replicas}",
            component="deployment-controller",
        )

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        d = self.store.peek("deployments.apps", namespace, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return None
        spec = d.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        all_rs = sorted(
            owned(self.store, d, "replicasets.apps"),
            key=lambda r: r["metadata"]["creationTimestamp"],
        )
        wanted = semantic(template)
        new_rs = next((r for r in all_rs if self._template_of(r) == wanted), None)
        old_rs = [r for r in all_rs if r is not new_rs]
        created = False
        if spec.get("paused"):
            return self._update_status(d, new_rs, old_rs, created)
        max_revision = max((_revision(r) for r in old_rs), default=0)
        if new_rs is None:
            made = self._create_rs(d, template, replicas, old_rs, max_revision + 1)
            if made is None:
                return None  # a hash collision was counted: the next pass hashes again
            new_rs, created = made, True
        else:
            self._sync_revision(d, new_rs, max_revision + 1)
            new_rs = self.store.peek("replicasets.apps", namespace, new_rs["metadata"]["name"]) or new_rs
        revision = (new_rs["metadata"].get("annotations") or {}).get(REVISION, "1")
        if (d["metadata"].get("annotations") or {}).get(REVISION) != revision:
            self.store.patch(
                "deployments.apps",
                namespace,
                name,
                {"metadata": {"annotations": {REVISION: revision}}},
            )
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            if any(_replicas(r) for r in old_rs):
                for r in old_rs:
                    self._scale(d, r, 0)
            elif not any(int((r.get("status") or {}).get("replicas", 0)) for r in old_rs):
                self._scale(d, new_rs, replicas)
        elif not any(_replicas(r) for r in old_rs):
            self._scale(d, new_rs, replicas)
        else:
            self._roll(d, new_rs, old_rs, replicas, strategy.get("rollingUpdate") or {})
        self._cleanup(d, old_rs, int(spec.get("revisionHistoryLimit", 10)))
        new_rs = self.store.peek("replicasets.apps", namespace, new_rs["metadata"]["name"]) or new_rs
        old_rs = [self.store.peek("replicasets.apps", namespace, r["metadata"]["name"]) or r for r in old_rs]
        return self._update_status(d, new_rs, [r for r in old_rs if r is not None], created)

    def _template_of(self, rs: Obj) -> Obj:
        """A ReplicaSet's template, normalized; remembered per resourceVersion."""
        meta = rs["metadata"]
        cached = self._templates.get(meta["uid"])
        if cached is not None and cached[0] == meta.get("resourceVersion"):
            return cached[1]
        normalized = semantic((rs.get("spec") or {}).get("template") or {})
        self._templates[meta["uid"]] = (meta.get("resourceVersion"), normalized)
        if len(self._templates) > 4096:
            self._templates.clear()
        return normalized

    @staticmethod
    def _copied_annotations(d: Obj) -> dict[str, str]:
        return {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in NOT_COPIED}

    def _sync_revision(self, d: Obj, rs: Obj, new_revision: int) -> None:
        """The current ReplicaSet takes the newest revision; one brought back by an undo
        remembers its old numbers (SetNewReplicaSetAnnotations)."""
        annotations = dict(rs["metadata"].get("annotations") or {})
        patch: dict[str, str | None] = {k: v for k, v in self._copied_annotations(d).items() if annotations.get(k) != v}
        old = annotations.get(REVISION)
        if _revision(rs) < new_revision:
            patch[REVISION] = str(new_revision)
            if old is not None:
                history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
                patch[REVISION_HISTORY] = ",".join([*history, old])
        if patch:
            self.store.patch(
                "replicasets.apps",
                rs["metadata"]["namespace"],
                rs["metadata"]["name"],
                {"metadata": {"annotations": patch}},
            )

    def _create_rs(self, d: Obj, template: Obj, replicas: int, old_rs: list[Obj], revision: int) -> Obj | None:
        namespace, name = d["metadata"]["namespace"], d["metadata"]["name"]
        collisions = (d.get("status") or {}).get("collisionCount")
        pod_hash = template_hash(template, None if collisions is None else int(collisions))
        taken = self.store.peek("replicasets.apps", namespace, f"{name}-{pod_hash}")
        if taken is not None:
            # Another template already has this name: count a collision (ComputeHash
            # folds it in) and try again on the next pass.
            status = dict(d.get("status") or {})
            status["collisionCount"] = int(collisions or 0) + 1
            self.store.replace_status("deployments.apps", namespace, name, status)
            self.requeue((namespace, name))
            return None
        rs_template = clone(template)
        rs_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = clone((d.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        surge = resolve_int_or_percent(
            ((d["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%"),
            replicas,
            round_up=True,
        )
        initial = replicas if not any(_replicas(r) for r in old_rs) else 0
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            initial = 0 if any(_replicas(r) for r in old_rs) else replicas
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{name}-{pod_hash}",
                "namespace": namespace,
                "labels": dict(rs_template["metadata"]["labels"]),
                "annotations": {
                    **self._copied_annotations(d),
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas + surge),
                    REVISION: str(revision),
                },
                "ownerReferences": [owner_ref(d)],
            },
            "spec": {"replicas": initial, "selector": selector, "template": rs_template},
        }
        created = self.store.create(rs, resource="replicasets.apps")
        self.cluster.recorder.record(
            d,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled up replica set {created['metadata']['name']} from 0 to {initial}",
            component="deployment-controller",
        )
        return created

    def _roll(self, d: Obj, new_rs: Obj, old_rs: list[Obj], replicas: int, rolling: Obj) -> None:
        surge = resolve_int_or_percent(rolling.get("maxSurge", "25%"), replicas, round_up=True)
        unavailable = resolve_int_or_percent(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        total = _replicas(new_rs) + sum(_replicas(r) for r in old_rs)
        if _replicas(new_rs) < replicas and total < replicas + surge:
            self._scale(d, new_rs, min(replicas, _replicas(new_rs) + replicas + surge - total))
            new_rs = (
                self.store.peek("replicasets.apps", new_rs["metadata"]["namespace"], new_rs["metadata"]["name"])
                or new_rs
            )
        min_available = replicas - unavailable
        new_unavailable = _replicas(new_rs) - _available(new_rs)
        all_pods = _replicas(new_rs) + sum(_replicas(r) for r in old_rs)
        budget = all_pods - min_available - new_unavailable
        # Unhealthy old replicas go first: they do not count towards availability.
        for r in old_rs:
            cut = min(_replicas(r) - _available(r), budget)
            if cut > 0:
                self._scale(d, r, _replicas(r) - cut)
                budget -= cut
        old_rs = [
            self.store.peek("replicasets.apps", r["metadata"]["namespace"], r["metadata"]["name"]) or r for r in old_rs
        ]
        for r in old_rs:
            if budget <= 0:
                break
            cut = min(_replicas(r), budget)
            if cut > 0:
                self._scale(d, r, _replicas(r) - cut)
                budget -= cut

    def _cleanup(self, d: Obj, old_rs: list[Obj], limit: int) -> None:
        idle = [r for r in old_rs if _replicas(r) == 0 and not int((r.get("status") or {}).get("replicas", 0))]
        idle = [r for r in idle if not r["metadata"].get("deletionTimestamp")]
        for r in sorted(idle, key=_revision)[: max(0, len(idle) - limit)]:
            self.store.delete("replicasets.apps", r["metadata"]["namespace"], r["metadata"]["name"])

    def _update_status(self, d: Obj, new_rs: Obj | None, old_rs: list[Obj], created: bool) -> float | None:
        spec = d.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        everything = ([new_rs] if new_rs else []) + old_rs

        def total(field: str, items: list[Obj]) -> int:
            return sum(int((r.get("status") or {}).get(field, 0)) for r in items)

        current = total("replicas", everything)
        updated = total("replicas", [new_rs]) if new_rs else 0
        ready = total("readyReplicas", everything)
        available = total("availableReplicas", everything)
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        max_unavailable = 0
        if (spec.get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            max_unavailable = resolve_int_or_percent(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
        now = rfc3339(self.store.clock())
        if available >= replicas - max_unavailable:
            available_cond = {
                "type": "Available",
                "status": "True",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            }
        else:
            available_cond = {
                "type": "Available",
                "status": "False",
                "reason": "MinimumReplicasUnavailable",
                "message": "Deployment does not have minimum availability.",
            }
        rs_name = new_rs["metadata"]["name"] if new_rs else ""
        complete = updated == replicas and available >= replicas and current == replicas and new_rs is not None
        old_progress = next(
            (c for c in (d.get("status") or {}).get("conditions") or [] if c.get("type") == "Progressing"),
            None,
        )
        if complete:
            progressing = {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
            }
        elif created or (
            old_progress is not None
            and old_progress.get("reason") == "NewReplicaSetCreated"
            and old_progress.get("message") == f'Created new replica set "{rs_name}"'
        ):
            progressing = {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetCreated",
                "message": f'Created new replica set "{rs_name}"',
            }
        else:
            progressing = {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "message": f'ReplicaSet "{rs_name}" is progressing.',
            }
        old_status = d.get("status") or {}
        counts = {
            "replicas": current,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
        }
        progressed = created or any(int(old_status.get(k) or 0) != v for k, v in counts.items())
        deadline = spec.get("progressDeadlineSeconds", 600)
        wake: float | None = None
        if not complete and not spec.get("paused") and deadline is not None and old_progress is not None:
            last = parse_time(old_progress.get("lastUpdateTime")) or self.store.clock()
            if progressed:
                last = self.store.clock()
            due = last + int(deadline)
            timed_out = old_progress.get("reason") == "ProgressDeadlineExceeded" and not progressed
            if self.store.clock() >= due or timed_out:
                progressing = {
                    "type": "Progressing",
                    "status": "False",
                    "reason": "ProgressDeadlineExceeded",
                    "message": f'ReplicaSet "{rs_name}" has timed out progressing.',
                }
            else:
                wake = due
        conditions = [
            {**available_cond, "lastUpdateTime": now, "lastTransitionTime": now},
            {**progressing, "lastUpdateTime": now, "lastTransitionTime": now},
        ]
        status: Obj = {"observedGeneration": d["metadata"].get("generation", 1)}
        if current:
            status["replicas"] = current
        if updated:
            status["updatedReplicas"] = updated
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        if replicas - available > 0:
            status["unavailableReplicas"] = replicas - available
        if old_status.get("collisionCount") is not None:
            status["collisionCount"] = old_status["collisionCount"]
        status["conditions"] = merge_conditions(old_status.get("conditions"), conditions, now)
        if progressed:
            # Progress moves the Progressing condition's lastUpdateTime, which the
            # progress deadline counts from.
            for c in status["conditions"]:
                if c["type"] == "Progressing":
                    c["lastUpdateTime"] = now
        self.store.replace_status("deployments.apps", d["metadata"]["namespace"], d["metadata"]["name"], status)
        if wake is not None:
            # The progress deadline is the cluster's own time: not work a test waits for.
            self.requeue(
                (d["metadata"]["namespace"], d["metadata"]["name"]), wake - self.store.clock(), background=True
            )
        return None
