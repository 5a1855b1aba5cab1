"""Against a real minikube (profile mc-demo, after the lesson's first step): skipped here.

Run with K8S_TUTOR_MINIKUBE=1 on a machine with minikube. These never run against the
sandbox: they check that what the sandbox stands in for looks the same on the real thing.
"""

from __future__ import annotations

import os

import pytest

from tutor.cluster.checks import BasicContext, build_check
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import evaluate_once
from tutor.cluster.kubeconfig import Source, load

pytestmark = [
    pytest.mark.minikube,
    pytest.mark.skipif(
        os.environ.get("K8S_TUTOR_MINIKUBE") != "1", reason="needs a real minikube (K8S_TUTOR_MINIKUBE=1)"
    ),
]

PROFILE = os.environ.get("K8S_TUTOR_MINIKUBE_PROFILE", "mc-demo")


def test_the_minikube_context_is_recognised_as_local() -> None:
    # Local by where its server is: loopback (docker driver with a forwarded port) or the
    # node address minikube records for the profile.
    info = load(Source.resolve(context=PROFILE)).info
    assert info.is_local, info.locality.why
    assert info.kind == "minikube" and info.minikube_profile == PROFILE


def test_the_storage_addons_are_seen_through_their_objects() -> None:
    connection = ClusterConnection(Source.resolve(context=PROFILE))
    checks = {
        addon: build_check("addon_enabled", {"addon": addon}, namespace="pacman")
        for addon in ("volumesnapshots", "csi-hostpath-driver", "default-storageclass", "storage-provisioner")
    }
    results, status = evaluate_once(connection, BasicContext(), checks)
    connection.close()
    assert status.state == "connected"
    assert {addon: result.status for addon, result in results.items()} == dict.fromkeys(checks, "pass")


def test_node_ip_is_the_minikube_ip() -> None:
    connection = ClusterConnection(Source.resolve(context=PROFILE))
    connection.open()
    address = connection.node_ip(PROFILE)
    connection.close()
    assert address is not None and address.count(".") == 3
