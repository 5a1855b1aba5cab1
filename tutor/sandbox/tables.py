"""Server-side ``Table`` output: the columns ``kubectl get`` prints.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints whatever
columns the server defines, so these functions are what a learner sees. They follow
the real server's printers (pkg/printers/internalversion) for the kinds the lessons
show; other kinds get NAME and AGE.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tutor.sandbox.admission import is_default_class
from tutor.sandbox.objects import Obj, parse_time
from tutor.sandbox.selectors import selector_from_object

Column = tuple[str, str, int]  # (name, type, priority); priority 1 = only with -o wide
Cells = list[Any]


def human_duration(seconds: float) -> str:
    """kubectl's ``duration.HumanDuration``: 45s, 2m3s, 10m, 3h4m, 2d, 3y."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: float | None = None) -> str:
    ts = parse_time(timestamp)
    if ts is None:
        return "<unknown>"
    return human_duration((now or time.time()) - ts)


def _age(obj: Obj) -> str:
    return since(obj["metadata"].get("creationTimestamp"))


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _containers(pod_spec: Obj) -> tuple[str, str]:
    containers = pod_spec.get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector_text(selector: Obj | None) -> str:
    if not selector:
        return "<none>"
    text = str(selector_from_object(selector))
    return text or "<none>"


# ---- pods ------------------------------------------------------------------------------


def pod_status_reason(pod: Obj) -> tuple[str, int, int, int, str | None]:
    """(STATUS, ready containers, total containers, restarts, last restart time) as kubectl "
    "shows them."""
    spec, status = _spec(pod), _status(pod)
    total = len(spec.get("containers") or [])
    ready = 0
    restarts = 0
    last_restart: str | None = None
    reason = status.get("phase") or "Pending"
    if status.get("reason"):
        reason = status["reason"]
    initializing = False
    init_specs = spec.get("initContainers") or []
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode", 0) == 0:
            continue
        if terminated:
            reason = (
                "Init:" + terminated["reason"]
                if terminated.get("reason")
                else f"Init:ExitCode:{terminated.get('exitCode')}"
            )
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    initialized = any(
        c.get("type") == "Initialized" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    if not initializing or initialized:
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            if finished and (last_restart is None or finished > last_restart):
                last_restart = finished
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = f"ExitCode:{terminated.get('exitCode')}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            ready_cond = any(c.get("type") == "Ready" for c in status.get("conditions") or [])
            reason = "Running" if ready_cond else "NotReady"
    if pod["metadata"].get("deletionTimestamp") and status.get("phase") not in (
        "Succeeded",
        "Failed",
    ):
        reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def _pod_row(pod: Obj) -> Cells:
    reason, ready, total, restarts, last = pod_status_reason(pod)
    restarts_text = str(restarts)
    if restarts and last:
        restarts_text = f"{restarts} ({since(last)} ago)"
    gates = _spec(pod).get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        true = {c.get("type") for c in _status(pod).get("conditions") or [] if c.get("status") == "True"}
        gates_text = f"{sum(1 for g in gates if g.get('conditionType') in true)}/{len(gates)}"
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restarts_text,
        _age(pod),
        _status(pod).get("podIP") or "<none>",
        _spec(pod).get("nodeName") or "<none>",
        _status(pod).get("nominatedNodeName") or "<none>",
        gates_text,
    ]


POD_COLUMNS: list[Column] = [
    ("Name", "string", 0),
    ("Ready", "string", 0),
    ("Status", "string", 0),
    ("Restarts", "string", 0),
    ("Age", "string", 0),
    ("IP", "string", 1),
    ("Node", "string", 1),
    ("Nominated Node", "string", 1),
    ("Readiness Gates", "string", 1),
]

# ---- workloads ---------------------------------------------------------------------------


