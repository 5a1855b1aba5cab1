"""The vocabulary of checks: which kinds exist and which fields each takes.

The parser validates every check block against this table; the cluster layer
implements one evaluator per kind and a test keeps both in step. Adding a check kind
is an entry here, its evaluator, its tests, and a line in docs/lesson-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tutor.lesson import resources, selectors

KNOWN_ADDONS: Mapping[str, str] = {
    "ingress": "namespace ingress-nginx, its controller Deployment ready, IngressClass nginx",
    "csi-hostpath-driver": "CSIDriver hostpath.csi.k8s.io and StorageClass csi-hostpath-sc",
    "volumesnapshots": "the VolumeSnapshot CRDs and the snapshot-controller Deployment in kube-system",
    "default-storageclass": "StorageClass standard",
    "storage-provisioner": "pod storage-provisioner in kube-system",
}
"""minikube addons a check can see, each through the objects it creates."""

Validator = Callable[[Any], str | None]
"""Returns an error message for a bad value, or None."""


def _str(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be text, not {_type_name(value)}"


def _run(value: Any) -> str | None:
    if isinstance(value, str):
        return None
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return None
    return f"must be a command line, or a list of its arguments, not {_type_name(value)}"


def _int(value: Any) -> str | None:
    if isinstance(value, bool):
        return "must be a whole number, not true/false"
    if isinstance(value, int):
        return None if value >= 0 else "must not be negative"
    if isinstance(value, str) and value.strip().isdigit():
        return None
    return f"must be a whole number, not {_type_name(value)} {value!r}"


def positive_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"must be a number of seconds, not {_type_name(value)}"
    try:
        number = float(value)
    except ValueError:
        return f"must be a number of seconds, not {value!r}"
    return None if number > 0 else "must be more than 0"


def _scalar(value: Any) -> str | None:
    if isinstance(value, str | int | float | bool) or value is None:
        return None
    return f"must be a single value, not {_type_name(value)}"


def _object(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be KIND/NAME text, not {_type_name(value)}"
    try:
        resources.parse_ref(value)
    except resources.BadObjectRef as err:
        return str(err)
    return None


def _selector(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a label selector such as name=mongo, not {_type_name(value)}"
    try:
        selectors.parse(value)
    except selectors.BadSelector as err:
        return str(err)
    return None


def _url(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a URL, not {_type_name(value)}"
    if not re.match(r"^https?://[^/\s]+", value):
        return f"'{value}' is not an http:// or https:// URL"
    return None


def _urls(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a list of one or more URLs"
    for item in value:
        problem = _url(item)
        if problem:
            return problem
    return None


def regex(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a regular expression, not {_type_name(value)}"
    try:
        re.compile(value)
    except re.error as err:
        return f"is not a valid regular expression: {err}"
    return None


def _addon(value: Any) -> str | None:
    if value in KNOWN_ADDONS:
        return None
    return f"unknown addon {value!r}; known: {', '.join(KNOWN_ADDONS)}"


def _path(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a field path such as status.phase, not {_type_name(value)}"
    try:
        parse_field_path(value)
    except ValueError as err:
        return str(err)
    return None


def _name(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a name, not {_type_name(value)}"
    if not re.match(r"^[a-z0-9A-Z_{]([-a-z0-9A-Z_.{}]*[a-z0-9A-Z_}])?$", value):
        return f"'{value}' is not a Kubernetes object name"
    return None


SERVED_BY_KINDS = ("deployment", "statefulset", "daemonset", "replicaset")
"""Workloads whose pods a `served_by` can name."""
SERVED_BY_KEYS = {
    "kind": "the workload's kind: " + ", ".join(SERVED_BY_KINDS),
    "name": "the workload's name",
    "path": "a path on the same address whose JSON names the pod that served it (default: the check's URL)",
    "field": "where in that JSON the pod's name is (default: host)",
}


def served_by(value: Any) -> str | None:
    """`{kind: deployment, name: pacman}`, optionally with `path` and `field`."""
    if not isinstance(value, dict):
        return f"must be a mapping such as {{kind: deployment, name: pacman}}, not {_type_name(value)}"
    for key in value:
        if key not in SERVED_BY_KEYS:
            return f"has no key '{key}'; its keys: {', '.join(SERVED_BY_KEYS)}"
    for key in ("kind", "name"):
        if key not in value:
            return f"needs '{key}' ({SERVED_BY_KEYS[key]})"
    if value["kind"] not in SERVED_BY_KINDS:
        return f"kind must be one of {', '.join(SERVED_BY_KINDS)}, not {value['kind']!r}"
    problem = _name(value["name"])
    if problem:
        return f"name {problem}"
    path = value.get("path")
    if path is not None and not (isinstance(path, str) and path.startswith("/") and " " not in path):
        return f"path must be a path on the same address, such as /location/metadata, not {path!r}"
    if "field" in value:
        problem = _path(value["field"])
        if problem:
            return f"field {problem}"
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping (if you meant a {variable}, put it in quotes)"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return type(value).__name__


_FIELD_PATH = re.compile(r"""\.?(?:([A-Za-z0-9_-]+)|\[(\d+)\]|\["([^"]+)"\]|\['([^']+)'\])""")


