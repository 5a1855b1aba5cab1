"""Defaulting, admission and validation: what the API server does to an object on write.

Applied by the store to every create and update, whoever writes: the API, a controller
or a stand-in. It fills the defaults kubectl and the client expect to read back
(Deployment strategy, pod restartPolicy...), runs the admission plugins the lessons
depend on (DefaultStorageClass, the default IngressClass, Service IP and port
allocation, NamespaceLifecycle is in the store) and rejects obviously broken objects
with a 422 shaped like the real one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Protocol

from tutor.sandbox import errors
from tutor.sandbox.datafiles import load_yaml
from tutor.sandbox.objects import Obj, annotations_of, clone, parse_time, random_suffix
from tutor.sandbox.resources import ResourceType
from tutor.sandbox.selectors import selector_from_object

DEFAULT_SC_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"

SERVICE_CIDR = ipaddress.ip_network("127.96.0.0/16")
POD_CIDR = ipaddress.ip_network("127.244.0.0/16")
NODE_PORTS = range(30000, 32768)

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class StoredObjects(Protocol):
    """What admission reads of the store: the stored objects of one kind."""

    def iter(self, resource: str) -> Iterator[Obj]: ...


WORKLOADS = (
    "deployments.apps",
    "replicasets.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "jobs.batch",
)


def is_default_class(obj: Obj) -> bool:
    ann = annotations_of(obj)
    return any(ann.get(a) == "true" for a in DEFAULT_SC_ANNOTATIONS)


def default_storage_class(store: StoredObjects) -> Obj | None:
    """The default StorageClass: the newest of those marked default (Kubernetes >= 1.26)."""
    defaults = [sc for sc in store.iter("storageclasses.storage.k8s.io") if is_default_class(sc)]
    if not defaults:
        return None
    defaults.sort(key=lambda sc: sc["metadata"]["name"])
    defaults.sort(key=lambda sc: parse_time(sc["metadata"].get("creationTimestamp")) or 0, reverse=True)
    return defaults[0]


def default_ingress_class(store: StoredObjects) -> Obj | None:
    defaults = [
        ic
        for ic in store.iter("ingressclasses.networking.k8s.io")
        if annotations_of(ic).get(DEFAULT_INGRESS_CLASS) == "true"
    ]
    if not defaults:
        return None
    defaults.sort(key=lambda ic: parse_time(ic["metadata"].get("creationTimestamp")) or 0, reverse=True)
    return defaults[0]


@cache
def defaults() -> dict[str, Any]:
    """The API's defaults (``data/defaults.yaml``), read once per process."""
    loaded: dict[str, Any] = load_yaml("defaults.yaml")
    return loaded


def fill(obj: Obj, values: Mapping[str, Any]) -> None:
    """Merge defaults into ``obj`` as the API's defaulting does: a field that is missing or
    null (or an empty string where the default is one) takes the default; a mapping the
    object has is merged field by field; whatever else it has wins."""
    for key, value in values.items():
        current = obj.get(key)
        if current is None or (current == "" and isinstance(value, str)):
            obj[key] = clone(value)
        elif isinstance(value, dict) and isinstance(current, dict):
            fill(current, value)


def image_pull_policy(image: str) -> str:
    """Always for the tag ``latest`` (or none: docker's default tag), else IfNotPresent; a
    reference by digest alone has no tag (SetDefaults_Container)."""
    last = image.rsplit("/", 1)[-1]
    name, _, digest = last.partition("@")
    _repository, _, tag = name.partition(":")
    return "Always" if (tag or ("" if digest else "latest")) == "latest" else "IfNotPresent"


def _default_probe(probe: Obj) -> None:
    fill(probe, defaults()["probe"])
    if isinstance(probe.get("httpGet"), dict):
        fill(probe["httpGet"], defaults()["http_get"])


def default_container(c: Obj) -> None:
    if not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = image_pull_policy(str(c.get("image", "")))
    fill(c, defaults()["container"])
    for port in c.get("ports") or []:
        if not port.get("protocol"):
            port["protocol"] = "TCP"
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(name), dict):
            _default_probe(c[name])
    for env in c.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")


