"""The objects minikube's addons create, for the ones the lessons use.

Each simulated addon is a list of Kubernetes objects, written from what the real
addon's manifests create (names, namespaces, labels, images), trimmed to what a learner
or a check can see: `kubectl get`, the labels minikube verifies pods by, the
StorageClass and IngressClass the lesson relies on. RBAC objects are kept because
`kubectl get clusterrole` shows them; admission webhooks are created but nothing in
the sandbox enforces them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

ADDON_LABEL = "kubernetes.io/minikube-addons"
MANAGED = {"addonmanager.kubernetes.io/mode": "Reconcile"}

SIG_STORAGE = "registry.k8s.io/sig-storage"
INGRESS_CONTROLLER_IMAGE = "registry.k8s.io/ingress-nginx/controller:v1.11.3"
INGRESS_CERTGEN_IMAGE = "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4"
SNAPSHOT_CONTROLLER_IMAGE = f"{SIG_STORAGE}/snapshot-controller:v6.1.0"
STORAGE_PROVISIONER_IMAGE = "gcr.io/k8s-minikube/storage-provisioner:v5"

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"


@dataclass(frozen=True)
class PodCheck:
    """Pods the enable command waits for, like minikube's "Verifying ... addon..."."""

    namespace: str
    selector: dict[str, str]
    count: int


@dataclass(frozen=True)
class Addon:
    name: str
    maintainer: str
    images: tuple[str, ...] = ()
    verify: tuple[PodCheck, ...] = ()
    objects: Callable[[], list[Obj]] | None = None
    default_enabled: bool = False
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        return self.objects is not None


def _meta(name: str, namespace: str | None = None, **labels: str) -> Obj:
    meta: Obj = {"name": name, "labels": {**MANAGED, **labels}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _sa(name: str, namespace: str, **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(name, namespace, **labels),
    }


def _cluster_role(name: str, rules: list[Obj], **labels: str) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": _meta(name, **labels),
        "rules": rules,
    }


def _binding(kind: str, name: str, role: str, sa: str, namespace: str, **labels: str) -> Obj:
    role_kind = "ClusterRole" if kind == "ClusterRoleBinding" else "Role"
    obj: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": _meta(name, namespace if kind == "RoleBinding" else None, **labels),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}],
    }
    return obj


def _container(name: str, image: str, **extra: Any) -> Obj:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", **extra}


def _pod_template(labels: dict[str, str], containers: list[Obj], **spec: Any) -> Obj:
    return {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers, **spec}}


# --- volumesnapshots -------------------------------------------------------------------


def _crd(plural: str, kind: str, scope: str, short: list[str]) -> Obj:
    group = "snapshot.storage.k8s.io"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            "labels": dict(MANAGED),
            "annotations": {
                "api-approved.kubernetes.io": "https://github.com/kubernetes-csi/external-snapshotter/pull/665"
            },
        },
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": short,
            },
            "scope": scope,
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}} if kind != "VolumeSnapshotClass" else {},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def volumesnapshot_crds() -> list[Obj]:
    return [
        _crd("volumesnapshotclasses", "VolumeSnapshotClass", "Cluster", ["vsclass", "vsclasses"]),
        _crd("volumesnapshotcontents", "VolumeSnapshotContent", "Cluster", ["vsc", "vscs"]),
        _crd("volumesnapshots", "VolumeSnapshot", "Namespaced", ["vs"]),
    ]


def _volumesnapshots() -> list[Obj]:
    labels = {"app": "snapshot-controller"}
    deployment: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("snapshot-controller", "kube-system", **labels),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": dict(labels)},
            "minReadySeconds": 15,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
            },
            "template": _pod_template(
                {**labels, ADDON_LABEL: "volumesnapshots"},
                [
                    _container(
                        "snapshot-controller",
                        SNAPSHOT_CONTROLLER_IMAGE,
                        args=["--v=5", "--leader-election=true"],
                    )
                ],
                serviceAccountName="snapshot-controller",
            ),
        },
    }
    return [
        *volumesnapshot_crds(),
        _sa("snapshot-controller", "kube-system"),
        _cluster_role(
            "snapshot-controller-runner",
            [
                {
                    "apiGroups": [""],
                    "resources": ["persistentvolumes", "persistentvolumeclaims"],
                    "verbs": ["get", "list", "watch"],
                },
                {
                    "apiGroups": ["snapshot.storage.k8s.io"],
                    "resources": [
                        "volumesnapshotclasses",
                        "volumesnapshotcontents",
                        "volumesnapshots",
                    ],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
            ],
        ),
        _binding(
            "ClusterRoleBinding",
            "snapshot-controller-role",
            "snapshot-controller-runner",
            "snapshot-controller",
            "kube-system",
        ),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("snapshot-controller-leaderelection", "kube-system"),
            "rules": [
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "verbs": ["get", "watch", "list", "delete", "update", "create"],
                }
            ],
        },
        _binding(
            "RoleBinding",
            "snapshot-controller-leaderelection",
            "snapshot-controller-leaderelection",
            "snapshot-controller",
            "kube-system",
        ),
        deployment,
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": _meta("csi-hostpath-snapclass", **{ADDON_LABEL: "volumesnapshots"}),
            "driver": "hostpath.csi.k8s.io",
            "deletionPolicy": "Delete",
        },
    ]


