"""The resource types the sandbox serves: what discovery lists and what the store keeps.

A resource type is named by its *key*, the form kubectl prints and accepts:
``pods``, ``deployments.apps``, ``storageclasses.storage.k8s.io``. The store, the
controllers and the tests address objects by that key. Custom resources join the
registry when their CustomResourceDefinition is established.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")
CREATE_ONLY = ("create",)


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    has_status: bool = False
    has_scale: bool = False
    # Where the scale subresource reads the replica count, for workload kinds.
    custom: bool = False
    extra_subresources: tuple[str, ...] = field(default=())
    #: Served in discovery but not simulated: every request gets this refusal (refusals.py).
    refusal: str = ""

    @property
    def key(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"


def _core(
    plural: str,
    kind: str,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    *,
    categories: tuple[str, ...] = (),
    status: bool = False,
    scale: bool = False,
    verbs: tuple[str, ...] = ALL_VERBS,
    extra: tuple[str, ...] = (),
) -> ResourceType:
    return ResourceType(
        "",
        "v1",
        plural,
        kind.lower(),
        kind,
        namespaced,
        short,
        categories,
        verbs,
        status,
        scale,
        extra_subresources=extra,
    )


def _grp(
    group: str,
    plural: str,
    kind: str,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    *,
    version: str = "v1",
    categories: tuple[str, ...] = (),
    status: bool = False,
    scale: bool = False,
    verbs: tuple[str, ...] = ALL_VERBS,
) -> ResourceType:
    return ResourceType(
        group,
        version,
        plural,
        kind.lower(),
        kind,
        namespaced,
        short,
        categories,
        verbs,
        status,
        scale,
    )


ALL = ("all",)

BUILTIN: tuple[ResourceType, ...] = (
    _core("configmaps", "ConfigMap", short=("cm",)),
    _core("endpoints", "Endpoints", short=("ep",)),
    _core("events", "Event", short=("ev",)),
    _core("limitranges", "LimitRange", short=("limits",)),
    _core("namespaces", "Namespace", False, ("ns",), status=True, extra=("finalize",)),
    _core("nodes", "Node", False, ("no",), status=True, extra=("proxy",)),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), status=True),
    _core("persistentvolumes", "PersistentVolume", False, ("pv",), status=True),
    _core(
        "pods",
        "Pod",
        short=("po",),
        categories=ALL,
        status=True,
        extra=("log", "eviction", "binding", "exec", "attach", "portforward", "proxy", "ephemeralcontainers"),
    ),
    _core("podtemplates", "PodTemplate"),
    _core(
        "replicationcontrollers",
        "ReplicationController",
        short=("rc",),
        categories=ALL,
        status=True,
        scale=True,
    ),
    _core("resourcequotas", "ResourceQuota", short=("quota",), status=True),
    _core("secrets", "Secret"),
    _core("serviceaccounts", "ServiceAccount", short=("sa",), extra=("token",)),
    _core("services", "Service", short=("svc",), categories=ALL, status=True, extra=("proxy",)),
    _grp("apps", "controllerrevisions", "ControllerRevision"),
    _grp("apps", "daemonsets", "DaemonSet", short=("ds",), categories=ALL, status=True),
    _grp(
        "apps",
        "deployments",
        "Deployment",
        short=("deploy",),
        categories=ALL,
        status=True,
        scale=True,
    ),
    _grp("apps", "replicasets", "ReplicaSet", short=("rs",), categories=ALL, status=True, scale=True),
    _grp(
        "apps",
        "statefulsets",
        "StatefulSet",
        short=("sts",),
        categories=ALL,
        status=True,
        scale=True,
    ),
    _grp(
        "autoscaling",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        categories=ALL,
        status=True,
    ),
    _grp("batch", "cronjobs", "CronJob", short=("cj",), categories=ALL, status=True),
    _grp("batch", "jobs", "Job", categories=ALL, status=True),
    _grp("coordination.k8s.io", "leases", "Lease"),
    _grp("discovery.k8s.io", "endpointslices", "EndpointSlice"),
    _grp("networking.k8s.io", "ingressclasses", "IngressClass", False),
    _grp("networking.k8s.io", "ingresses", "Ingress", short=("ing",), status=True),
    _grp("networking.k8s.io", "networkpolicies", "NetworkPolicy", short=("netpol",)),
    _grp("policy", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), status=True),
    _grp("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", False),
    _grp("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", False),
    _grp("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
    _grp("rbac.authorization.k8s.io", "roles", "Role"),
    _grp("scheduling.k8s.io", "priorityclasses", "PriorityClass", False, ("pc",)),
    _grp("storage.k8s.io", "csidrivers", "CSIDriver", False),
    _grp("storage.k8s.io", "csinodes", "CSINode", False),
    _grp("storage.k8s.io", "csistoragecapacities", "CSIStorageCapacity"),
    _grp("storage.k8s.io", "storageclasses", "StorageClass", False, ("sc",)),
    _grp("storage.k8s.io", "volumeattachments", "VolumeAttachment", False, status=True),
    _grp(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        status=True,
    ),
    # Questions and token reviews: created, answered, never stored (reviews.py).
    _grp("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", False, verbs=CREATE_ONLY),
    _grp("authentication.k8s.io", "tokenreviews", "TokenReview", False, verbs=CREATE_ONLY),
    _grp("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", verbs=CREATE_ONLY),
    _grp("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, verbs=CREATE_ONLY),
    _grp("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False, verbs=CREATE_ONLY),
    _grp("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", False, verbs=CREATE_ONLY),
    # metrics-server's API, so that `kubectl top` hears why there are no figures.
    ResourceType("metrics.k8s.io", "v1beta1", "pods", "", "PodMetrics", True, verbs=("get", "list"), refusal="metrics"),
    ResourceType(
        "metrics.k8s.io", "v1beta1", "nodes", "", "NodeMetrics", False, verbs=("get", "list"), refusal="metrics"
    ),
    _grp(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
    ),
    _grp(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
    ),
    # Kinds a real cluster (minikube, Kubernetes 1.31) serves that nothing in the sandbox
    # makes or acts on: named in discovery, so kubectl knows them, and refused with the
    # sandbox's limit rather than "the server doesn't have a resource type".
    *(
        ResourceType(group, "v1", plural, "", kind, False, short, verbs=verbs, refusal="unmodelled")
        for group, plural, kind, short, verbs in (
            ("", "componentstatuses", "ComponentStatus", ("cs",), ("get", "list")),
            ("certificates.k8s.io", "certificatesigningrequests", "CertificateSigningRequest", ("csr",), ALL_VERBS),
            ("node.k8s.io", "runtimeclasses", "RuntimeClass", (), ALL_VERBS),
            ("apiregistration.k8s.io", "apiservices", "APIService", (), ALL_VERBS),
            ("flowcontrol.apiserver.k8s.io", "flowschemas", "FlowSchema", (), ALL_VERBS),
            (
                "flowcontrol.apiserver.k8s.io",
                "prioritylevelconfigurations",
                "PriorityLevelConfiguration",
                (),
                ALL_VERBS,
            ),
            ("admissionregistration.k8s.io", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", (), ALL_VERBS),
            (
                "admissionregistration.k8s.io",
                "validatingadmissionpolicybindings",
                "ValidatingAdmissionPolicyBinding",
                (),
                ALL_VERBS,
            ),
        )
    ),
)

# The order of /apis: kubectl resolves a short or plural name to the first group
# that has it, as it does against a real server (core first, then these).
GROUP_ORDER = (
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
)


class Registry:
    """The resource types served now. Thread-safe; custom resources come and go."""

    def __init__(self, types: tuple[ResourceType, ...] = BUILTIN) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, ResourceType] = {}
        # Every served version of a group's resource, for CRDs with several.
        self._by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        for rt in types:
            self._add(rt)

    def _add(self, rt: ResourceType) -> None:
        self._by_key[rt.key] = rt
        self._by_gvr[(rt.group, rt.version, rt.plural)] = rt
        self._by_kind[(rt.group, rt.kind)] = rt

    def add(self, rt: ResourceType, *, extra_versions: tuple[str, ...] = ()) -> None:
        """Serve a (custom) resource type; ``extra_versions`` are served as aliases."""
        with self._lock:
            self._add(rt)
            for version in extra_versions:
                self._by_gvr[(rt.group, version, rt.plural)] = rt

    def remove(self, key: str) -> None:
        with self._lock:
            rt = self._by_key.pop(key, None)
            if rt is None:
                return
            for gvr in [g for g, t in self._by_gvr.items() if t.key == key]:
                del self._by_gvr[gvr]
            self._by_kind.pop((rt.group, rt.kind), None)

    def get(self, key: str) -> ResourceType | None:
        return self._by_key.get(key)

    def require(self, key: str) -> ResourceType:
        rt = self._by_key.get(key)
        if rt is None:
            raise KeyError(f"unknown resource {key!r}; known: {sorted(self._by_key)}")
        return rt

    def by_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_gvr.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group = api_version.rpartition("/")[0]
        return self._by_kind.get((group, kind))

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._by_key.values())

    def versions_of_group(self, group: str) -> list[str]:
        with self._lock:
            versions = {v for (g, v, _p) in self._by_gvr if g == group}
        return sorted(versions, key=_version_priority)

    def resources_in(self, group: str, version: str) -> list[ResourceType]:
        with self._lock:
            return [rt for (g, v, _p), rt in self._by_gvr.items() if g == group and v == version]

    def groups(self) -> list[str]:
        with self._lock:
            present = {g for (g, _v, _p) in self._by_gvr if g}
        known = [g for g in GROUP_ORDER if g in present]
        return known + sorted(present - set(known))


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version order: GA before beta before alpha, higher numbers first."""
    import re

    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, 0, 0)
    major = int(m.group(1))
    stage = {"": 0, "beta": 1, "alpha": 2}[m.group(2) or ""]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor)
