"""Rules about storage: claims that wait for a volume, and which StorageClass is the default."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.cluster import objects
from tutor.cluster.diagnosis.case import Case
from tutor.cluster.objects import Obj
from tutor.cluster.results import Finding

GET_SC = "kubectl get storageclass"

ADDON_PODS = {
    "hostpath.csi.k8s.io": "kubectl get pods -n kube-system -l kubernetes.io/minikube-addons=csi-hostpath-driver",
    "k8s.io/minikube-hostpath": "kubectl get pod storage-provisioner -n kube-system",
}
"""Where the provisioners of minikube's storage addons run."""


def _describe(pvc: Obj) -> str:
    return f"kubectl describe pvc {objects.name(pvc)} -n {objects.namespace(pvc)}"


def _reasons(case: Case, pvc: Obj) -> dict[str, str]:
    """Event reason -> newest message, for the claim's events."""
    found: dict[str, str] = {}
    for event in case.events_for(objects.namespace(pvc), objects.name(pvc)):
        found[str(event.get("reason"))] = " ".join(str(event.get("message", "")).split())
    return found


def pvc_pending(case: Case) -> Iterator[Finding]:
    classes = {objects.name(sc): sc for sc in case.storage_classes()}
    defaults = objects.default_storage_classes(classes.values())
    for pvc in case.claims():
        if objects.pvc_phase(pvc) != "Pending":
            continue
        name = objects.name(pvc)
        wanted = objects.pvc_class(pvc)
        reasons = _reasons(case, pvc)
        if not wanted:
            if not defaults:
                yield Finding(
                    "pvc_no_storageclass",
                    f"claim {name} names no StorageClass and the cluster has no default one, "
                    "so no volume is created for it: mark a StorageClass as the default",
                    tuple(f"{sc}  {classes[sc].get('provisioner', '?')}" for sc in sorted(classes)),
                    GET_SC,
                )
            continue
        sc = classes.get(wanted)
        if sc is None:
            yield Finding(
                "pvc_class_missing",
                f"claim {name} asks for StorageClass {wanted}, which does not exist",
                tuple(sorted(classes)),
                GET_SC,
            )
            continue
        provisioner = str(sc.get("provisioner", "?"))
        if "ProvisioningFailed" in reasons:
            yield Finding(
                "pvc_provisioning_failed",
                f"provisioner {provisioner} failed to create a volume for claim {name}",
                (reasons["ProvisioningFailed"],),
                _describe(pvc),
            )
        elif sc.get("volumeBindingMode") == "WaitForFirstConsumer" and "Provisioning" not in reasons:
            yield Finding(
                "pvc_wait_for_consumer",
                f"claim {name} gets a volume only once a pod that uses it is scheduled (WaitForFirstConsumer)",
                (),
                _describe(pvc),
            )
        elif "ExternalProvisioning" in reasons or not provisioner.startswith("kubernetes.io/"):
            evidence = (reasons["ExternalProvisioning"],) if "ExternalProvisioning" in reasons else ()
            yield Finding(
                "pvc_waiting_for_provisioner",
                f"claim {name} is waiting for a volume to be created by external provisioner {provisioner}: "
                "is that provisioner running?",
                evidence,
                ADDON_PODS.get(provisioner, _describe(pvc)),
            )


def default_class_count(case: Case) -> Iterator[Finding]:
    relevant = case.check_kind == "default_storageclass" or any(
        objects.pvc_phase(pvc) == "Pending" and not objects.pvc_class(pvc) for pvc in case.claims()
    )
    if not relevant:
        return
    classes = case.storage_classes()
    defaults = objects.default_storage_classes(classes)
    if not defaults:
        yield Finding(
            "no_default_storageclass",
            "no StorageClass is marked as the default: claims that name no class get no volume",
            tuple(objects.name(sc) for sc in classes),
            GET_SC,
        )
    elif len(defaults) > 1:
        newest = max(
            (sc for sc in classes if objects.name(sc) in defaults),
            key=lambda sc: (objects.meta(sc).get("creationTimestamp") or "", objects.name(sc)),
        )
        yield Finding(
            "several_default_storageclasses",
            f"{len(defaults)} StorageClasses are marked as the default: {', '.join(defaults)}. "
            f"Kubernetes 1.26 and later use the newest ({objects.name(newest)}); "
            "older versions refuse claims that name no class",
            tuple(f"{name} (default)" for name in defaults),
            GET_SC,
        )


def minikube_restarted_default(case: Case) -> Iterator[Finding]:
    """`minikube start` on an existing profile marks `standard` default and every other class not.

    After the lesson's patches, csi-hostpath-sc carried "true"; a fresh addon leaves it with
    no annotation at all. So `standard` = "true" while the wanted class says "false" in
    so many words is the mark of a restart undoing the lesson's change.
    """
    wanted = case.wanted_default
    if not wanted or wanted == "standard":
        return
    classes = {objects.name(sc): sc for sc in case.storage_classes()}
    standard, target = classes.get("standard"), classes.get(wanted)
    if standard is None or target is None:
        return
    if objects.is_default_storage_class(standard) and objects.default_marking(target) == "false":
        yield Finding(
            "minikube_reset_default",
            f"standard is the default again and {wanted} is marked not default: minikube does this when it starts "
            "an existing profile. Run this step's two patches again; to keep the change across restarts, "
            f"disable the addon that resets it: {case.minikube('addons disable default-storageclass')}",
            ("standard (default)", f"{wanted}  is-default-class=false"),
            GET_SC,
        )
