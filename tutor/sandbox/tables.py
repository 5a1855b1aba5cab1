"""Server-side ``Table`` output: the columns ``kubectl get`` prints.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints whatever
columns the server defines, so these are what a learner sees. The columns of every kind
are data, ``data/tables.yaml`` (the real server's printers, pkg/printers/internalversion):
each names its cell, either a generic reading (a path with a default, a count, a time
since, containers, a selector...) or one of the printers below, for the cells the real
server computes (a pod's status, a Job's completions, a Service's ports...). A custom
resource gets its CRD's ``additionalPrinterColumns``, or Name and Age.

Ages (AGE, LAST SEEN, a Job's DURATION...) count to ``now``, the cluster's clock, which
also wrote the timestamps: a test that moves a ManualClock sees the ages a learner would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from tutor.sandbox.admission import is_default_class
from tutor.sandbox.objects import Obj, parse_time
from tutor.sandbox.selectors import selector_from_object

Cells = list[Any]
Cell = Callable[[Obj, float], Any]
"""A column's cell: the object and the cluster's time now."""


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


def since(timestamp: str | None, now: float) -> str:
    ts = parse_time(timestamp)
    if ts is None:
        return "<unknown>"
    return human_duration(now - ts)


def _dig(obj: Any, path: str) -> Any:
    """The value at a dotted path, or None."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _age(obj: Obj, now: float) -> str:
    return since(obj["metadata"].get("creationTimestamp"), now)


def _label_text(labels: Any) -> str:
    """labels.FormatLabels: sorted k=v pairs, <none> when empty."""
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _selector_text(selector: Any) -> str:
    """metav1.FormatLabelSelector: <none> for no selector or an empty one."""
    if not isinstance(selector, dict) or not selector:
        return "<none>"
    return str(selector_from_object(selector)) or "<none>"


def _containers(pod_spec: Any) -> list[Obj]:
    return [c for c in (pod_spec or {}).get("containers") or [] if isinstance(c, dict)]


def _more(items: list[str], limit: int, total: int, empty: str) -> str:
    """A list cut at ``limit`` with " + N more...", as the printers write long lists."""
    text = ",".join(items[:limit])
    if total > limit:
        return f"{text} + {total - limit} more..."
    return text or empty


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


# ---- printers: the cells the real server computes ------------------------------------------


def _pod_ready(pod: Obj) -> str:
    _reason, ready, total, _restarts, _last = pod_status_reason(pod)
    return f"{ready}/{total}"


def _pod_restarts(pod: Obj, now: float) -> str:
    _reason, _ready, _total, restarts, last = pod_status_reason(pod)
    return f"{restarts} ({since(last, now)} ago)" if restarts and last else str(restarts)


def _pod_readiness_gates(pod: Obj) -> str:
    gates = _spec(pod).get("readinessGates") or []
    if not gates:
        return "<none>"
    true = {c.get("type") for c in _status(pod).get("conditions") or [] if c.get("status") == "True"}
    return f"{sum(1 for g in gates if g.get('conditionType') in true)}/{len(gates)}"


def _job_condition(job: Obj, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in _status(job).get("conditions") or [])