def default_pod_spec(spec: Obj) -> None:
    fill(spec, defaults()["pod_spec"])
    for c in spec.get("initContainers") or []:
        default_container(c)
    for c in spec.get("containers") or []:
        default_container(c)
    for vol in spec.get("volumes") or []:
        if isinstance(vol.get("configMap"), dict):
            vol["configMap"].setdefault("defaultMode", 420)
        if isinstance(vol.get("secret"), dict):
            vol["secret"].setdefault("defaultMode", 420)
        if isinstance(vol.get("hostPath"), dict):
            vol["hostPath"].setdefault("type", "")
    if "serviceAccount" in spec and "serviceAccountName" not in spec:
        spec["serviceAccountName"] = spec["serviceAccount"]


def default_template(template: Obj) -> None:
    template.setdefault("metadata", {})
    spec = template.setdefault("spec", {})
    default_pod_spec(spec)


class Admission:
    """Per-cluster admission state: the allocated Service IPs, node ports and pod IPs."""

    def __init__(self, store: StoredObjects) -> None:
        self.store = store
        self._cluster_ips: set[str] = set()
        self._node_ports: set[int] = set()
        self._next_ip = 1
        self._next_pod_ip = 2
        self._pod_ips: set[str] = set()

    # ---- allocation ----------------------------------------------------------------

    def allocate_cluster_ip(self, wanted: str | None = None) -> str:
        if wanted:
            if wanted in self._cluster_ips:
                raise errors.ApiError(
                    422,
                    "Invalid",
                    'Service "" is invalid: spec.clusterIPs: Invalid value: '
                    f'[]string{{"{wanted}"}}: '
                    f"failed to allocate IP {wanted}: provided IP is already allocated",
                )
            self._cluster_ips.add(wanted)
            return wanted
        size = SERVICE_CIDR.num_addresses - 2
        for _ in range(size):
            candidate = str(SERVICE_CIDR.network_address + self._next_ip)
            self._next_ip = self._next_ip % size + 1
            if candidate not in self._cluster_ips:
                self._cluster_ips.add(candidate)
                return candidate
        raise errors.ApiError(500, "InternalError", "no Service IP left in 127.96.0.0/16")

    def allocate_node_port(self, wanted: int | None = None) -> int:
        if wanted:
            if wanted in self._node_ports:
                raise errors.ApiError(
                    422,
                    "Invalid",
                    f'Service "" is invalid: spec.ports[0].nodePort: Invalid value: {wanted}: '
                    "provided port is already allocated",
                )
            self._node_ports.add(wanted)
            return wanted
        import random

        for _ in range(len(NODE_PORTS)):
            candidate = random.choice(NODE_PORTS)
            if candidate not in self._node_ports:
                self._node_ports.add(candidate)
                return candidate
        raise errors.ApiError(500, "InternalError", "no node port left")

    def allocate_pod_ip(self) -> str:
        size = POD_CIDR.num_addresses - 2
        for _ in range(size):
            candidate = str(POD_CIDR.network_address + self._next_pod_ip)
            self._next_pod_ip = self._next_pod_ip % size + 1
            if candidate not in self._pod_ips:
                self._pod_ips.add(candidate)
                return candidate
        raise errors.ApiError(500, "InternalError", "no pod IP left in 127.244.0.0/16")

    def release_pod_ip(self, ip: str) -> None:
        self._pod_ips.discard(ip)

    # ---- hooks the store calls ---------------------------------------------------

    def on_create(self, rt: ResourceType, obj: Obj) -> None:
        self._validate_meta(rt, obj)
        if rt.custom:
            return
        fill(obj, defaults()["kinds"].get(rt.key, {}))
        hook = getattr(self, "_create_" + rt.key.split(".", 1)[0].replace("-", "_"), None)
        if hook is not None:
            hook(obj)
        self._validate(rt, obj, None)

    def on_update(self, rt: ResourceType, old: Obj, new: Obj, subresource: str | None) -> None:
        if subresource == "status":
            return
        if rt.custom:
            return
        fill(new, defaults()["kinds"].get(rt.key, {}))
        hook = getattr(self, "_update_" + rt.key.split(".", 1)[0], None)
        if hook is not None:
            hook(old, new)
        self._validate(rt, new, old)

    def on_removed(self, rt: ResourceType, obj: Obj) -> None:
        if rt.key == "services":
            spec = obj.get("spec") or {}
            for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
                self._cluster_ips.discard(ip or "")
            for port in spec.get("ports") or []:
                if port.get("nodePort"):
                    self._node_ports.discard(int(port["nodePort"]))
        elif rt.key == "pods":
            self.release_pod_ip(str((obj.get("status") or {}).get("podIP") or ""))

    # ---- validation ------------------------------------------------------------------

    def _validate_meta(self, rt: ResourceType, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        pattern = _DNS_LABEL if rt.key in ("namespaces", "services") else _DNS_SUBDOMAIN
        if (rt.key in ("namespaces", "services") and len(name) > 63) or not pattern.fullmatch(name):
            what = "RFC 1123 label" if pattern is _DNS_LABEL else "RFC 1123 subdomain"
            raise errors.invalid(
                rt.kind,
                rt.group,
                name,
                [
                    (
                        "metadata.name",
                        f'Invalid value: "{name}": a lowercase {what} must consist of lower case '
                        "alphanumeric characters, '-' or '.', and must start and end with an "
                        "alphanumeric character",
                    )
                ],
            )

    def _validate(self, rt: ResourceType, obj: Obj, old: Obj | None) -> None:
        causes: list[tuple[str, str]] = []
        spec = obj.get("spec") or {}
        if rt.key in WORKLOADS:
            template = spec.get("template") or {}
            selector = spec.get("selector")
            labels = (template.get("metadata") or {}).get("labels") or {}
            if selector is None and rt.key != "jobs.batch":
                causes.append(("spec.selector", "Required value"))
            elif selector is not None:
                try:
                    matches = selector_from_object(selector).matches(labels)
                except errors.ApiError as exc:
                    causes.append(("spec.selector", f"Invalid value: {exc.message}"))
                    matches = True
                if not (selector.get("matchLabels") or selector.get("matchExpressions")):
                    causes.append(("spec.selector", "Invalid value: empty selector is invalid for deployment"))
                elif not matches:
                    rendered = "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"
                    causes.append(
                        (
                            "spec.template.metadata.labels",
                            f"Invalid value: {rendered}: `selector` does not match template `labels`",
                        )
                    )
            causes += _container_causes((template.get("spec") or {}), "spec.template.spec")
            if rt.key == "jobs.batch":
                causes += _job_restart_causes(template, "spec.template.spec")
            if (
                old is not None
                and rt.key
                in (
                    "deployments.apps",
                    "replicasets.apps",
                    "statefulsets.apps",
                    "daemonsets.apps",
                )
                and (old.get("spec") or {}).get("selector") != selector
            ):
                causes.append(("spec.selector", "Invalid value: field is immutable"))
            if old is not None and rt.key == "statefulsets.apps":
                mutable_fields = (
                    "replicas",
                    "ordinals",
                    "template",
                    "updateStrategy",
                    "persistentVolumeClaimRetentionPolicy",
                    "minReadySeconds",
                )
                a = {k: v for k, v in (old.get("spec") or {}).items() if k not in mutable_fields}
                b = {k: v for k, v in spec.items() if k not in mutable_fields}
                if a != b:
                    causes.append(
                        (
                            "spec",
                            "Forbidden: updates to statefulset spec for fields other than "
                            "'replicas', "
                            "'ordinals', 'template', 'updateStrategy', "
                            "'persistentVolumeClaimRetentionPolicy' "
                            "and 'minReadySeconds' are forbidden",
                        )
                    )
            replicas = spec.get("replicas")
            if isinstance(replicas, int) and replicas < 0:
                causes.append(
                    (
                        "spec.replicas",
                        f"Invalid value: {replicas}: must be greater than or equal to 0",
                    )
                )
        elif rt.key == "pods":
            causes += _container_causes(spec, "spec")
        elif rt.key == "cronjobs.batch":
            template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
            causes += _container_causes(template.get("spec") or {}, "spec.jobTemplate.spec.template.spec")
            causes += _job_restart_causes(template, "spec.jobTemplate.spec.template.spec")
        elif rt.key == "persistentvolumeclaims":
            if not spec.get("accessModes"):
                causes.append(("spec.accessModes", "Required value: at least 1 access mode is required"))
            if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
                causes.append(("spec.resources[storage]", "Required value"))
            if old is not None:
                before = dict(old.get("spec") or {})
                after = dict(spec)
                for mutable in ("resources", "volumeAttributesClassName"):
                    before.pop(mutable, None)
                    after.pop(mutable, None)
                # The binder and retroactive default-class assignment fill these once.
                for once in ("volumeName", "storageClassName"):
                    if not before.get(once):
                        before.pop(once, None)
                        after.pop(once, None)
                if before != after:
                    causes.append(
                        (
                            "spec",
                            "Forbidden: spec is immutable after creation except resources.requests "
                            "and volumeAttributesClassName for bound claims",
                        )
                    )
        elif rt.key == "services":
            if not spec.get("ports") and spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
                causes.append(("spec.ports", "Required value"))
            if old is not None:
                before_ip = (old.get("spec") or {}).get("clusterIP")
                if spec.get("clusterIP") not in (None, "", before_ip):
                    causes.append(("spec.clusterIPs[0]", "Invalid value: field is immutable"))
        if causes:
            raise errors.invalid(rt.kind, rt.group, obj["metadata"]["name"], causes)

    # ---- defaults per kind ---------------------------------------------------------

    def _create_namespaces(self, obj: Obj) -> None:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]

    def _update_namespaces(self, old: Obj, new: Obj) -> None:
        new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = new["metadata"]["name"]
        new.setdefault("spec", {}).setdefault("finalizers", (old.get("spec") or {}).get("finalizers", []))

    def _create_secrets(self, obj: Obj) -> None:
        import base64

        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()

    def _update_secrets(self, old: Obj, new: Obj) -> None:
        self._create_secrets(new)

    def _create_pods(self, obj: Obj) -> None:
        fill(obj, defaults()["pod"])
        spec = obj["spec"]
        default_pod_spec(spec)
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            _requests_from_limits(c)
        spec.setdefault("serviceAccountName", "default")
        spec["serviceAccount"] = spec["serviceAccountName"]
        tolerations = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tolerations):
                tolerations.append(
                    {
                        "key": key,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": 300,
                    }
                )
        if spec.get("automountServiceAccountToken", True):
            volume = "kube-api-access-" + random_suffix()
            spec.setdefault("volumes", []).append(
                {
                    "name": volume,
                    "projected": {
                        "defaultMode": 420,
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                            {
                                "downwardAPI": {
                                    "items": [
                                        {
                                            "path": "namespace",
                                            "fieldRef": {
                                                "apiVersion": "v1",
                                                "fieldPath": "metadata.namespace",
                                            },
                                        }
                                    ]
                                }
                            },
                        ],
                    },
                }
            )
            for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
                c.setdefault("volumeMounts", []).append(
                    {
                        "name": volume,
                        "readOnly": True,
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    }
                )
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", _qos_class(spec))

    def _update_pods(self, old: Obj, new: Obj) -> None:
        default_pod_spec(new.setdefault("spec", {}))
        before, after = clone(old.get("spec") or {}), clone(new["spec"])
        for spec in (before, after):
            for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
                c.pop("image", None)
            spec.pop("activeDeadlineSeconds", None)
            spec.pop("tolerations", None)
            if not before.get("nodeName"):
                spec.pop("nodeName", None)
        if before != after:
            raise errors.invalid(
                "Pod",
                "",
                new["metadata"]["name"],
                [
                    (
                        "spec",
                        "Forbidden: pod updates may not change fields other than "
                        "`spec.containers[*].image`,"
                        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                        "`spec.tolerations` "
                        "(only additions to existing "
                        "tolerations),`spec.terminationGracePeriodSeconds` "
                        "(allow it to be set to 1 if it was previously negative)",
                    )
                ],
            )

    def _create_services(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        kind = spec["type"]
        _session_affinity(spec)
        if kind != "ExternalName":
            if spec.get("clusterIP") == "None":
                spec["clusterIPs"] = ["None"]
            else:
                ip = self.allocate_cluster_ip(spec.get("clusterIP") or None)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            if kind in ("NodePort", "LoadBalancer"):
                port["nodePort"] = self.allocate_node_port(port.get("nodePort"))
        if kind in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if kind == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        obj.setdefault("status", {}).setdefault("loadBalancer", {})

    def _update_services(self, old: Obj, new: Obj) -> None:
        before = old.get("spec") or {}
        spec = new.setdefault("spec", {})
        kind = spec["type"]
        _session_affinity(spec)
        if kind != "ExternalName":
            spec.setdefault("clusterIP", before.get("clusterIP"))
            spec.setdefault("clusterIPs", before.get("clusterIPs"))
            for k in ("ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
                if k in before:
                    spec.setdefault(k, before[k])
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in before.get("ports") or []}
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            if kind in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
                previous = old_ports.get((port.get("port"), port["protocol"]), {}).get("nodePort")
                port["nodePort"] = previous or self.allocate_node_port()
        if kind in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", before.get("externalTrafficPolicy", "Cluster"))
        if kind == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)

    def _create_persistentvolumeclaims(self, obj: Obj) -> None:
        spec = obj["spec"]
        if "storageClassName" not in spec:
            default = default_storage_class(self.store)
            if default is not None:
                spec["storageClassName"] = default["metadata"]["name"]
        obj.setdefault("status", {}).setdefault("phase", "Pending")
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if "kubernetes.io/pvc-protection" not in finalizers:
            finalizers.append("kubernetes.io/pvc-protection")

    def _create_persistentvolumes(self, obj: Obj) -> None:
        obj.setdefault("status", {}).setdefault("phase", "Pending")
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if "kubernetes.io/pv-protection" not in finalizers:
            finalizers.append("kubernetes.io/pv-protection")

    def _create_ingresses(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not spec.get("ingressClassName") and "kubernetes.io/ingress.class" not in annotations_of(obj):
            default = default_ingress_class(self.store)
            if default is not None:
                spec["ingressClassName"] = default["metadata"]["name"]
        obj.setdefault("status", {}).setdefault("loadBalancer", {})

    def _create_deployments(self, obj: Obj) -> None:
        spec = obj["spec"]
        strategy = spec["strategy"]
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")
        default_template(spec.setdefault("template", {}))

    def _update_deployments(self, old: Obj, new: Obj) -> None:
        self._create_deployments(new)

    def _create_replicasets(self, obj: Obj) -> None:
        default_template(obj["spec"].setdefault("template", {}))

    def _update_replicasets(self, old: Obj, new: Obj) -> None:
        self._create_replicasets(new)

    def _create_statefulsets(self, obj: Obj) -> None:
        spec = obj["spec"]
        strategy = spec["updateStrategy"]
        if strategy["type"] == "RollingUpdate":
            fill(strategy, {"rollingUpdate": {"partition": 0}})
        # volumeClaimTemplates stay as written: the real server defaults fields inside
        # them, which makes every later `kubectl apply` of the manifest report
        # "configured"; the lessons teach that a second apply is "unchanged".
        default_template(spec.setdefault("template", {}))

    def _update_statefulsets(self, old: Obj, new: Obj) -> None:
        self._create_statefulsets(new)

    def _create_daemonsets(self, obj: Obj) -> None:
        spec = obj["spec"]
        strategy = spec["updateStrategy"]
        if strategy["type"] == "RollingUpdate":
            fill(strategy, {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        default_template(spec.setdefault("template", {}))

    def _update_daemonsets(self, old: Obj, new: Obj) -> None:
        self._create_daemonsets(new)

    def _create_jobs(self, obj: Obj) -> None:
        spec = obj["spec"]
        # SetDefaults_Job: one completion for a Job that names neither; a parallel one
        # without completions runs until a pod succeeds.
        if spec.get("completions") is None and spec.get("parallelism") is None:
            spec["completions"] = 1
        if spec.get("parallelism") is None:
            spec["parallelism"] = 1
        if spec.get("podReplacementPolicy") is None:
            spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"
        template = spec.setdefault("template", {})
        default_template(template)
        if not spec.get("manualSelector") and "selector" not in spec:
            uid = obj["metadata"]["uid"]
            spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
            labels = template["metadata"].setdefault("labels", {})
            labels["batch.kubernetes.io/controller-uid"] = uid
            labels["controller-uid"] = uid
            labels["batch.kubernetes.io/job-name"] = obj["metadata"]["name"]
            labels["job-name"] = obj["metadata"]["name"]
        # A Job without labels of its own gets its pods' (read back through the defaults).
        labels = (template.get("metadata") or {}).get("labels")
        if labels and not obj["metadata"].get("labels"):
            obj["metadata"]["labels"] = dict(labels)

    def _update_jobs(self, old: Obj, new: Obj) -> None:
        spec = new.setdefault("spec", {})
        before = old.get("spec") or {}
        for k in (
            "selector",
            "parallelism",
            "completions",
            "backoffLimit",
            "completionMode",
            "suspend",
            "podReplacementPolicy",
        ):
            if k not in spec and k in before:
                spec[k] = clone(before[k])
        if "template" not in spec and "template" in before:
            spec["template"] = clone(before["template"])
        default_template(spec.setdefault("template", {}))

    def _create_cronjobs(self, obj: Obj) -> None:
        job_template = obj["spec"].setdefault("jobTemplate", {})
        default_template(job_template.setdefault("spec", {}).setdefault("template", {}))

    def _update_cronjobs(self, old: Obj, new: Obj) -> None:
        self._create_cronjobs(new)

    def _create_networkpolicies(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for port in rule.get("ports") or []:
                if not port.get("protocol"):
                    port["protocol"] = "TCP"
        if not spec.get("policyTypes"):
            # SetDefaults_NetworkPolicy: Ingress always, Egress when it has egress rules.
            spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]

    def _update_networkpolicies(self, old: Obj, new: Obj) -> None:
        self._create_networkpolicies(new)

    def _create_rolebindings(self, obj: Obj) -> None:
        for subject in obj.get("subjects") or []:
            if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
                # SetDefaults_Subject: users and groups are RBAC's (service accounts: core, "").
                subject["apiGroup"] = "rbac.authorization.k8s.io"

    def _update_rolebindings(self, old: Obj, new: Obj) -> None:
        self._create_rolebindings(new)

    _create_clusterrolebindings = _create_rolebindings
    _update_clusterrolebindings = _update_rolebindings

    def _create_customresourcedefinitions(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        names = spec.setdefault("names", {})
        names.setdefault("singular", str(names.get("kind", "")).lower())
        names.setdefault("listKind", f"{names.get('kind', '')}List")
        spec.setdefault("conversion", {"strategy": "None"})
        obj.setdefault("status", {})


def _job_restart_causes(template: Obj, prefix: str) -> list[tuple[str, str]]:
    """A Job's pods must not restart forever: the template's restartPolicy (defaulted to
    Always when left out) is OnFailure or Never."""
    policy = (template.get("spec") or {}).get("restartPolicy")
    if policy in ("OnFailure", "Never"):
        return []
    return [(f"{prefix}.restartPolicy", f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"')]


def _requests_from_limits(container: Obj) -> None:
    """A Pod's container with limits but no request for them requests its limits
    (SetDefaults_Pod; templates keep theirs as written)."""
    resources = container.get("resources")
    limits = resources.get("limits") if isinstance(resources, dict) else None
    if not isinstance(limits, dict) or not limits:
        return
    assert isinstance(resources, dict)
    requests = resources.get("requests")
    if not isinstance(requests, dict):
        requests = resources["requests"] = {}
    for name, value in limits.items():
        requests.setdefault(name, value)


def _session_affinity(spec: Obj) -> None:
    """ClientIP affinity lasts three hours unless said otherwise (SetDefaults_Service)."""
    if spec.get("sessionAffinity") == "ClientIP":
        fill(spec, {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}})
    else:
        spec.pop("sessionAffinityConfig", None)


def _container_causes(pod_spec: Obj, prefix: str) -> list[tuple[str, str]]:
    causes: list[tuple[str, str]] = []
    containers = pod_spec.get("containers") or []
    if not containers:
        causes.append((f"{prefix}.containers", "Required value"))
    for field in ("initContainers", "containers"):
        for i, c in enumerate(pod_spec.get(field) or []):
            if not c.get("name"):
                causes.append((f"{prefix}.{field}[{i}].name", "Required value"))
            if not c.get("image"):
                causes.append((f"{prefix}.{field}[{i}].image", "Required value"))
    return causes


def _qos_class(spec: Obj) -> str:
    requests_or_limits: list[Any] = []
    guaranteed = True
    for c in spec.get("containers") or []:
        resources = c.get("resources") or {}
        requests_or_limits += list((resources.get("requests") or {}).items())
        requests_or_limits += list((resources.get("limits") or {}).items())
        limits = resources.get("limits") or {}
        if not (limits.get("cpu") and limits.get("memory")):
            guaranteed = False
    if not requests_or_limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
