"""What the minikube addons create, as the stand-ins will create it through the store:
an ingress controller that gives Ingresses their address, CRDs that become resources."""

from __future__ import annotations

from typing import Any

from sandbox_helpers import api

from tutor.sandbox import Sandbox
from tutor.sandbox.objects import Obj


def ingress(name: str = "pacman-ingress", class_name: str | None = None) -> Obj:
    spec: Obj = {
        "rules": [
            {
                "host": "pacman.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "pacman", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    if class_name:
        spec["ingressClassName"] = class_name
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def install_ingress_addon(sb: Sandbox, *, args: list[str] | None = None) -> None:
    sb.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ingress-nginx"}})
    sb.store.create(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {
                "name": "nginx",
                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            },
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
    )
    labels = {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/component": "controller",
    }
    sb.store.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "controller",
                                "image": "registry.k8s.io/ingress-nginx/controller:v1.11.2",
                                "args": args
                                or [
                                    "/nginx-ingress-controller",
                                    "--controller-class=k8s.io/ingress-nginx",
                                    "--watch-ingress-without-class=true",
                                ],
                            }
                        ]
                    },
                },
            },
        }
    )


def address(sb: Sandbox, name: str = "pacman-ingress") -> list[Any]:
    return list(
        (sb.store.read("ingresses.networking.k8s.io", "default", name)["status"].get("loadBalancer") or {}).get(
            "ingress"
        )
        or []
    )


def test_an_ingress_gets_the_node_address_once_the_controller_runs(sandbox: Sandbox) -> None:
    sandbox.store.create(ingress(class_name="nginx"))
    sandbox.wait_idle()
    assert address(sandbox) == []
    install_ingress_addon(sandbox)
    sandbox.wait_idle()
    assert address(sandbox) == [{"ip": "127.0.0.1"}]


def test_the_default_ingress_class_is_filled_in(sandbox: Sandbox) -> None:
    install_ingress_addon(sandbox)
    created = sandbox.store.create(ingress())
    assert created["spec"]["ingressClassName"] == "nginx"
    sandbox.wait_idle()
    assert address(sandbox) == [{"ip": "127.0.0.1"}]


def test_an_ingress_of_an_unknown_class_stays_without_address(sandbox: Sandbox) -> None:
    install_ingress_addon(sandbox)
    sandbox.store.create(ingress(class_name="traefik"))
    sandbox.wait_idle()
    assert address(sandbox) == []


def test_a_controller_that_is_not_available_gives_no_address(sandbox: Sandbox) -> None:
    sandbox.faults.image_pull_failure("registry.k8s.io/ingress-nginx/controller:*")
    install_ingress_addon(sandbox)
    sandbox.store.create(ingress(class_name="nginx"))
    sandbox.wait_idle()
    assert address(sandbox) == []
    sandbox.faults.clear_image_faults()
    sandbox.wait_idle()
    assert address(sandbox) == [{"ip": "127.0.0.1"}]


def test_a_crd_becomes_a_served_resource(sandbox: Sandbox) -> None:
    sandbox.store.create(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "volumesnapshotclasses.snapshot.storage.k8s.io"},
            "spec": {
                "group": "snapshot.storage.k8s.io",
                "scope": "Cluster",
                "names": {
                    "plural": "volumesnapshotclasses",
                    "singular": "volumesnapshotclass",
                    "kind": "VolumeSnapshotClass",
                    "shortNames": ["vsclass"],
                },
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object"}},
                    }
                ],
            },
        }
    )
    sandbox.wait_idle()
    crd = sandbox.store.read(
        "customresourcedefinitions.apiextensions.k8s.io",
        "",
        "volumesnapshotclasses.snapshot.storage.k8s.io",
    )
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]} == {
        "NamesAccepted": "True",
        "Established": "True",
    }
    resources = api(sandbox, "GET", "/apis/snapshot.storage.k8s.io/v1").json()["resources"]
    assert resources[0]["name"] == "volumesnapshotclasses"
    assert resources[0]["shortNames"] == ["vsclass"]
    sandbox.store.create(
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": {"name": "csi-hostpath-snapclass"},
            "driver": "hostpath.csi.k8s.io",
            "deletionPolicy": "Delete",
        }
    )
    assert (
        sandbox.store.read("volumesnapshotclasses.snapshot.storage.k8s.io", "", "csi-hostpath-snapclass")["driver"]
        == "hostpath.csi.k8s.io"
    )
    sandbox.store.delete(
        "customresourcedefinitions.apiextensions.k8s.io",
        "",
        "volumesnapshotclasses.snapshot.storage.k8s.io",
    )
    sandbox.wait_idle()
    assert sandbox.registry.get("volumesnapshotclasses.snapshot.storage.k8s.io") is None