# --- csi-hostpath-driver ---------------------------------------------------------------

CSI_IMAGES = {
    "attacher": f"{SIG_STORAGE}/csi-attacher:v4.0.0",
    "health-monitor": f"{SIG_STORAGE}/csi-external-health-monitor-controller:v0.7.0",
    "registrar": f"{SIG_STORAGE}/csi-node-driver-registrar:v2.6.0",
    "plugin": f"{SIG_STORAGE}/hostpathplugin:v1.9.0",
    "liveness": f"{SIG_STORAGE}/livenessprobe:v2.8.0",
    "resizer": f"{SIG_STORAGE}/csi-resizer:v1.6.0",
    "snapshotter": f"{SIG_STORAGE}/csi-snapshotter:v6.1.0",
    "provisioner": f"{SIG_STORAGE}/csi-provisioner:v3.3.0",
}


def _csi_labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/instance": "hostpath.csi.k8s.io",
        "app.kubernetes.io/part-of": "csi-driver-host-path",
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        ADDON_LABEL: "csi-hostpath-driver",
    }


def _csi_statefulset(name: str, component: str, containers: list[Obj], sa: str) -> list[Obj]:
    labels = _csi_labels(name, component)
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(name, "kube-system", **labels),
            "spec": {
                "selector": dict(labels),
                "ports": [{"name": "dummy", "port": 12345, "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _meta(name, "kube-system", **labels),
            "spec": {
                "serviceName": name,
                "replicas": 1,
                "selector": {"matchLabels": dict(labels)},
                "template": _pod_template(labels, containers, serviceAccountName=sa),
            },
        },
    ]


def _csi_hostpath_driver() -> list[Obj]:
    socket = {"name": "socket-dir", "mountPath": "/csi"}
    objects: list[Obj] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": _meta("hostpath.csi.k8s.io", **_csi_labels("hostpath.csi.k8s.io", "csi-driver")),
            "spec": {
                "attachRequired": False,
                "podInfoOnMount": True,
                "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                "storageCapacity": True,
                "fsGroupPolicy": "File",
            },
        }
    ]
    for role in (
        "attacher",
        "provisioner",
        "resizer",
        "snapshotter",
        "external-health-monitor-controller",
    ):
        sa = f"csi-{role}"
        objects.append(_sa(sa, "kube-system"))
        objects.append(
            _cluster_role(
                f"external-{role}-runner" if not role.startswith("external") else f"{role}-runner",
                [
                    {
                        "apiGroups": [""],
                        "resources": ["persistentvolumes"],
                        "verbs": ["get", "list", "watch", "update", "patch"],
                    }
                ],
            )
        )
        objects.append(
            _binding(
                "ClusterRoleBinding",
                f"csi-{role}-role",
                f"external-{role}-runner" if not role.startswith("external") else f"{role}-runner",
                sa,
                "kube-system",
            )
        )
    objects += _csi_statefulset(
        "csi-hostpath-attacher",
        "attacher",
        [
            _container(
                "csi-attacher",
                CSI_IMAGES["attacher"],
                args=["--v=5", "--csi-address=/csi/csi.sock"],
                volumeMounts=[socket],
            )
        ],
        "csi-attacher",
    )
    objects += _csi_statefulset(
        "csi-hostpath-resizer",
        "resizer",
        [
            _container(
                "csi-resizer",
                CSI_IMAGES["resizer"],
                args=["-v=5", "-csi-address=/csi/csi.sock"],
                volumeMounts=[socket],
            )
        ],
        "csi-resizer",
    )
    plugin_labels = _csi_labels("csi-hostpathplugin", "plugin")
    objects.append(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": _meta("csi-hostpathplugin", "kube-system", **plugin_labels),
            "spec": {
                "selector": {"matchLabels": dict(plugin_labels)},
                "template": _pod_template(
                    plugin_labels,
                    [
                        _container(
                            "hostpath",
                            CSI_IMAGES["plugin"],
                            args=[
                                "--drivername=hostpath.csi.k8s.io",
                                "--v=5",
                                "--endpoint=$(CSI_ENDPOINT)",
                                "--nodeid=$(KUBE_NODE_NAME)",
                            ],
                        ),
                        _container("csi-external-health-monitor-controller", CSI_IMAGES["health-monitor"]),
                        _container("node-driver-registrar", CSI_IMAGES["registrar"]),
                        _container("liveness-probe", CSI_IMAGES["liveness"]),
                        _container("csi-provisioner", CSI_IMAGES["provisioner"]),
                        _container("csi-snapshotter", CSI_IMAGES["snapshotter"]),
                    ],
                    serviceAccountName="csi-provisioner",
                ),
            },
        }
    )
    objects.append(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta("csi-hostpath-sc", **{ADDON_LABEL: "csi-hostpath-driver"}),
            "provisioner": "hostpath.csi.k8s.io",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        }
    )
    return objects


