"""Label and field selectors, in the syntax the API server accepts in query strings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tutor.sandbox.errors import ApiError, bad_request

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()
    # A selector that matches nothing: a LabelSelector object with no terms at all is
    # "everything", but a nil selector on e.g. a Service means "no pods".
    nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements and not self.nothing

    def __str__(self) -> str:
        parts = []
        for r in self.requirements:
            if r.op in ("=", "!="):
                parts.append(f"{r.key}{r.op}{r.values[0]}")
            elif r.op in ("in", "notin"):
                parts.append(f"{r.key} {r.op} ({','.join(r.values)})")
            elif r.op == "exists":
                parts.append(r.key)
            else:
                parts.append(f"!{r.key}")
        return ",".join(parts)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _check_key(key: str, whole: str) -> None:
    if not re.fullmatch(_KEY, key) or key.count("/") > 1:
        raise bad_request(f'unable to parse requirement: invalid label key "{key}" in "{whole}"')


def _check_value(value: str, whole: str) -> None:
    if len(value) > 63 or not re.fullmatch(_VALUE, value):
        raise bad_request(f'unable to parse requirement: invalid label value: "{value}" in "{whole}"')


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse ``a=b,c!=d,e in (x,y),f notin (z),g,!h``; raise a 400 ApiError if malformed."""
    if not text or not text.strip():
        return LabelSelector()
    reqs: list[Requirement] = []
    for raw in _split_top_level(text):
        term = raw.strip()
        if not term:
            raise bad_request(f'unable to parse requirement: found "", expected: identifier in "{text}"')
        m = re.fullmatch(r"(\S+?)\s+(in|notin)\s*\(([^()]*)\)", term)
        if m:
            key, op, body = m.group(1), m.group(2), m.group(3)
            values = tuple(v.strip() for v in body.split(",") if v.strip())
            _check_key(key, text)
            for v in values:
                _check_value(v, text)
            reqs.append(Requirement(key, op, values))
            continue
        m = re.fullmatch(r"([^=!\s]+)\s*(==|=|!=)\s*(\S*)", term)
        if m:
            key, op, value = m.group(1), m.group(2), m.group(3)
            _check_key(key, text)
            _check_value(value, text)
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
            continue
        if term.startswith("!"):
            key = term[1:].strip()
            _check_key(key, text)
            reqs.append(Requirement(key, "!exists"))
            continue
        _check_key(term, text)
        reqs.append(Requirement(term, "exists"))
    return LabelSelector(tuple(reqs))


def selector_from_object(selector: Mapping[str, Any] | None) -> LabelSelector:
    """A ``metav1.LabelSelector`` (matchLabels + matchExpressions) as a LabelSelector.

    ``None`` matches nothing, as for workload selectors; ``{}`` matches everything.
    """
    if selector is None:
        return LabelSelector(nothing=True)
    reqs = [Requirement(k, "=", (str(v),)) for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}.get(
            expr.get("operator", ""), ""
        )
        if not op:
            raise bad_request(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return LabelSelector(tuple(reqs))


def selector_from_map(labels: Mapping[str, str] | None) -> LabelSelector:
    """A Service-style selector map; an empty or missing map selects nothing."""
    if not labels:
        return LabelSelector(nothing=True)
    return LabelSelector(tuple(Requirement(k, "=", (str(v),)) for k, v in sorted(labels.items())))


# ---- field selectors ---------------------------------------------------------------


def _path(*keys: str) -> Callable[[Mapping[str, Any]], str]:
    def get(obj: Mapping[str, Any]) -> str:
        cur: Any = obj
        for k in keys:
            if not isinstance(cur, Mapping):
                return ""
            cur = cur.get(k)
        if cur is None:
            return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)

    return get


_COMMON = {
    "metadata.name": _path("metadata", "name"),
    "metadata.namespace": _path("metadata", "namespace"),
}

_BY_RESOURCE: dict[str, dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "pods": {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": lambda o: "true" if (o.get("spec") or {}).get("hostNetwork") else "false",
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    "events": {
        "involvedObject.kind": _path("involvedObject", "kind"),
        "involvedObject.namespace": _path("involvedObject", "namespace"),
        "involvedObject.name": _path("involvedObject", "name"),
        "involvedObject.uid": _path("involvedObject", "uid"),
        "involvedObject.apiVersion": _path("involvedObject", "apiVersion"),
        "involvedObject.resourceVersion": _path("involvedObject", "resourceVersion"),
        "involvedObject.fieldPath": _path("involvedObject", "fieldPath"),
        "reason": _path("reason"),
        "reportingComponent": _path("reportingComponent"),
        "source": _path("source", "component"),
        "type": _path("type"),
    },
    "namespaces": {"status.phase": _path("status", "phase")},
    "nodes": {"spec.unschedulable": lambda o: "true" if (o.get("spec") or {}).get("unschedulable") else "false"},
    "secrets": {"type": _path("type")},
    "replicasets.apps": {"status.replicas": _path("status", "replicas")},
    "replicationcontrollers": {"status.replicas": _path("status", "replicas")},
    "jobs.batch": {"status.successful": _path("status", "succeeded")},
    "persistentvolumeclaims": {},
}


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    negate: bool
    value: str


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()
    getters: tuple[Callable[[Mapping[str, Any]], str], ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for req, get in zip(self.requirements, self.getters, strict=True):
            if (get(obj) == req.value) == req.negate:
                return False
        return True

    @property
    def empty(self) -> bool:
        return not self.requirements

    def value_of(self, field: str) -> str | None:
        """The value an ``=`` requirement pins ``field`` to, for index look-ups."""
        for req in self.requirements:
            if req.field == field and not req.negate:
                return req.value
        return None


def parse_field_selector(text: str | None, resource_key: str) -> FieldSelector:
    """Parse ``metadata.name=x,status.phase!=Running``; unknown fields are a 400, as upstream."""
    if not text or not text.strip():
        return FieldSelector()
    fields = {**_COMMON, **_BY_RESOURCE.get(resource_key, {})}
    reqs: list[FieldRequirement] = []
    getters = []
    for raw in text.split(","):
        term = raw.strip()
        m = re.fullmatch(r"([^=!]+?)\s*(==|=|!=)\s*(.*)", term)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        name, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        get = fields.get(name)
        if get is None:
            raise ApiError(400, "BadRequest", f"field label not supported: {name}")
        reqs.append(FieldRequirement(name, op == "!=", value))
        getters.append(get)
    return FieldSelector(tuple(reqs), tuple(getters))
