"""What a fresh ``minikube start -p PROFILE`` cluster contains.

The four namespaces, the node, the control-plane pods, CoreDNS and kube-proxy, the
storage provisioner with its ``standard`` StorageClass (the default), the
``kubernetes`` Service. Addons (ingress, csi-hostpath-driver, volumesnapshots) are not
here: the minikube stand-in creates their objects when they are enabled.
"""

from __future__ import annotations

import uuid
from typing import Any

from tutor.sandbox.admission import DEFAULT_SC_ANNOTATIONS
from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import Obj, owner_ref, rfc3339
from tutor.sandbox.store import Store
from tutor.sandbox.versions import (
    DEFAULT_RUNTIME,
    MINIKUBE_COMMIT,
    MINIKUBE_VERSION,
    container_runtime_version,
    runtime_info,
)

STANDARD = "standard"


def node(
    profile: str, kubernetes_version: str, node_ip: str, now: float, container_runtime: str = DEFAULT_RUNTIME
) -> Obj:
    stamp = rfc3339(now)
    conditions = [
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    capacity = {
        "cpu": "2",
        "ephemeral-storage": "102626232Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "8130412Ki",
        "pods": "110",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": profile,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": profile,
                "kubernetes.io/os": "linux",
                "minikube.k8s.io/commit": MINIKUBE_COMMIT,
                "minikube.k8s.io/name": profile,
                "minikube.k8s.io/primary": "true",
                "minikube.k8s.io/updated_at": stamp.replace("-", "_").replace(":", "_").rstrip("Z") + "_0700",
                "minikube.k8s.io/version": MINIKUBE_VERSION,
                "node-role.kubernetes.io/control-plane": "",
                "node.kubernetes.io/exclude-from-external-load-balancers": "",
            },
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": runtime_info(container_runtime)[2],
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node_ip},
                {"type": "Hostname", "address": profile},
            ],
            "allocatable": dict(capacity),
            "capacity": capacity,
            "conditions": [
                {
                    "type": t,
                    "status": s,
                    "reason": r,
                    "message": m,
                    "lastHeartbeatTime": stamp,
                    "lastTransitionTime": stamp,
                }
                for t, s, r, m in conditions
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": [],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": str(uuid.uuid4()),
                "containerRuntimeVersion": container_runtime_version(container_runtime),
                "kernelVersion": "6.1.0-k8s-tutor-sandbox",
                "kubeProxyVersion": "",
                "kubeletVersion": kubernetes_version,
                "machineID": uuid.uuid4().hex,
                "operatingSystem": "linux",
                "osImage": "Ubuntu 22.04.4 LTS",
                "systemUUID": str(uuid.uuid4()),
            },
        },
    }


def _container(name: str, image: str, **extra: Any) -> Obj:
    return {"name": name, "image": image, **extra}


def _static_pod(component: str, profile: str, image: str, owner: Obj, command: list[str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{component}-{profile}",
            "namespace": "kube-system",
            "labels": {"component": component, "tier": "control-plane"},
            "annotations": {
                "kubernetes.io/config.source": "file",
                "kubernetes.io/config.mirror": uuid.uuid4().hex,
            },
            "ownerReferences": [owner_ref(owner, block=False)],
        },
        "spec": {
            "nodeName": profile,
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "priority": 2000001000,
            "automountServiceAccountToken": False,
            "containers": [_container(component, image, command=command)],
        },
    }


def _deployment_coredns() -> Obj:
    labels = {"k8s-app": "kube-dns"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1},
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "coredns",
                    "priorityClassName": "system-cluster-critical",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [
                        _container(
                            "coredns",
                            "registry.k8s.io/coredns/coredns:v1.11.3",
                            args=["-conf", "/etc/coredns/Corefile"],
                            ports=[
                                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
                            ],
                            readinessProbe={"httpGet": {"path": "/ready", "port": 8181}},
                        )
                    ],
                },
            },
        },
    }


def _daemonset_kube_proxy(kubernetes_version: str) -> Obj:
    labels = {"k8s-app": "kube-proxy"}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "kube-proxy",
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [
                        _container(
                            "kube-proxy",
                            f"registry.k8s.io/kube-proxy:{kubernetes_version}",
                            command=[
                                "/usr/local/bin/kube-proxy",
                                "--config=/var/lib/kube-proxy/config.conf",
                            ],
                        )
                    ],
                },
            },
        },
    }


def storage_class_standard() -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STANDARD,
            "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"},
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "k8s.io/minikube-hostpath",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def _create(store: Store, obj: Obj) -> Obj | None:
    try:
        return store.create(obj)
    except ApiError as err:
        if err.code == 409:
            return None
        raise