def _job_status(job: Obj) -> str:
    if _job_condition(job, "Complete"):
        return "Complete"
    if _job_condition(job, "Failed"):
        return "Failed"
    if job["metadata"].get("deletionTimestamp"):
        return "Terminating"
    if _job_condition(job, "Suspended"):
        return "Suspended"
    if _job_condition(job, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _job_completions(job: Obj) -> str:
    succeeded = int(_status(job).get("succeeded") or 0)
    completions = _spec(job).get("completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = int(_spec(job).get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Obj, now: float) -> str:
    start, end = parse_time(_status(job).get("startTime")), parse_time(_status(job).get("completionTime"))
    return "" if start is None else human_duration((now if end is None else end) - start)


def _controller_of(obj: Obj) -> str:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = str(ref.get("kind", "")).lower() + (f".{group}" if group else "")
            return f"{kind}/{ref.get('name', '')}"
    return "<none>"


def _hpa_targets(hpa: Obj) -> str:
    target = _spec(hpa).get("targetCPUUtilizationPercentage")
    if target is None:
        return "<none>"
    current = _status(hpa).get("currentCPUUtilizationPercentage")
    return f"cpu: {'<unknown>' if current is None else f'{current}%'}/{target}%"


def _lb_text(lb: Any, wide: bool = False) -> str:
    entries = sorted(
        {
            str(i.get("ip") or i.get("hostname"))
            for i in (lb or {}).get("ingress") or []
            if i.get("ip") or i.get("hostname")
        }
    )
    text = ",".join(entries)
    return text if wide or len(text) <= 16 else text[:13] + "..."


def _service_cluster_ip(svc: Obj) -> str:
    ips = _spec(svc).get("clusterIPs") or ([_spec(svc)["clusterIP"]] if _spec(svc).get("clusterIP") else [])
    return str(ips[0]) if ips else "<none>"


def _service_external_ip(svc: Obj) -> str:
    spec = _spec(svc)
    kind = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        lb = _lb_text(_status(svc).get("loadBalancer"))
        parts = (lb.split(",") if lb else []) + external
        return ",".join(parts) if parts else "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_ports(svc: Obj) -> str:
    ports = []
    for p in _spec(svc).get("ports") or []:
        proto = p.get("protocol", "TCP")
        ports.append(f"{p.get('port')}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p.get('port')}/{proto}")
    return ",".join(ports) or "<none>"


def _endpoints(ep: Obj) -> str:
    items: list[str] = []
    total = 0
    for subset in ep.get("subsets") or []:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        for port in ports or [None]:
            total += len(addresses)
            for addr in addresses:
                items.append(f"{addr.get('ip')}:{port.get('port')}" if port else str(addr.get("ip")))
    return _more(items, 3, total, "<none>")


def _endpointslice_ports(slice_: Obj) -> str:
    ports = slice_.get("ports") or []
    names = [str(p["port"]) if p.get("port") is not None else str(p.get("name") or "*") for p in ports]
    return _more(names, 3, len(names), "<unset>")


def _endpointslice_endpoints(slice_: Obj) -> str:
    addresses = [str(a) for e in slice_.get("endpoints") or [] for a in e.get("addresses") or []]
    return _more(addresses, 3, len(addresses), "<unset>")


def _ingress_hosts(ing: Obj) -> str:
    rules = _spec(ing).get("rules") or []
    hosts = [str(r["host"]) for r in rules if r.get("host")]
    if not hosts:
        return "*"
    if len(rules) > 3 and len(hosts) >= 3:
        return ",".join(hosts[:3]) + f" + {len(rules) - 3} more..."
    return ",".join(hosts)


def _ingress_address(ing: Obj) -> str:
    return _lb_text(_status(ing).get("loadBalancer"))


def _ingress_ports(ing: Obj) -> str:
    return "80, 443" if _spec(ing).get("tls") else "80"


def _ingressclass_parameters(ic: Obj) -> str:
    params = _spec(ic).get("parameters")
    if not params:
        return "<none>"
    kind = str(params.get("kind", "")) + (f".{params['apiGroup']}" if params.get("apiGroup") else "")
    return f"{kind}/{params.get('name', '')}"


def _node_status(node: Obj) -> str:
    ready = next((c for c in _status(node).get("conditions") or [] if c.get("type") == "Ready"), None)
    states = [] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    states = states or ["Unknown"]
    if _spec(node).get("unschedulable"):
        states.append("SchedulingDisabled")
    return ",".join(states)


def _node_roles(node: Obj) -> str:
    roles = set()
    for key, value in (node["metadata"].get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key.split("/", 1)[1]:
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: Obj, kind: str) -> str:
    return next(
        (str(a.get("address")) for a in _status(node).get("addresses") or [] if a.get("type") == kind), "<none>"
    )


def _event_first(ev: Obj, now: float) -> str:
    first = ev.get("firstTimestamp") or ev.get("eventTime")
    return since(first, now) if first else "<unknown>"


def _event_last(ev: Obj, now: float) -> str:
    series = ev.get("series") or {}
    if series.get("lastObservedTime"):
        return since(series["lastObservedTime"], now)
    return since(ev["lastTimestamp"], now) if ev.get("lastTimestamp") else _event_first(ev, now)


def _event_object(ev: Obj) -> str:
    involved = ev.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    return f"{kind}/{involved['name']}" if involved.get("name") else kind


def _event_source(ev: Obj) -> str:
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    return f"{component}, {host}" if host else str(component)


def _event_count(ev: Obj) -> int:
    series = ev.get("series") or {}
    if series.get("count"):
        return int(series["count"])
    return int(ev.get("count") or 1)


def _configmap_data(cm: Obj) -> int:
    return len(cm.get("data") or {}) + len(cm.get("binaryData") or {})


def _quota(quota: Obj, limits: bool) -> str:
    hard, used = _status(quota).get("hard") or {}, _status(quota).get("used") or {}
    parts = [
        f"{name}: {used.get(name, '0')}/{value}"
        for name, value in sorted(hard.items())
        if (name.split(".", 1)[0] == "limits" and "." in name) == limits
    ]
    return ", ".join(parts)


def _volume_phase(volume: Obj) -> str:
    return (
        "Terminating" if volume["metadata"].get("deletionTimestamp") else str(_status(volume).get("phase", "Pending"))
    )


_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _modes(modes: Any) -> str:
    return ",".join(_MODES.get(m, m) for m in modes or [])


def _pv_claim(pv: Obj) -> str:
    ref = _spec(pv).get("claimRef") or {}
    return f"{ref.get('namespace')}/{ref.get('name')}" if ref else ""


def _pvc_bound(pvc: Obj) -> bool:
    return bool(_spec(pvc).get("volumeName"))


def _pvc_capacity(pvc: Obj) -> str:
    return str((_status(pvc).get("capacity") or {}).get("storage", "")) if _pvc_bound(pvc) else ""


def _pvc_access_modes(pvc: Obj) -> str:
    return _modes(_status(pvc).get("accessModes")) if _pvc_bound(pvc) else ""


def _storageclass_name(sc: Obj) -> str:
    name = str(sc["metadata"]["name"])
    return name + " (default)" if is_default_class(sc) else name


def _csidriver_token_requests(driver: Obj) -> str:
    requests = _spec(driver).get("tokenRequests")
    return "<unset>" if requests is None else ",".join(str(t.get("audience", "")) for t in requests)


def _csidriver_modes(driver: Obj) -> str:
    return ",".join(_spec(driver).get("volumeLifecycleModes") or []) or "<none>"


def _subjects(binding: Obj, kind: str) -> str:
    names = []
    for subject in binding.get("subjects") or []:
        if subject.get("kind") != kind:
            continue
        if kind == "ServiceAccount":
            names.append(f"{subject.get('namespace', '')}/{subject.get('name', '')}")
        else:
            names.append(str(subject.get("name", "")))
    return ", ".join(names)


#: The printers whose cells count time to now.
TIMED_PRINTERS: dict[str, Cell] = {
    "age": _age,
    "pod_restarts": _pod_restarts,
    "job_duration": _job_duration,
    "event_last_seen": _event_last,
    "event_first_seen": _event_first,
}

PRINTERS: dict[str, Callable[[Obj], Any]] = {
    "name": lambda obj: obj["metadata"]["name"],
    "created_at": lambda obj: obj["metadata"].get("creationTimestamp", ""),
    "pod_ready": _pod_ready,
    "pod_status": lambda pod: pod_status_reason(pod)[0],
    "pod_readiness_gates": _pod_readiness_gates,
    "controller_of": _controller_of,
    "job_status": _job_status,
    "job_completions": _job_completions,
    "hpa_targets": _hpa_targets,
    "service_cluster_ip": _service_cluster_ip,
    "service_external_ip": _service_external_ip,
    "service_ports": _service_ports,
    "endpoints": _endpoints,
    "endpointslice_ports": _endpointslice_ports,
    "endpointslice_endpoints": _endpointslice_endpoints,
    "ingress_hosts": _ingress_hosts,
    "ingress_address": _ingress_address,
    "ingress_ports": _ingress_ports,
    "ingressclass_parameters": _ingressclass_parameters,
    "node_status": _node_status,
    "node_roles": _node_roles,
    "node_internal_ip": lambda node: _node_address(node, "InternalIP"),
    "node_external_ip": lambda node: _node_address(node, "ExternalIP"),
    "event_object": _event_object,
    "event_source": _event_source,
    "event_message": lambda ev: str(ev.get("message", "")).strip(),
    "event_count": _event_count,
    "configmap_data": _configmap_data,
    "quota_requests": lambda q: _quota(q, limits=False),
    "quota_limits": lambda q: _quota(q, limits=True),
    "volume_phase": _volume_phase,
    "pv_access_modes": lambda pv: _modes(_spec(pv).get("accessModes")),
    "pv_claim": _pv_claim,
    "pvc_capacity": _pvc_capacity,
    "pvc_access_modes": _pvc_access_modes,
    "storageclass_name": _storageclass_name,
    "csidriver_token_requests": _csidriver_token_requests,
    "csidriver_modes": _csidriver_modes,
    "binding_users": lambda b: _subjects(b, "User"),
    "binding_groups": lambda b: _subjects(b, "Group"),
    "binding_service_accounts": lambda b: _subjects(b, "ServiceAccount"),
}


# ---- the generic readings of data/tables.yaml ------------------------------------------------


def _bool_text(value: Any, default: Any) -> Any:
    return default if value is None else ("True" if value else "False")


def _count(value: Any) -> int:
    return len(value) if isinstance(value, (list, dict)) else 0


def _timeless(read: Callable[[Obj], Any]) -> Cell:
    return lambda obj, _now: read(obj)


def _cell(spec: Any) -> Cell:
    """The function of one column's cell, from its data."""
    if isinstance(spec, str):
        if spec in TIMED_PRINTERS:
            return TIMED_PRINTERS[spec]
        if spec not in PRINTERS:
            raise ValueError(f"tables.yaml: no printer named {spec!r}")
        return _timeless(PRINTERS[spec])
    if not isinstance(spec, dict) or len(spec.keys() - {"default"}) != 1:
        raise ValueError(f"tables.yaml: a cell is a printer's name or one reading, not {spec!r}")
    kind = next(iter(spec.keys() - {"default"}))
    arg, default = spec[kind], spec.get("default")
    if kind == "since":
        return lambda obj, now: since(v, now) if (v := _dig(obj, arg)) else default
    return _timeless(_reading(kind, arg, default))


def _reading(kind: str, arg: Any, default: Any) -> Callable[[Obj], Any]:
    """A generic reading of tables.yaml that does not depend on the time."""
    if kind == "path":
        return lambda obj: default if (v := _dig(obj, arg)) is None else v
    if kind == "count":
        return lambda obj: _count(_dig(obj, arg))
    if kind == "containers":
        return lambda obj: ",".join(str(c.get("name", "")) for c in _containers(_dig(obj, arg)))
    if kind == "images":
        return lambda obj: ",".join(str(c.get("image", "")) for c in _containers(_dig(obj, arg)))
    if kind == "selector":
        return lambda obj: _selector_text(_dig(obj, arg))
    if kind == "labels":
        return lambda obj: _label_text(_dig(obj, arg))
    if kind == "ratio":
        first, second = arg
        return lambda obj: f"{_dig(obj, first) or 0}/{_dig(obj, second) or 0}"
    if kind == "ref":
        return lambda obj: f"{(_dig(obj, arg) or {}).get('kind', '')}/{(_dig(obj, arg) or {}).get('name', '')}"
    if kind == "bool_text":
        return lambda obj: _bool_text(_dig(obj, arg), default)
    raise ValueError(f"tables.yaml: unknown reading {kind!r}")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    priority: int
    format: str
    description: str
    cell: Cell

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description or self.name,
            "priority": self.priority,
        }


_columns: dict[str, list[Column]] | None = None
_lock = threading.Lock()


def _column(item: dict[str, Any]) -> Column:
    return Column(
        str(item["name"]),
        str(item.get("type", "string")),
        int(item.get("priority", 0)),
        str(item.get("format", "")),
        str(item.get("description", "")),
        _cell(item["cell"]),
    )


def columns() -> dict[str, list[Column]]:
    """Every resource's columns, read from data/tables.yaml on first use."""
    global _columns
    with _lock:
        if _columns is None:
            text = resources.files("tutor.sandbox").joinpath("data/tables.yaml").read_text()
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            _columns = {str(key): [_column(item) for item in items] for key, items in data.items()}
        return _columns


def _jsonpath(expression: str) -> Callable[[Obj], Any]:
    """The simple JSONPath of a CRD's printer column (``.spec.size``, ``.status.conditions[0].type``)."""
    parts: list[str | int] = []
    for piece in expression.strip().lstrip(".").replace("[", ".[").split("."):
        if not piece:
            continue
        parts.append(int(piece[1:-1]) if piece.startswith("[") and piece[1:-1].isdigit() else piece)

    def read(obj: Obj) -> Any:
        value: Any = obj
        for part in parts:
            if isinstance(part, int):
                value = value[part] if isinstance(value, list) and len(value) > part else None
            else:
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                return None
        if isinstance(value, (dict, list)):
            return json.dumps(value, separators=(",", ":"))
        return value

    return read


def _printer_column_cell(read: Callable[[Obj], Any], kind: str) -> Cell:
    def cell(obj: Obj, now: float) -> Any:
        value = read(obj)
        if kind == "date":
            return since(value, now) if value else "<unknown>"
        return "<none>" if value is None else value

    return cell


def crd_columns(crd: Obj, version: str) -> list[Column]:
    """A custom resource's columns: its CRD version's additionalPrinterColumns, else Name and Age."""
    served: Obj = next((v for v in _spec(crd).get("versions") or [] if v.get("name") == version), {})
    extra = served.get("additionalPrinterColumns") or []
    if not extra:
        return columns()["custom"]
    out = [columns()["custom"][0]]
    for item in extra:
        kind = str(item.get("type", "string"))
        out.append(
            Column(
                str(item.get("name", "")),
                kind,
                int(item.get("priority", 0)),
                "",
                str(item.get("description", "")),
                _printer_column_cell(_jsonpath(str(item.get("jsonPath", ""))), kind),
            )
        )
    if not any(c.name == "Age" for c in out):
        out.append(columns()["custom"][1])
    return out


def columns_of(resource: str, custom: list[Column] | None = None) -> list[Column]:
    if custom is not None:
        return custom
    return columns().get(resource) or columns()["default"]


def row(columns_: list[Column], obj: Obj, now: float, include_object: str = "Metadata") -> Obj:
    out: Obj = {"cells": [column.cell(obj, now) for column in columns_]}
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
    now: float,
    include_object: str = "Metadata",
    with_columns: bool = True,
    custom: list[Column] | None = None,
) -> Obj:
    used = columns_of(resource, custom)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [c.definition() for c in used] if with_columns else [],
        "rows": [row(used, o, now, include_object) for o in objs],
    }
