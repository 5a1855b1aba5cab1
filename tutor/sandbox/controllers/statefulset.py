"""StatefulSets: pods ``<name>-0..N-1`` with stable names and claims from volumeClaimTemplates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from tutor.sandbox.controllers.common import owned, owner_keys, pod_from_template, pod_ready
from tutor.sandbox.controllers.runtime import Controller, Key
from tutor.sandbox.objects import Obj, clone, fnv32a, owner_ref, safe_encode
from tutor.sandbox.store import WatchEvent

REVISION_LABEL = "controller-revision-hash"


def revision_hash(template: Obj) -> str:
    return safe_encode(fnv32a(json.dumps(template, sort_keys=True, separators=(",", ":")).encode()))


class StatefulSetController(Controller):
    name = "statefulset"
    watches = ("statefulsets.apps", "pods")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods":
            return owner_keys(event, "StatefulSet")
        return [(event.namespace, event.name)]

    def _ordinal(self, sts_name: str, pod: Obj) -> int | None:
        m = re.fullmatch(re.escape(sts_name) + r"-(\d+)", pod["metadata"]["name"])
        return int(m.group(1)) if m else None

    def _revision(self, sts: Obj) -> tuple[str, int]:
        """The update revision's name and number, creating the ControllerRevision if new."""
        namespace, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        template = (sts.get("spec") or {}).get("template") or {}
        rev_name = f"{name}-{revision_hash(template)}"
        revisions = owned(self.store, sts, "controllerrevisions.apps")
        existing = next((r for r in revisions if r["metadata"]["name"] == rev_name), None)
        top = max((int(r.get("revision", 0)) for r in revisions), default=0)
        if existing is None:
            labels = dict(((template.get("metadata") or {}).get("labels")) or {})
            labels[REVISION_LABEL] = rev_name
            existing = self.store.create(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ControllerRevision",
                    "metadata": {
                        "name": rev_name,
                        "namespace": namespace,
                        "labels": labels,
                        "ownerReferences": [owner_ref(sts)],
                    },
                    "data": {"spec": {"template": {**clone(template), "$patch": "replace"}}},
                    "revision": top + 1,
                },
                resource="controllerrevisions.apps",
            )
        limit = int((sts.get("spec") or {}).get("revisionHistoryLimit", 10))
        stale = sorted(
            (r for r in revisions if r["metadata"]["name"] != rev_name),
            key=lambda r: int(r.get("revision", 0)),
        )
        in_use = {(p["metadata"].get("labels") or {}).get(REVISION_LABEL) for p in owned(self.store, sts, "pods")}
        removable = [r for r in stale if r["metadata"]["name"] not in in_use]
        for r in removable[: max(0, len(stale) - limit)]:
            self.store.delete("controllerrevisions.apps", namespace, r["metadata"]["name"])
        return rev_name, int(existing.get("revision", top + 1))

    def _claim_name(self, template: Obj, sts_name: str, ordinal: int) -> str:
        return f"{template['metadata']['name']}-{sts_name}-{ordinal}"

    def _ensure_claims(self, sts: Obj, ordinal: int) -> None:
        spec = sts.get("spec") or {}
        namespace, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        policy = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        selector_labels = (spec.get("selector") or {}).get("matchLabels") or {}
        for template in spec.get("volumeClaimTemplates") or []:
            claim_name = self._claim_name(template, name, ordinal)
            if self.store.peek("persistentvolumeclaims", namespace, claim_name) is not None:
                continue
            meta = template.get("metadata") or {}
            labels = {**(meta.get("labels") or {}), **selector_labels}
            claim_meta: Obj = {"name": claim_name, "namespace": namespace, "labels": labels}
            if meta.get("annotations"):
                claim_meta["annotations"] = dict(meta["annotations"])
            if policy.get("whenDeleted") == "Delete":
                claim_meta["ownerReferences"] = [owner_ref(sts)]
            claim_spec = clone(template.get("spec") or {})
            self.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": claim_meta,
                    "spec": claim_spec,
                },
                resource="persistentvolumeclaims",
            )
            self.cluster.recorder.record(
                sts,
                "Normal",
                "SuccessfulCreate",
                f"create Claim {claim_name} Pod {name}-{ordinal} in StatefulSet {name} success",
                component="statefulset-controller",
            )

    def _new_pod(self, sts: Obj, ordinal: int, revision: str) -> Obj:
        spec = sts.get("spec") or {}
        name = sts["metadata"]["name"]
        pod_name = f"{name}-{ordinal}"
        pod = pod_from_template(
            sts,
            spec.get("template") or {},
            pod_name,
            extra_labels={
                REVISION_LABEL: revision,
                "statefulset.kubernetes.io/pod-name": pod_name,
                "apps.kubernetes.io/pod-index": str(ordinal),
            },
        )
        pod_spec = pod["spec"]
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        volumes = [v for v in pod_spec.get("volumes") or []]
        for template in spec.get("volumeClaimTemplates") or []:
            vol_name = template["metadata"]["name"]
            volumes = [v for v in volumes if v.get("name") != vol_name]
            volumes.append(
                {
                    "name": vol_name,
                    "persistentVolumeClaim": {"claimName": self._claim_name(template, name, ordinal)},
                }
            )
        if volumes:
            pod_spec["volumes"] = volumes
        if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") == "Delete":
            pass  # claims are deleted on scale-down below
        return pod

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        sts = self.store.peek("statefulsets.apps", namespace, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return None
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        update_revision, _number = self._revision(sts)
        pods: dict[int, Obj] = {}
        for pod in owned(self.store, sts, "pods"):
            ordinal = self._ordinal(name, pod)
            if ordinal is not None:
                pods[ordinal] = pod
        # Failed or finished pods are replaced.
        for pod in list(pods.values()):
            if (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded") and not pod["metadata"].get(
                "deletionTimestamp"
            ):
                self.store.delete("pods", namespace, pod["metadata"]["name"])
                return 0.0
        for ordinal in range(replicas):
            existing = pods.get(ordinal)
            if existing is None:
                self._ensure_claims(sts, ordinal)
                created = self.store.create(self._new_pod(sts, ordinal, update_revision), resource="pods")
                pods[ordinal] = created
                self.cluster.recorder.record(
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    f"create Pod {created['metadata']['name']} in StatefulSet {name} successful",
                    component="statefulset-controller",
                )
                if ordered:
                    break
                continue
            if ordered and (existing["metadata"].get("deletionTimestamp") or not pod_ready(existing)):
                break
        else:
            self._scale_down_or_update(sts, pods, replicas, ordered, update_revision)
        self._update_status(sts, owned(self.store, sts, "pods"), replicas, update_revision)
        return None

    def _scale_down_or_update(
        self, sts: Obj, pods: dict[int, Obj], replicas: int, ordered: bool, update_revision: str
    ) -> None:
        namespace, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        spec = sts.get("spec") or {}
        condemned = sorted((o for o in pods if o >= replicas), reverse=True)
        if any(p["metadata"].get("deletionTimestamp") for p in pods.values()) and ordered:
            return
        if condemned:
            targets = condemned[:1] if ordered else condemned
            for ordinal in targets:
                pod = pods[ordinal]
                if pod["metadata"].get("deletionTimestamp"):
                    continue
                self.store.delete("pods", namespace, pod["metadata"]["name"])
                self.cluster.recorder.record(
                    sts,
                    "Normal",
                    "SuccessfulDelete",
                    f"delete Pod {pod['metadata']['name']} in StatefulSet {name} successful",
                    component="statefulset-controller",
                )
                if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") == "Delete":
                    for template in spec.get("volumeClaimTemplates") or []:
                        claim = self._claim_name(template, name, ordinal)
                        if self.store.peek("persistentvolumeclaims", namespace, claim) is not None:
                            self.store.delete("persistentvolumeclaims", namespace, claim)
            return
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        if not all(pod_ready(p) for p in pods.values()):
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition", 0))
        for ordinal in sorted(pods, reverse=True):
            pod = pods[ordinal]
            if ordinal < partition:
                break
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != update_revision:
                self.store.delete("pods", namespace, pod["metadata"]["name"])
                return

    def _update_status(self, sts: Obj, pods: list[Obj], replicas: int, update_revision: str) -> None:
        old = sts.get("status") or {}
        current_revision = old.get("currentRevision") or update_revision
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in pods if pod_ready(p))
        updated = sum(1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == update_revision)
        current = sum(1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == current_revision)
        if updated == replicas and len(live) == replicas and ready >= replicas:
            current_revision = update_revision
            current = updated
        status: Obj = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": current,
            "updatedReplicas": updated,
            "currentRevision": current_revision,
            "updateRevision": update_revision,
            "collisionCount": 0,
            "availableReplicas": ready,
        }
        for field in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[field]:
                del status[field]
        self.store.replace_status("statefulsets.apps", sts["metadata"]["namespace"], sts["metadata"]["name"], status)