def install(
    store: Store,
    *,
    profile: str,
    kubernetes_version: str,
    node_ip: str,
    api_port: int,
    container_runtime: str = DEFAULT_RUNTIME,
) -> None:
    """Create a fresh minikube cluster's objects (existing ones are left alone)."""
    now = store.clock()
    for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
        _create(store, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    _create(store, node(profile, kubernetes_version, node_ip, now, container_runtime))
    the_node = store.peek("nodes", "", profile)
    assert the_node is not None
    for name, value in (
        ("system-cluster-critical", 2000000000),
        ("system-node-critical", 2000001000),
    ):
        _create(
            store,
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": name},
                "value": value,
                "globalDefault": False,
                "preemptionPolicy": "PreemptLowerPriority",
                "description": "Used for system critical pods that must not be moved from their current node.",
            },
        )
    for role in ("cluster-admin", "admin", "edit", "view"):
        _create(
            store,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {
                    "name": role,
                    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                },
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}] if role == "cluster-admin" else [],
            },
        )
    for sa in ("coredns", "kube-proxy", "storage-provisioner"):
        _create(
            store,
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": sa, "namespace": "kube-system"},
            },
        )
    for cm, data in (
        (
            "coredns",
            {
                "Corefile": ".:53 {\n    errors\n    health\n    ready\n"
                "    kubernetes cluster.local in-addr.arpa ip6.arpa\n"
                "    forward . /etc/resolv.conf\n    cache 30\n}\n"
            },
        ),
        (
            "kube-proxy",
            {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"},
        ),
        (
            "kubelet-config",
            {"kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"},
        ),
        (
            "kubeadm-config",
            {"ClusterConfiguration": f"kubernetesVersion: {kubernetes_version}\nclusterName: mk\n"},
        ),
    ):
        _create(
            store,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": cm, "namespace": "kube-system"},
                "data": data,
            },
        )
    _create(
        store,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cluster-info", "namespace": "kube-public"},
            "data": {
                "kubeconfig": "apiVersion: v1\nclusters:\n- cluster:\n"
                f"    server: https://control-plane.minikube.internal:{api_port}\n"
                '  name: ""\n'
            },
        },
    )
    for component, image, command in (
        (
            "etcd",
            "registry.k8s.io/etcd:3.5.15-0",
            ["etcd", f"--advertise-client-urls=https://{node_ip}:2379"],
        ),
        (
            "kube-apiserver",
            f"registry.k8s.io/kube-apiserver:{kubernetes_version}",
            ["kube-apiserver", f"--advertise-address={node_ip}"],
        ),
        (
            "kube-controller-manager",
            f"registry.k8s.io/kube-controller-manager:{kubernetes_version}",
            ["kube-controller-manager"],
        ),
        (
            "kube-scheduler",
            f"registry.k8s.io/kube-scheduler:{kubernetes_version}",
            ["kube-scheduler"],
        ),
    ):
        _create(store, _static_pod(component, profile, image, the_node, command))
    _create(
        store,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "storage-provisioner",
                "namespace": "kube-system",
                "labels": {
                    "addonmanager.kubernetes.io/mode": "Reconcile",
                    "integration-test": "storage-provisioner",
                },
            },
            "spec": {
                "serviceAccountName": "storage-provisioner",
                "hostNetwork": True,
                "containers": [
                    _container(
                        "storage-provisioner",
                        "gcr.io/k8s-minikube/storage-provisioner:v5",
                        command=["/storage-provisioner"],
                    )
                ],
            },
        },
    )
    _create(store, _deployment_coredns())
    _create(store, _daemonset_kube_proxy(kubernetes_version))
    _create(
        store,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kube-dns",
                "namespace": "kube-system",
                "labels": {
                    "k8s-app": "kube-dns",
                    "kubernetes.io/cluster-service": "true",
                    "kubernetes.io/name": "CoreDNS",
                },
            },
            "spec": {
                "clusterIP": "127.96.0.10",
                "selector": {"k8s-app": "kube-dns"},
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
                ],
            },
        },
    )
    _create(
        store,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "clusterIP": "127.96.0.1",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}],
            },
        },
    )
    _create(
        store,
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
            },
            "subsets": [
                {
                    "addresses": [{"ip": node_ip}],
                    "ports": [{"name": "https", "port": 8443, "protocol": "TCP"}],
                }
            ],
        },
    )
    _create(store, storage_class_standard())


def mark_standard_default(store: Store) -> None:
    """What ``minikube start`` does with the default-storageclass addon on: ``standard``
    becomes the one default class again, every other class loses the annotation."""
    if store.peek("storageclasses.storage.k8s.io", "", STANDARD) is None:
        _create(store, storage_class_standard())
    for sc in list(store.iter("storageclasses.storage.k8s.io")):
        name = sc["metadata"]["name"]
        wanted = "true" if name == STANDARD else "false"
        annotations = sc["metadata"].get("annotations") or {}
        if name != STANDARD and not any(a in annotations for a in DEFAULT_SC_ANNOTATIONS):
            continue
        if annotations.get(DEFAULT_SC_ANNOTATIONS[0]) == wanted and DEFAULT_SC_ANNOTATIONS[1] not in annotations:
            continue
        patch = {"metadata": {"annotations": {DEFAULT_SC_ANNOTATIONS[0]: wanted, DEFAULT_SC_ANNOTATIONS[1]: None}}}
        store.patch("storageclasses.storage.k8s.io", "", name, patch)
