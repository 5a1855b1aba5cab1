"""The object map's relations from objects as a real cluster (or a confused one) records them,
over a fixed view: owners by uid, volumes by their claim's uid, what is odd or missing."""

from __future__ import annotations

from typing import Any

from tutor.cluster.object_map import build_map, map_keys
from tutor.cluster.status import ConnectionStatus
from tutor.cluster.view import StaticView, WatchKey
from tutor.lesson.map_subjects import MapSubject

NS = "pacman"
STS = MapSubject("statefulset", "mongo", None, NS, "deploy")


def obj(kind: str, name: str, uid: str, *, namespace: str | None = NS, **rest: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": uid, **rest.pop("meta", {})}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta, **rest}


def owned(kind: str, name: str, uid: str, *, controller: bool = True) -> dict[str, Any]:
    return {"ownerReferences": [{"kind": kind, "name": name, "uid": uid, "controller": controller}]}


def statefulset(uid: str = "sts-1") -> dict[str, Any]:
    return obj(
        "StatefulSet",
        "mongo",
        uid,
        spec={"replicas": 1, "serviceName": "mongo", "volumeClaimTemplates": [{"metadata": {"name": "data"}}]},
        status={"readyReplicas": 1},
    )


def pod(uid: str, owner_uid: str = "sts-1", **extra: Any) -> dict[str, Any]:
    return obj(
        "Pod",
        "mongo-0",
        uid,
        meta={**owned("StatefulSet", "mongo", owner_uid), **extra.pop("meta", {})},
        spec={
            "containers": [{"name": "m", "image": "mongo"}],
            "volumes": [{"persistentVolumeClaim": {"claimName": "data-mongo-0"}}],
        },
        status={
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "m", "ready": True, "state": {"running": {}}}],
        },
        **extra,
    )


def claim(uid: str = "pvc-uid", volume: str = "pv-1") -> dict[str, Any]:
    return obj(
        "PersistentVolumeClaim",
        "data-mongo-0",
        uid,
        spec={"volumeName": volume, "storageClassName": "fast"},
        status={"phase": "Bound"},
    )


def volume(claim_uid: str = "pvc-uid") -> dict[str, Any]:
    return obj(
        "PersistentVolume",
        "pv-1",
        "pv-uid",
        namespace=None,
        spec={"storageClassName": "fast", "claimRef": {"namespace": NS, "name": "data-mongo-0", "uid": claim_uid}},
        status={"phase": "Bound"},
    )


def storage_class() -> dict[str, Any]:
    return obj(
        "StorageClass",
        "fast",
        "sc-uid",
        namespace=None,
        meta={"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    )


def test_the_chain_that_outlasts_a_pod() -> None:
    found = build_map(StaticView([statefulset(), pod("p1"), claim(), volume(), storage_class()]), [STS], ["deploy"])
    # Roots in the order of their steps; the class, which no step of this lesson makes, last.
    (sts, sc) = found.roots
    assert (sc.kind, sc.state) == ("StorageClass", "(default)")
    assert [n.kind for _, n, _ in found.placed()] == [
        "StatefulSet",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Pod",
    ]
    assert all(node.step == "deploy" for node in found.nodes() if node.kind != "StorageClass")
    assert {link.relation for link in sts.links} == {"owns", "claims"}


def test_a_pod_left_by_an_earlier_statefulset_of_that_name_is_not_its_pod() -> None:
    found = build_map(StaticView([statefulset("sts-2"), pod("p1", owner_uid="sts-1"), claim(), volume()]), [STS])
    sts = found.find("StatefulSet", "mongo", NS)
    assert sts is not None and "owns" not in {link.relation for link in sts.links}
    # It is still drawn, under the claim it mounts, with no step: nothing of the lesson made it.
    leftover = found.find("Pod", "mongo-0", NS)
    assert leftover is not None and leftover.step is None


def test_a_volume_bound_to_an_earlier_claim_of_that_name_is_not_its_volume() -> None:
    found = build_map(StaticView([statefulset(), claim(uid="new", volume=""), volume(claim_uid="old")]), [STS])
    pvc = found.find("PersistentVolumeClaim", "data-mongo-0", NS)
    assert pvc is not None and found.parent_of(pvc) is None
    assert found.find("PersistentVolume", "pv-1") is None  # not related to anything shown


def test_terminating_is_said_whatever_else_the_pod_says() -> None:
    going = pod("p1", meta={"deletionTimestamp": "2026-01-01T00:00:00Z"})
    found = build_map(StaticView([statefulset(), going, claim(), volume()]), [STS])
    node = found.find("Pod", "mongo-0", NS)
    assert node is not None and (node.state, node.health) == ("Terminating", "leaving")


def test_odd_objects_are_drawn_not_a_traceback() -> None:
    odd = pod("p1")
    odd["metadata"]["ownerReferences"] = ["not a mapping", {"controller": True}]
    odd["spec"]["volumes"] = "none"
    sts = statefulset()
    sts["spec"]["volumeClaimTemplates"] = {"metadata": "x"}
    endpoints = obj("Endpoints", "mongo", "ep", subsets=[{"addresses": ["1.2.3.4", {"targetRef": "x"}]}])
    service = obj("Service", "mongo", "svc", spec={"clusterIP": "None", "selector": {"name": "mongo"}})
    found = build_map(StaticView([sts, odd, endpoints, service]), [STS])
    assert found.find("StatefulSet", "mongo", NS) is not None


def test_what_is_not_there_yet_and_why_the_map_is_not_whole() -> None:
    nothing = build_map(StaticView([]), [STS], ["deploy"])
    (placeholder,) = nothing.roots
    assert (placeholder.kind, placeholder.state, placeholder.health, placeholder.step) == (
        "StatefulSet",
        "not created yet",
        "absent",
        "deploy",
    )
    reading = build_map(StaticView([], unsynced=[WatchKey.of("pod", NS)]), [STS])
    assert reading.loading and "reading" in reading.note
    gone = build_map(
        StaticView([], connection=ConnectionStatus("unreachable", 0.0, "the cluster does not answer")), [STS]
    )
    assert not gone.loading and gone.note == "the cluster does not answer"


def test_the_map_reads_only_the_kinds_related_to_its_subjects() -> None:
    kinds = {key.kind for key in map_keys([MapSubject("storageclass", "fast")])}
    assert kinds == {"storageclass"}
    kinds = {key.kind for key in map_keys([MapSubject("ingress", "web", namespace=NS)])}
    assert "ingress" in kinds and "service" in kinds and "endpoints" in kinds