def parse_field_path(path: str) -> tuple[str | int, ...]:
    """`status.loadBalancer.ingress[0].ip` or `metadata.annotations["a.b/c"]` -> parts."""
    parts: list[str | int] = []
    pos = 0
    text = path.strip()
    if not text:
        raise ValueError("the field path is empty")
    while pos < len(text):
        match = _FIELD_PATH.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(
                f"cannot read field path '{path}' at character {pos + 1}; "
                'write keys with dots as ["key.with.dots"], list items as [0]'
            )
        name, index, dq, sq = match.groups()
        parts.append(int(index) if index is not None else (name or dq or sq))
        pos = match.end()
    return tuple(parts)


@dataclass(frozen=True)
class FieldSpec:
    validate: Validator
    doc: str
    required: bool = False


@dataclass(frozen=True)
class CheckKind:
    name: str
    doc: str
    fields: Mapping[str, FieldSpec]
    namespaced: bool = True
    """Takes `namespace` (default: the lesson's namespace)."""
    one_of: tuple[tuple[str, ...], ...] = ()
    """Groups of fields of which exactly one must be given."""
    remembers: bool = False
    """Takes `remember: KEY`: on pass, what it saw is saved for a later check."""


def _f(validate: Validator, doc: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(validate, doc, required)


def _reason(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return "must say why, in words"


SERVED_BY_DOC = (
    "the workload whose pod must have answered ({kind: deployment, name: pacman}): "
    "another program on the address does not pass"
)
COMMON_FIELDS: Mapping[str, FieldSpec] = {
    "title": _f(_str, "what the learner reads while the check runs (a default is derived)"),
    "allow_program": _f(_reason, "why the check runs a program lint warns about (see docs/lesson-format.md)"),
    "allow_host": _f(_reason, "why the check reaches a host that is not loopback (see docs/lesson-format.md)"),
}
NAMESPACE_FIELD = _f(_str, "the namespace of the objects (default: the lesson's namespace)")
REMEMBER_FIELD = _f(_name, "a key under which what the check saw on passing is kept for later steps")

CHECK_KINDS: Mapping[str, CheckKind] = {
    kind.name: kind
    for kind in (
        CheckKind(
            "exists",
            "the object exists",
            {"object": _f(_object, "KIND/NAME of the object", required=True)},
            remembers=True,
        ),
        CheckKind(
            "absent",
            "the object does not exist (deleted, or never created)",
            {"object": _f(_object, "KIND/NAME of the object", required=True)},
        ),
        CheckKind(
            "field_equals",
            "a field of the object has a value",
            {
                "object": _f(_object, "KIND/NAME of the object", required=True),
                "path": _f(_path, 'the field, e.g. spec.replicas or metadata.labels["app"]', required=True),
                "equals": _f(_scalar, "the expected value (compared as text)", required=True),
            },
        ),
        CheckKind(
            "default_storageclass",
            "exactly one StorageClass is the default, and it is this one",
            {"name": _f(_name, "the StorageClass that must be the only default", required=True)},
            namespaced=False,
        ),
        CheckKind(
            "pods_ready",
            "pods matching a selector are Ready",
            {
                "selector": _f(_selector, "label selector, e.g. name=mongo", required=True),
                "count": _f(
                    _int,
                    "exactly this many pods must be Ready (default: at least one, all of them)",
                ),
            },
        ),
        CheckKind(
            "pvc_bound",
            "a PersistentVolumeClaim is Bound to a volume",
            {
                "name": _f(_name, "the claim's name", required=True),
                "storage_class": _f(_name, "the StorageClass the claim must use"),
            },
        ),
        CheckKind(
            "rollout_complete",
            "a Deployment or StatefulSet has rolled out: all replicas updated and ready",
            {
                "object": _f(_object, "deployment/NAME or statefulset/NAME", required=True),
                "replicas": _f(_int, "the number of replicas it must have"),
            },
        ),
        CheckKind(
            "addon_enabled",
            "a minikube addon is enabled, seen through the objects it creates",
            {"addon": _f(_addon, "the addon's name", required=True)},
            namespaced=False,
        ),
        CheckKind(
            "ingress_address",
            "an Ingress has been given an address by its controller",
            {"name": _f(_name, "the Ingress's name", required=True)},
        ),
        CheckKind(
            "http",
            "an HTTP endpoint answers",
            {
                "url": _f(_url, "the URL to request"),
                "urls": _f(_urls, "several URLs: the check passes when any of them answers"),
                "host": _f(_str, "the Host header to send (e.g. pacman.com for an Ingress rule)"),
                "status": _f(_int, "the expected HTTP status (default 200)"),
                "contains": _f(_str, "text the response body must contain"),
                "json_nonempty": _f(
                    lambda v: None if isinstance(v, bool) else "must be true or false",
                    "the body must be a non-empty JSON list or object",
                ),
                "served_by": _f(served_by, SERVED_BY_DOC),
            },
            one_of=(("url", "urls"),),
            remembers=True,
        ),
        CheckKind(
            "process_alive",
            "a background command the tutor started (port-forward, tunnel) is running and ready",
            {"process": _f(_str, "the id of a background command of this lesson", required=True)},
            namespaced=False,
        ),
        CheckKind(
            "data_survives",
            "data remembered by an earlier check is still served after a pod was replaced",
            {
                "url": _f(_url, "the URL that lists the data (e.g. /highscores/list)", required=True),
                "host": _f(_str, "the Host header to send"),
                "remembered": _f(_name, "the `remember` key of the earlier http check", required=True),
                "replaced": _f(
                    _object,
                    "pod/NAME that must have been replaced (a new uid) since",
                    required=True,
                ),
                "served_by": _f(served_by, SERVED_BY_DOC),
            },
        ),
        CheckKind(
            "command",
            "a command exits with the expected status (an escape hatch for what no other kind covers)",
            {
                "run": _f(
                    _run,
                    "the command line (no shell: no pipes or redirections), or its arguments as a list",
                    required=True,
                ),
                "exit": _f(_int, "the expected exit status (default 0)"),
                "timeout": _f(positive_number, "seconds before the command is stopped (default 20)"),
            },
            namespaced=False,
        ),
    )
}


def fields_of(kind: CheckKind) -> dict[str, FieldSpec]:
    """Every field `kind` accepts, the common ones included."""
    accepted = dict(COMMON_FIELDS)
    accepted.update(kind.fields)
    if kind.namespaced:
        accepted["namespace"] = NAMESPACE_FIELD
    if kind.remembers:
        accepted["remember"] = REMEMBER_FIELD
    return accepted


@dataclass
class FieldProblem:
    message: str
    field: str | None = None


@dataclass
class CheckValidation:
    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, message: str, field_name: str | None = None) -> None:
        self.problems.append(FieldProblem(message, field_name))


def validate_check(raw: Mapping[str, Any]) -> CheckValidation:
    """Validate one check's mapping (values already substituted)."""
    result = CheckValidation()
    kind_name = raw.get("kind")
    if kind_name is None:
        result.add("a check needs a `kind`; known kinds: " + ", ".join(CHECK_KINDS))
        return result
    kind = CHECK_KINDS.get(str(kind_name))
    if kind is None:
        result.add(f"unknown check kind '{kind_name}'; known kinds: {', '.join(CHECK_KINDS)}", "kind")
        return result
    accepted = fields_of(kind)
    for key, value in raw.items():
        if key == "kind":
            continue
        spec = accepted.get(key)
        if spec is None:
            known = ", ".join(accepted)
            result.add(f"check '{kind.name}' has no field '{key}'; its fields: {known}", key)
            continue
        problem = spec.validate(value)
        if problem:
            result.add(f"check '{kind.name}', field '{key}': {problem}", key)
    for key, spec in kind.fields.items():
        if spec.required and key not in raw:
            result.add(f"check '{kind.name}' needs '{key}' ({spec.doc})")
    for group in kind.one_of:
        given = [key for key in group if key in raw]
        if len(given) != 1:
            options = " or ".join(f"'{key}'" for key in group)
            result.add(f"check '{kind.name}' needs exactly one of {options}")
    return result
