"""PersistentVolumeClaims and PersistentVolumes: binding, provisioning, reclaiming.

A claim is provisioned through its StorageClass when the class's provisioner is
``k8s.io/minikube-hostpath`` (minikube's built-in storage-provisioner) or a CSIDriver
of that name is registered (the csi-hostpath-driver addon registers
``hostpath.csi.k8s.io``); otherwise it stays Pending with the event a real cluster
shows. Claims without a class get the default class, also retroactively when a
default appears later (Kubernetes >= 1.28), which is what day55's patch relies on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from tutor.sandbox.admission import default_storage_class
from tutor.sandbox.controllers.runtime import Cluster, Controller, Key
from tutor.sandbox.objects import Obj, clone, parse_quantity
from tutor.sandbox.store import WatchEvent

MINIKUBE_PROVISIONER = "k8s.io/minikube-hostpath"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


def claims_of_pod(pod: Obj) -> list[str]:
    return [
        str(v["persistentVolumeClaim"]["claimName"])
        for v in (pod.get("spec") or {}).get("volumes") or []
        if (v.get("persistentVolumeClaim") or {}).get("claimName")
    ]


class VolumeController(Controller):
    """Keys: ("pvc", namespace, name) for claims, ("pv", name) for volumes."""

    name = "persistentvolume"
    watches = (
        "persistentvolumeclaims",
        "persistentvolumes",
        "storageclasses.storage.k8s.io",
        "csidrivers.storage.k8s.io",
        "pods",
    )

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self._provisioning_since: dict[str, float] = {}
        self._announced: set[tuple[str, str]] = set()

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "persistentvolumeclaims":
            keys: list[Key] = [("pvc", event.namespace, event.name)]
            volume = (event.obj.get("spec") or {}).get("volumeName")
            if volume:
                keys.append(("pv", volume))
            return keys
        if event.resource == "persistentvolumes":
            keys = [("pv", event.name)]
            ref = (event.obj.get("spec") or {}).get("claimRef") or {}
            if ref.get("name"):
                keys.append(("pvc", str(ref.get("namespace", "")), str(ref["name"])))
            return keys
        if event.resource == "pods":
            # A pod going away may release a claim that waits for deletion (pvc-protection).
            if event.type != "DELETED" and not event.obj["metadata"].get("deletionTimestamp"):
                return []
            return [("pvc", event.namespace, c) for c in claims_of_pod(event.obj)]
        # A StorageClass or CSIDriver changed: every claim not yet bound may move on.
        return [
            ("pvc", c["metadata"]["namespace"], c["metadata"]["name"])
            for c in self.store.iter("persistentvolumeclaims")
            if (c.get("status") or {}).get("phase") != "Bound"
        ]

    def reconcile(self, key: Key) -> float | None:
        if key[0] == "pv":
            return self._reconcile_volume(key[1])
        return self._reconcile_claim(key[1], key[2])

    # ---- claims --------------------------------------------------------------------------

    def _in_use(self, namespace: str, claim: str) -> bool:
        for pod in self.store.iter("pods", namespace):
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            if claim in claims_of_pod(pod):
                return True
        return False

    def _event(self, claim: Obj, type_: str, reason: str, message: str, component: str, once: bool = True) -> None:
        marker = (claim["metadata"]["uid"], reason + message)
        if once and marker in self._announced:
            return
        self._announced.add(marker)
        self.cluster.recorder.record(claim, type_, reason, message, component=component)

    def _reconcile_claim(self, namespace: str, name: str) -> float | None:
        claim = self.store.peek("persistentvolumeclaims", namespace, name)
        if claim is None:
            return None
        meta, spec = claim["metadata"], claim.get("spec") or {}
        if meta.get("deletionTimestamp"):
            if PVC_PROTECTION in (meta.get("finalizers") or []) and not self._in_use(namespace, name):
                self.store.remove_finalizer("persistentvolumeclaims", namespace, name, PVC_PROTECTION)
            return None
        status = claim.get("status") or {}
        if status.get("phase") == "Bound":
            volume = self.store.peek("persistentvolumes", "", spec.get("volumeName", ""))
            if volume is None:
                self.store.replace_status("persistentvolumeclaims", namespace, name, {**status, "phase": "Lost"})
            return None
        if "storageClassName" not in spec:
            default = default_storage_class(self.store)
            if default is not None:
                updated = clone(claim)
                updated["spec"]["storageClassName"] = default["metadata"]["name"]
                updated["metadata"].pop("resourceVersion", None)
                self.store.update(updated, resource="persistentvolumeclaims")
                return 0.0
        class_name = spec.get("storageClassName")
        volume = self._find_volume(claim)
        if volume is not None:
            self._bind(claim, volume)
            return None
        if not class_name:
            self._event(
                claim,
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                "persistentvolume-controller",
            )
            return None
        sc = self.store.peek("storageclasses.storage.k8s.io", "", class_name)
        if sc is None:
            self._event(
                claim,
                "Warning",
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
                "persistentvolume-controller",
            )
            return None
        provisioner = str(sc.get("provisioner", ""))
        annotations = meta.get("annotations") or {}
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not annotations.get(
            "volume.kubernetes.io/selected-node"
        ):
            self._event(
                claim,
                "Normal",
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
                "persistentvolume-controller",
            )
            return None
        if provisioner == "kubernetes.io/no-provisioner":
            return None
        if annotations.get("volume.kubernetes.io/storage-provisioner") != provisioner:
            self.store.patch(
                "persistentvolumeclaims",
                namespace,
                name,
                {
                    "metadata": {
                        "annotations": {
                            "volume.beta.kubernetes.io/storage-provisioner": provisioner,
                            "volume.kubernetes.io/storage-provisioner": provisioner,
                        }
                    }
                },
            )
            claim = self.store.peek("persistentvolumeclaims", namespace, name) or claim
        self._event(
            claim,
            "Normal",
            "ExternalProvisioning",
            "Waiting for a volume to be created either by the external provisioner "
            f"'{provisioner}' "
            "or manually by the system administrator. If volume creation is delayed, please verify "
            "that the provisioner is running and correctly registered.",
            "persistentvolume-controller",
        )
        if not self._provisioner_available(provisioner):
            return None
        uid = claim["metadata"]["uid"]
        now = self.store.clock()
        if uid not in self._provisioning_since:
            self._provisioning_since[uid] = now
            self._event(
                claim,
                "Normal",
                "Provisioning",
                f'External provisioner is provisioning volume for claim "{namespace}/{name}"',
                provisioner,
            )
        due = self._provisioning_since[uid] + self.cluster.delay("provision")
        if now < due:
            return due - now
        volume = self._provision(claim, sc)
        self._event(
            claim,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {volume['metadata']['name']}",
            provisioner,
        )
        self._bind(claim, volume)
        self._provisioning_since.pop(uid, None)
        return None

    def _provisioner_available(self, provisioner: str) -> bool:
        if provisioner == MINIKUBE_PROVISIONER:
            return True
        return self.store.peek("csidrivers.storage.k8s.io", "", provisioner) is not None

    def _find_volume(self, claim: Obj) -> Obj | None:
        spec = claim.get("spec") or {}
        wanted = parse_quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage", "0"))
        modes = set(spec.get("accessModes") or [])
        if spec.get("volumeName"):
            pv = self.store.peek("persistentvolumes", "", spec["volumeName"])
            ref = (pv.get("spec") or {}).get("claimRef") if pv else None
            if pv is not None and (not ref or ref.get("uid") == claim["metadata"]["uid"] or not ref.get("uid")):
                return pv
            return None
        candidates = []
        for pv in self.store.iter("persistentvolumes"):
            pv_spec = pv.get("spec") or {}
            if pv["metadata"].get("deletionTimestamp") or (pv.get("status") or {}).get("phase") != "Available":
                continue
            ref = pv_spec.get("claimRef")
            if ref and ref.get("uid") not in (None, claim["metadata"]["uid"]):
                continue
            if ref and (ref.get("name"), ref.get("namespace")) != (
                claim["metadata"]["name"],
                claim["metadata"]["namespace"],
            ):
                continue
            if (pv_spec.get("storageClassName") or "") != (spec.get("storageClassName") or ""):
                continue
            if not modes.issubset(set(pv_spec.get("accessModes") or [])):
                continue
            size = parse_quantity((pv_spec.get("capacity") or {}).get("storage", "0"))
            if size < wanted:
                continue
            candidates.append((size, pv["metadata"]["name"], pv))
        candidates.sort(key=lambda c: (c[0], c[1]))
        return candidates[0][2] if candidates else None

    def _provision(self, claim: Obj, sc: Obj) -> Obj:
        meta, spec = claim["metadata"], claim.get("spec") or {}
        provisioner = str(sc.get("provisioner"))
        volume_spec: Obj = {
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")},
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode", "Filesystem"),
        }
        if sc.get("mountOptions"):
            volume_spec["mountOptions"] = list(sc["mountOptions"])
        finalizers = ["kubernetes.io/pv-protection"]
        annotations = {"pv.kubernetes.io/provisioned-by": provisioner}
        if provisioner == MINIKUBE_PROVISIONER:
            volume_spec["hostPath"] = {
                "path": f"/tmp/hostpath-provisioner/{meta['namespace']}/{meta['name']}",
                "type": "",
            }
        else:
            volume_spec["csi"] = {
                "driver": provisioner,
                "volumeHandle": str(uuid.uuid4()),
                "fsType": "ext4",
                "volumeAttributes": {
                    "storage.kubernetes.io/csiProvisionerIdentity": (f"k8s-tutor-sandbox-{provisioner}")
                },
            }
            annotations["volume.kubernetes.io/provisioner-deletion-secret-name"] = ""
            annotations["volume.kubernetes.io/provisioner-deletion-secret-namespace"] = ""
            finalizers.insert(0, "external-provisioner.volume.kubernetes.io/finalizer")
        return self.store.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {
                    "name": f"pvc-{meta['uid']}",
                    "annotations": annotations,
                    "finalizers": finalizers,
                },
                "spec": volume_spec,
                "status": {"phase": "Pending"},
            },
            resource="persistentvolumes",
        )

    def _bind(self, claim: Obj, volume: Obj) -> None:
        meta = claim["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        pv_name = volume["metadata"]["name"]
        pv = clone(volume)
        pv["spec"]["claimRef"] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": name,
            "namespace": namespace,
            "uid": meta["uid"],
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        pv["metadata"].pop("resourceVersion", None)
        self.store.update(pv, resource="persistentvolumes")
        self.store.replace_status("persistentvolumes", "", pv_name, {"phase": "Bound"})
        bound = clone(self.store.peek("persistentvolumeclaims", namespace, name) or claim)
        bound["spec"]["volumeName"] = pv_name
        annotations = bound["metadata"].setdefault("annotations", {})
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
        annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
        bound["metadata"].pop("resourceVersion", None)
        self.store.update(bound, resource="persistentvolumeclaims")
        self.store.replace_status(
            "persistentvolumeclaims",
            namespace,
            name,
            {
                "phase": "Bound",
                "accessModes": list((volume.get("spec") or {}).get("accessModes") or []),
                "capacity": dict((volume.get("spec") or {}).get("capacity") or {}),
            },
        )

    # ---- volumes ---------------------------------------------------------------------------

    def _reconcile_volume(self, name: str) -> float | None:
        pv = self.store.peek("persistentvolumes", "", name)
        if pv is None:
            return None
        spec, status = pv.get("spec") or {}, pv.get("status") or {}
        ref = spec.get("claimRef") or {}
        claim = None
        if ref.get("name"):
            claim = self.store.peek("persistentvolumeclaims", str(ref.get("namespace", "")), str(ref["name"]))
            if claim is not None and ref.get("uid") and claim["metadata"]["uid"] != ref["uid"]:
                claim = None
        if pv["metadata"].get("deletionTimestamp"):
            if claim is None or status.get("phase") != "Bound":
                for finalizer in list(pv["metadata"].get("finalizers") or []):
                    self.store.remove_finalizer("persistentvolumes", "", name, finalizer)
            return None
        if not ref.get("name"):
            if status.get("phase") != "Available":
                self.store.replace_status("persistentvolumes", "", name, {"phase": "Available"})
            return None
        if claim is not None:
            if status.get("phase") != "Bound" and (claim.get("spec") or {}).get("volumeName") == name:
                self.store.replace_status("persistentvolumes", "", name, {"phase": "Bound"})
            return None
        if not ref.get("uid"):
            return None  # pre-bound to a claim that does not exist yet
        if status.get("phase") in ("Bound", "Available", "Pending"):
            if spec.get("persistentVolumeReclaimPolicy") == "Delete":
                self.store.delete("persistentvolumes", "", name)
            else:
                self.store.replace_status("persistentvolumes", "", name, {"phase": "Released"})
        return None