# --- ingress ---------------------------------------------------------------------------

INGRESS_NS = "ingress-nginx"
INGRESS_LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/instance": "ingress-nginx",
}
INGRESS_CONTROLLER_LABELS = {**INGRESS_LABELS, "app.kubernetes.io/component": "controller"}


def _ingress() -> list[Obj]:
    admission = {**INGRESS_LABELS, "app.kubernetes.io/component": "admission-webhook"}

    def configmap(name: str, data: dict[str, str] | None = None) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(name, INGRESS_NS, **INGRESS_CONTROLLER_LABELS),
            "data": data or {},
        }

    def job(name: str, args: list[str]) -> Obj:
        labels = {**admission, "batch.kubernetes.io/job-name": name}
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _meta(name, INGRESS_NS, **admission),
            "spec": {
                "backoffLimit": 6,
                "completions": 1,
                "parallelism": 1,
                "template": _pod_template(
                    labels,
                    [_container(name.rsplit("-", 1)[1], INGRESS_CERTGEN_IMAGE, args=args)],
                    restartPolicy="OnFailure",
                    serviceAccountName="ingress-nginx-admission",
                ),
            },
        }

    controller: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("ingress-nginx-controller", INGRESS_NS, **INGRESS_CONTROLLER_LABELS),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 10,
            "minReadySeconds": 0,
            "selector": {"matchLabels": dict(INGRESS_CONTROLLER_LABELS)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": _pod_template(
                {**INGRESS_CONTROLLER_LABELS, "gcp-auth-skip-secret": "true"},
                [
                    _container(
                        "controller",
                        INGRESS_CONTROLLER_IMAGE,
                        args=[
                            "/nginx-ingress-controller",
                            "--election-id=ingress-nginx-leader",
                            "--controller-class=k8s.io/ingress-nginx",
                            "--watch-ingress-without-class=true",
                            "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
                            "--tcp-services-configmap=$(POD_NAMESPACE)/tcp-services",
                            "--udp-services-configmap=$(POD_NAMESPACE)/udp-services",
                            "--validating-webhook=:8443",
                            "--validating-webhook-certificate=/usr/local/certificates/cert",
                            "--validating-webhook-key=/usr/local/certificates/key",
                        ],
                        ports=[
                            {
                                "name": "http",
                                "containerPort": 80,
                                "hostPort": 80,
                                "protocol": "TCP",
                            },
                            {
                                "name": "https",
                                "containerPort": 443,
                                "hostPort": 443,
                                "protocol": "TCP",
                            },
                            {"name": "webhook", "containerPort": 8443, "protocol": "TCP"},
                        ],
                        readinessProbe={"httpGet": {"path": "/healthz", "port": 10254, "scheme": "HTTP"}},
                    )
                ],
                serviceAccountName="ingress-nginx",
                nodeSelector={"kubernetes.io/os": "linux", "minikube.k8s.io/primary": "true"},
            ),
        },
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": INGRESS_NS, "labels": {**INGRESS_LABELS}},
        },
        _sa("ingress-nginx", INGRESS_NS, **INGRESS_CONTROLLER_LABELS),
        _sa("ingress-nginx-admission", INGRESS_NS, **admission),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("ingress-nginx", INGRESS_NS, **INGRESS_CONTROLLER_LABELS),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps", "pods", "secrets", "endpoints"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("ingress-nginx-admission", INGRESS_NS, **admission),
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create"]}],
        },
        _cluster_role(
            "ingress-nginx",
            [
                {
                    "apiGroups": ["networking.k8s.io"],
                    "resources": ["ingresses", "ingressclasses"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
            **INGRESS_LABELS,
        ),
        _cluster_role(
            "ingress-nginx-admission",
            [
                {
                    "apiGroups": ["admissionregistration.k8s.io"],
                    "resources": ["validatingwebhookconfigurations"],
                    "verbs": ["get", "update"],
                }
            ],
            **admission,
        ),
        _binding(
            "RoleBinding",
            "ingress-nginx",
            "ingress-nginx",
            "ingress-nginx",
            INGRESS_NS,
            **INGRESS_CONTROLLER_LABELS,
        ),
        _binding(
            "RoleBinding",
            "ingress-nginx-admission",
            "ingress-nginx-admission",
            "ingress-nginx-admission",
            INGRESS_NS,
            **admission,
        ),
        _binding(
            "ClusterRoleBinding",
            "ingress-nginx",
            "ingress-nginx",
            "ingress-nginx",
            INGRESS_NS,
            **INGRESS_LABELS,
        ),
        _binding(
            "ClusterRoleBinding",
            "ingress-nginx-admission",
            "ingress-nginx-admission",
            "ingress-nginx-admission",
            INGRESS_NS,
            **admission,
        ),
        configmap("ingress-nginx-controller", {"hsts": "false", "allow-snippet-annotations": "false"}),
        configmap("tcp-services"),
        configmap("udp-services"),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("ingress-nginx-controller", INGRESS_NS, **INGRESS_CONTROLLER_LABELS),
            "spec": {
                "type": "NodePort",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "selector": dict(INGRESS_CONTROLLER_LABELS),
                "ports": [
                    {
                        "name": "http",
                        "port": 80,
                        "protocol": "TCP",
                        "targetPort": "http",
                        "appProtocol": "http",
                    },
                    {
                        "name": "https",
                        "port": 443,
                        "protocol": "TCP",
                        "targetPort": "https",
                        "appProtocol": "https",
                    },
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("ingress-nginx-controller-admission", INGRESS_NS, **INGRESS_CONTROLLER_LABELS),
            "spec": {
                "type": "ClusterIP",
                "selector": dict(INGRESS_CONTROLLER_LABELS),
                "ports": [
                    {
                        "name": "https-webhook",
                        "port": 443,
                        "targetPort": "webhook",
                        "appProtocol": "https",
                    }
                ],
            },
        },
        controller,
        job(
            "ingress-nginx-admission-create",
            [
                "create",
                "--host=ingress-nginx-controller-admission,ingress-nginx-controller-admission.$(POD_NAMESPACE).svc",
                "--namespace=$(POD_NAMESPACE)",
                "--secret-name=ingress-nginx-admission",
            ],
        ),
        job(
            "ingress-nginx-admission-patch",
            [
                "patch",
                "--webhook-name=ingress-nginx-admission",
                "--namespace=$(POD_NAMESPACE)",
                "--patch-mutating=false",
                "--secret-name=ingress-nginx-admission",
                "--patch-failure-policy=Fail",
            ],
        ),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {
                **_meta("nginx", **INGRESS_CONTROLLER_LABELS),
                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            },
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": _meta("ingress-nginx-admission", **admission),
            "webhooks": [
                {
                    "name": "validate.nginx.ingress.kubernetes.io",
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                    "failurePolicy": "Fail",
                    "matchPolicy": "Equivalent",
                    "rules": [
                        {
                            "apiGroups": ["networking.k8s.io"],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["ingresses"],
                        }
                    ],
                    "clientConfig": {
                        "service": {
                            "name": "ingress-nginx-controller-admission",
                            "namespace": INGRESS_NS,
                            "path": "/networking/v1/ingresses",
                        }
                    },
                }
            ],
        },
    ]


# --- default-storageclass and storage-provisioner --------------------------------------


def standard_storageclass() -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "standard",
            "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"},
            "annotations": {DEFAULT_CLASS_ANNOTATION: "true"},
        },
        "provisioner": "k8s.io/minikube-hostpath",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def _default_storageclass() -> list[Obj]:
    return [standard_storageclass()]