def _deployment_row(d: Obj) -> Cells:
    spec, status = _spec(d), _status(d)
    names, images = _containers((spec.get("template") or {}).get("spec") or {})
    return [
        d["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        int(status.get("updatedReplicas", 0)),
        int(status.get("availableReplicas", 0)),
        _age(d),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _replicaset_row(rs: Obj) -> Cells:
    spec, status = _spec(rs), _status(rs)
    names, images = _containers((spec.get("template") or {}).get("spec") or {})
    return [
        rs["metadata"]["name"],
        int(spec.get("replicas", 0)),
        int(status.get("replicas", 0)),
        int(status.get("readyReplicas", 0)),
        _age(rs),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _statefulset_row(sts: Obj) -> Cells:
    spec, status = _spec(sts), _status(sts)
    names, images = _containers((spec.get("template") or {}).get("spec") or {})
    return [
        sts["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        _age(sts),
        names,
        images,
    ]


def _daemonset_row(ds: Obj) -> Cells:
    spec, status = _spec(ds), _status(ds)
    template_spec = (spec.get("template") or {}).get("spec") or {}
    names, images = _containers(template_spec)
    selector = template_spec.get("nodeSelector") or {}
    return [
        ds["metadata"]["name"],
        int(status.get("desiredNumberScheduled", 0)),
        int(status.get("currentNumberScheduled", 0)),
        int(status.get("numberReady", 0)),
        int(status.get("updatedNumberScheduled", 0)),
        int(status.get("numberAvailable", 0)),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>",
        _age(ds),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _job_row(job: Obj) -> Cells:
    spec, status = _spec(job), _status(job)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Complete") == "True":
        state = "Complete"
    elif conditions.get("Failed") == "True":
        state = "Failed"
    elif conditions.get("FailureTarget") == "True":
        state = "FailureTarget"
    elif spec.get("suspend"):
        state = "Suspended"
    elif conditions.get("SuccessCriteriaMet") == "True":
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    completions = spec.get("completions")
    succeeded = int(status.get("succeeded", 0))
    done = f"{succeeded}/{completions}" if completions is not None else f"{succeeded}/1 of {spec.get('parallelism', 1)}"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end or time.time()) - start)
    names, images = _containers((spec.get("template") or {}).get("spec") or {})
    return [
        job["metadata"]["name"],
        state,
        done,
        duration,
        _age(job),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


# ---- networking ----------------------------------------------------------------------


def _lb_text(lb: Obj | None, wide: bool = False) -> str:
    entries = []
    for ing in (lb or {}).get("ingress") or []:
        if ing.get("ip"):
            entries.append(ing["ip"])
        elif ing.get("hostname"):
            entries.append(ing["hostname"])
    text = ",".join(entries)
    if not wide and len(text) > 16:
        text = text[:13] + "..."
    return text


def service_external_ip(svc: Obj) -> str:
    spec = _spec(svc)
    kind = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        lb = _lb_text(_status(svc).get("loadBalancer"))
        parts = ([lb] if lb else []) + external
        return ",".join(parts) if parts else "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_row(svc: Obj) -> Cells:
    spec = _spec(svc)
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol", "TCP")
        if p.get("nodePort"):
            ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            ports.append(f"{p.get('port')}/{proto}")
    selector = spec.get("selector") or {}
    return [
        svc["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        service_external_ip(svc),
        ",".join(ports) or "<none>",
        _age(svc),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>",
    ]


def _ingress_row(ing: Obj) -> Cells:
    spec = _spec(ing)
    hosts = [r["host"] for r in spec.get("rules") or [] if r.get("host")]
    cls = spec.get("ingressClassName") or "<none>"
    return [
        ing["metadata"]["name"],
        cls,
        ",".join(hosts) if hosts else "*",
        _lb_text(_status(ing).get("loadBalancer")),
        "80, 443" if spec.get("tls") else "80",
        _age(ing),
    ]


def _endpoints_row(ep: Obj) -> Cells:
    items = []
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for addr in subset.get("addresses") or []:
            for port in ports:
                items.append(f"{addr.get('ip')}:{port.get('port')}" if port.get("port") else str(addr.get("ip")))
    text = ",".join(items[:3]) if items else "<none>"
    if len(items) > 3:
        text += f" + {len(items) - 3} more..."
    return [ep["metadata"]["name"], text, _age(ep)]


# ---- storage -------------------------------------------------------------------------

_MODES = {
    "ReadWriteOnce": "RWO",
    "ReadOnlyMany": "ROX",
    "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}


def _modes(modes: list[str] | None) -> str:
    return ",".join(_MODES.get(m, m) for m in modes or [])


def _pvc_row(pvc: Obj) -> Cells:
    spec, status = _spec(pvc), _status(pvc)
    phase = "Terminating" if pvc["metadata"].get("deletionTimestamp") else status.get("phase", "Pending")
    bound = status.get("phase") == "Bound"
    return [
        pvc["metadata"]["name"],
        phase,
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", "") if bound else "",
        _modes(status.get("accessModes")) if bound else "",
        spec.get("storageClassName", "<unset>"),
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(pvc),
        spec.get("volumeMode", "Filesystem"),
    ]


def _pv_row(pv: Obj) -> Cells:
    spec, status = _spec(pv), _status(pv)
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace')}/{ref.get('name')}" if ref.get("name") else ""
    phase = "Terminating" if pv["metadata"].get("deletionTimestamp") else status.get("phase", "Pending")
    return [
        pv["metadata"]["name"],
        (spec.get("capacity") or {}).get("storage", ""),
        _modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        claim,
        spec.get("storageClassName", ""),
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        _age(pv),
        spec.get("volumeMode", "Filesystem"),
    ]


def _storageclass_row(sc: Obj) -> Cells:
    name = sc["metadata"]["name"]
    if is_default_class(sc):
        name += " (default)"
    return [
        name,
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy", "Delete"),
        sc.get("volumeBindingMode", "Immediate"),
        bool(sc.get("allowVolumeExpansion", False)),
        _age(sc),
    ]


# ---- cluster ---------------------------------------------------------------------------


def _namespace_row(ns: Obj) -> Cells:
    return [ns["metadata"]["name"], _status(ns).get("phase", "Active"), _age(ns)]


def _node_row(node: Obj) -> Cells:
    status = _status(node)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    state = "Ready" if conditions.get("Ready") == "True" else "NotReady"
    if conditions.get("Ready") not in ("True", "False"):
        state = "Unknown"
    if _spec(node).get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = sorted(
        k.split("/", 1)[1] for k in (node["metadata"].get("labels") or {}) if k.startswith("node-role.kubernetes.io/")
    )
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [
        node["metadata"]["name"],
        state,
        ",".join(roles) or "<none>",
        _age(node),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP", "<none>"),
        addresses.get("ExternalIP", "<none>"),
        info.get("osImage", "<unknown>"),
        info.get("kernelVersion", "<unknown>"),
        info.get("containerRuntimeVersion", "<unknown>"),
    ]


def _event_row(ev: Obj) -> Cells:
    involved = ev.get("involvedObject") or {}
    last = ev.get("lastTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp")
    first = ev.get("firstTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp")
    source = ev.get("source") or {}
    source_text = source.get("component", "") + (", " + source["host"] if source.get("host") else "")
    return [
        since(last),
        ev.get("type", ""),
        ev.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        source_text or ev.get("reportingComponent", ""),
        str(ev.get("message", "")).strip(),
        since(first),
        int(ev.get("count") or 1),
        ev["metadata"]["name"],
    ]


def _ingressclass_row(ic: Obj) -> Cells:
    params = _spec(ic).get("parameters")
    params_text = "<none>"
    if params:
        params_text = f"{params.get('kind')}/{params.get('name')}"
    return [ic["metadata"]["name"], _spec(ic).get("controller", ""), params_text, _age(ic)]


def _secret_row(s: Obj) -> Cells:
    return [s["metadata"]["name"], s.get("type", "Opaque"), len(s.get("data") or {}), _age(s)]


def _configmap_row(cm: Obj) -> Cells:
    return [
        cm["metadata"]["name"],
        len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
        _age(cm),
    ]


def _serviceaccount_row(sa: Obj) -> Cells:
    return [sa["metadata"]["name"], len(sa.get("secrets") or []), _age(sa)]


def _created_at_row(obj: Obj) -> Cells:
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp", "")]


def _generic_row(obj: Obj) -> Cells:
    return [obj["metadata"]["name"], _age(obj)]


def _c(*cols: tuple[str, str] | tuple[str, str, int]) -> list[Column]:
    return [(c[0], c[1], c[2] if len(c) == 3 else 0) for c in cols]


_WORKLOAD_WIDE = (("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1))

PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], Cells]]] = {
    "pods": (POD_COLUMNS, _pod_row),
    "deployments.apps": (
        _c(
            ("Name", "string"),
            ("Ready", "string"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
            ("Age", "string"),
            *_WORKLOAD_WIDE,
        ),
        _deployment_row,
    ),
    "replicasets.apps": (
        _c(
            ("Name", "string"),
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Age", "string"),
            *_WORKLOAD_WIDE,
        ),
        _replicaset_row,
    ),
    "statefulsets.apps": (
        _c(
            ("Name", "string"),
            ("Ready", "string"),
            ("Age", "string"),
            ("Containers", "string", 1),
            ("Images", "string", 1),
        ),
        _statefulset_row,
    ),
    "daemonsets.apps": (
        _c(
            ("Name", "string"),
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
            ("Node Selector", "string"),
            ("Age", "string"),
            *_WORKLOAD_WIDE,
        ),
        _daemonset_row,
    ),
    "jobs.batch": (
        _c(
            ("Name", "string"),
            ("Status", "string"),
            ("Completions", "string"),
            ("Duration", "string"),
            ("Age", "string"),
            *_WORKLOAD_WIDE,
        ),
        _job_row,
    ),
    "services": (
        _c(
            ("Name", "string"),
            ("Type", "string"),
            ("Cluster-IP", "string"),
            ("External-IP", "string"),
            ("Port(s)", "string"),
            ("Age", "string"),
            ("Selector", "string", 1),
        ),
        _service_row,
    ),
    "ingresses.networking.k8s.io": (
        _c(
            ("Name", "string"),
            ("Class", "string"),
            ("Hosts", "string"),
            ("Address", "string"),
            ("Ports", "string"),
            ("Age", "string"),
        ),
        _ingress_row,
    ),
    "ingressclasses.networking.k8s.io": (
        _c(
            ("Name", "string"),
            ("Controller", "string"),
            ("Parameters", "string"),
            ("Age", "string"),
        ),
        _ingressclass_row,
    ),
    "endpoints": (
        _c(("Name", "string"), ("Endpoints", "string"), ("Age", "string")),
        _endpoints_row,
    ),
    "persistentvolumeclaims": (
        _c(
            ("Name", "string"),
            ("Status", "string"),
            ("Volume", "string"),
            ("Capacity", "string"),
            ("Access Modes", "string"),
            ("StorageClass", "string"),
            ("VolumeAttributesClass", "string"),
            ("Age", "string"),
            ("VolumeMode", "string", 1),
        ),
        _pvc_row,
    ),
    "persistentvolumes": (
        _c(
            ("Name", "string"),
            ("Capacity", "string"),
            ("Access Modes", "string"),
            ("Reclaim Policy", "string"),
            ("Status", "string"),
            ("Claim", "string"),
            ("StorageClass", "string"),
            ("VolumeAttributesClass", "string"),
            ("Reason", "string"),
            ("Age", "string"),
            ("VolumeMode", "string", 1),
        ),
        _pv_row,
    ),
    "storageclasses.storage.k8s.io": (
        _c(
            ("Name", "string"),
            ("Provisioner", "string"),
            ("ReclaimPolicy", "string"),
            ("VolumeBindingMode", "string"),
            ("AllowVolumeExpansion", "boolean"),
            ("Age", "string"),
        ),
        _storageclass_row,
    ),
    "namespaces": (_c(("Name", "string"), ("Status", "string"), ("Age", "string")), _namespace_row),
    "nodes": (
        _c(
            ("Name", "string"),
            ("Status", "string"),
            ("Roles", "string"),
            ("Age", "string"),
            ("Version", "string"),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ),
        _node_row,
    ),
    "events": (
        _c(
            ("Last Seen", "string"),
            ("Type", "string"),
            ("Reason", "string"),
            ("Object", "string"),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string"),
            ("First Seen", "string", 1),
            ("Count", "integer", 1),
            ("Name", "string", 1),
        ),
        _event_row,
    ),
    "secrets": (
        _c(("Name", "string"), ("Type", "string"), ("Data", "integer"), ("Age", "string")),
        _secret_row,
    ),
    "configmaps": (_c(("Name", "string"), ("Data", "integer"), ("Age", "string")), _configmap_row),
    "serviceaccounts": (
        _c(("Name", "string"), ("Secrets", "integer"), ("Age", "string")),
        _serviceaccount_row,
    ),
}

_CREATED_AT = _c(("Name", "string"), ("Created At", "date"))
for _key in (
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "customresourcedefinitions.apiextensions.k8s.io",
):
    PRINTERS[_key] = (_CREATED_AT, _created_at_row)

_GENERIC = _c(("Name", "string"), ("Age", "string"))


def column_definitions(resource: str) -> list[Obj]:
    columns = PRINTERS.get(resource, (_GENERIC, _generic_row))[0]
    return [
        {
            "name": name,
            "type": kind,
            "format": "name" if name == "Name" else "",
            "description": name,
            "priority": priority,
        }
        for name, kind, priority in columns
    ]


def row(resource: str, obj: Obj, include_object: str = "Metadata") -> Obj:
    printer = PRINTERS.get(resource, (_GENERIC, _generic_row))[1]
    out: Obj = {"cells": printer(obj)}
    if include_object == "Object":
        out["object"] = obj
    elif include_object != "None":
        out["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {}),
        }
    return out


def table(
    resource: str,
    objs: list[Obj],
    resource_version: str,
    *,
    include_object: str = "Metadata",
    with_columns: bool = True,
) -> Obj:
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": column_definitions(resource) if with_columns else [],
        "rows": [row(resource, o, include_object) for o in objs],
    }