def _storage_provisioner() -> list[Obj]:
    return [
        _sa("storage-provisioner", "kube-system"),
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta(
                "storage-provisioner",
                "kube-system",
                **{
                    "integration-test": "storage-provisioner",
                    "addonmanager.kubernetes.io/mode": "Reconcile",
                },
            ),
            "spec": {
                "serviceAccountName": "storage-provisioner",
                "hostNetwork": True,
                "containers": [
                    _container(
                        "storage-provisioner",
                        STORAGE_PROVISIONER_IMAGE,
                        command=["/storage-provisioner"],
                        volumeMounts=[{"name": "tmp", "mountPath": "/tmp"}],
                    )
                ],
                "volumes": [{"name": "tmp", "hostPath": {"path": "/tmp", "type": "Directory"}}],
            },
        },
    ]


ADDONS: dict[str, Addon] = {
    a.name: a
    for a in (
        Addon("ambassador", "3rd party (Ambassador)"),
        Addon("auto-pause", "minikube"),
        Addon("cloud-spanner", "Google"),
        Addon(
            "csi-hostpath-driver",
            "Kubernetes",
            images=tuple(
                CSI_IMAGES[k]
                for k in (
                    "attacher",
                    "health-monitor",
                    "registrar",
                    "plugin",
                    "liveness",
                    "resizer",
                    "snapshotter",
                    "provisioner",
                )
            ),
            verify=(PodCheck("kube-system", {ADDON_LABEL: "csi-hostpath-driver"}, 3),),
            objects=_csi_hostpath_driver,
            doc="https://minikube.sigs.k8s.io/docs/tutorials/volume_snapshots_and_csi/",
        ),
        Addon("dashboard", "Kubernetes"),
        Addon(
            "default-storageclass",
            "Kubernetes",
            objects=_default_storageclass,
            default_enabled=True,
        ),
        Addon("efk", "3rd party (Elastic)"),
        Addon("freshpod", "Google"),
        Addon("gcp-auth", "Google"),
        Addon("gvisor", "minikube"),
        Addon("headlamp", "3rd party (kinvolk.io)"),
        Addon("inaccel", "3rd party (InAccel [info@inaccel.com])"),
        Addon(
            "ingress",
            "Kubernetes",
            images=(INGRESS_CONTROLLER_IMAGE, INGRESS_CERTGEN_IMAGE, INGRESS_CERTGEN_IMAGE),
            verify=(PodCheck(INGRESS_NS, dict(INGRESS_CONTROLLER_LABELS), 1),),
            objects=_ingress,
        ),
        Addon("ingress-dns", "minikube"),
        Addon("inspektor-gadget", "3rd party (inspektor-gadget.io)"),
        Addon("istio", "3rd party (Istio)"),
        Addon("istio-provisioner", "3rd party (Istio)"),
        Addon("kong", "3rd party (Kong HQ)"),
        Addon("kubeflow", "3rd party"),
        Addon("kubevirt", "3rd party (KubeVirt)"),
        Addon("logviewer", "3rd party (unknown)"),
        Addon("metallb", "3rd party (MetalLB)"),
        Addon("metrics-server", "Kubernetes"),
        Addon("nvidia-device-plugin", "3rd party (NVIDIA)"),
        Addon("nvidia-driver-installer", "3rd party (NVIDIA)"),
        Addon("olm", "3rd party (Operator Framework)"),
        Addon("pod-security-policy", "3rd party (unknown)"),
        Addon("portainer", "3rd party (Portainer.io)"),
        Addon("registry", "minikube"),
        Addon("registry-aliases", "3rd party (unknown)"),
        Addon("registry-creds", "3rd party (UPMC Enterprises)"),
        Addon(
            "storage-provisioner",
            "minikube",
            images=(STORAGE_PROVISIONER_IMAGE,),
            objects=_storage_provisioner,
            default_enabled=True,
        ),
        Addon("storage-provisioner-rancher", "3rd party (Rancher)"),
        Addon("volcano", "third-party (volcano)"),
        Addon(
            "volumesnapshots",
            "Kubernetes",
            images=(SNAPSHOT_CONTROLLER_IMAGE,),
            verify=(PodCheck("kube-system", {"app": "snapshot-controller"}, 2),),
            objects=_volumesnapshots,
            doc="https://minikube.sigs.k8s.io/docs/tutorials/volume_snapshots_and_csi/",
        ),
        Addon("yakd", "3rd party (marcnuri.com)"),
    )
}

SIMULATED = tuple(sorted(name for name, addon in ADDONS.items() if addon.simulated))


def objects_for(name: str) -> list[Obj]:
    addon = ADDONS[name]
    assert addon.objects is not None
    return copy.deepcopy(addon.objects())
