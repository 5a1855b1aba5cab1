"""Field validation: what the real API server's strict decoding says about a body.

The real server decodes a JSON body into the kind's Go struct. A value of the wrong type
stops it (``json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas
of type int32``, whatever the ``fieldValidation`` parameter says); unknown and duplicate
fields are what ``fieldValidation`` is about: ``Strict`` refuses them (``strict decoding
error: unknown field "spec.template.spec.containers[0].imagePullPolice"``), ``Warn`` (the
default) answers with warnings, ``Ignore`` drops them silently. This module walks a body
against the published schemas (``openapi.py``) and says the same things in the same words.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tutor.sandbox.openapi import schemas

_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_TIME = ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime")
_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class DecodeError(Exception):
    """The body cannot become the kind's object: the message is the real decoder's."""


@dataclass
class Report:
    """What strict decoding found: unknown and duplicate fields, in the server's wording."""

    strict: list[str] = field(default_factory=list)
    #: The unknown fields as server-side apply names them.
    ssa_paths: list[str] = field(default_factory=list)
    #: Where each unknown field is: (the mapping that holds it, its key).
    unknown: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def drop_unknown(self) -> None:
        """Remove the unknown fields from the decoded value, as decoding into the API's
        types does: a field the type lacks is never stored (Warn and Ignore keep going)."""
        for holder, key in self.unknown:
            holder.pop(key, None)


class JSONWithDuplicates:
    """Parse JSON and remember which objects repeated a key (strict decoding reports them)."""

    def __init__(self) -> None:
        self.duplicates: dict[int, list[str]] = {}

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        repeated: list[str] = []
        for key, value in pairs:
            if key in out and key not in repeated:
                repeated.append(key)
            out[key] = value
        if repeated:
            self.duplicates[id(out)] = repeated
        return out

    def loads(self, text: str | bytes) -> Any:
        return json.loads(text, object_pairs_hook=self._pairs)


def _json_kind(value: Any) -> str:
    """How Go's decoder names a JSON value in its errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _element(go_type: str) -> str:
    if go_type.startswith("[]"):
        return go_type[2:]
    if go_type.startswith("map["):
        return go_type[go_type.index("]") + 1 :]
    return go_type


def _base64_error(text: str) -> str | None:
    """Go's base64.StdEncoding error for ``text``, or None when it decodes."""
    try:
        base64.b64decode(text, validate=True)
        return None
    except (binascii.Error, ValueError):
        pass
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for index, char in enumerate(text):
        if char == "=":
            return f"illegal base64 data at input byte {index if (index % 4) < 2 else len(text)}"
        if char not in alphabet and char not in "\r\n":
            return f"illegal base64 data at input byte {index}"
    return f"illegal base64 data at input byte {len(text) - len(text) % 4}"


def _go_kind(value: Any) -> str:
    """The reflect kind of a decoded JSON value, as the unstructured converter names it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "slice" if isinstance(value, list) else "map"


_TARGET_KINDS = {"string": "string", "boolean": "bool", "number": "float64"}


class Walker:
    """Decodes a value against a schema, as Go would: ``json`` style is the JSON decoder
    (create, update, JSON and merge patches), ``unstructured`` the converter that strategic
    merge patches go through. ``ssa_paths`` are the unknown fields as server-side apply
    names them (``.spec.containers[name="web"].imagePullPolice``)."""

    def __init__(self, duplicates: dict[int, list[str]], style: str = "json") -> None:
        self.definitions = schemas().definitions
        self.duplicates = duplicates
        self.style = style
        self.report = Report()
        self.ssa_paths: list[str] = []
        self.type_error: str | None = None

    def _set(self, message: str) -> None:
        if self.type_error is None:  # Go keeps the first one
            self.type_error = message

    def _fail(self, value: Any, struct: str, stack: list[str], go_type: str, target: str, number: bool = False) -> None:
        """A value of the wrong type; ``target`` is the Go kind it was meant for."""
        if self.style == "unstructured":
            self._set(self._converter_error(value, go_type, target))
            return
        what = f"number {value}" if number else _json_kind(value)
        where = f"Go struct field {struct}.{'.'.join(stack)}" if struct or stack else "Go value"
        self._set(f"json: cannot unmarshal {what} into {where} of type {go_type}")

    @staticmethod
    def _converter_error(value: Any, go_type: str, target: str) -> str:
        source = _go_kind(value)
        if target in ("struct", "slice", "map"):
            separator = ": " if target == "struct" else " "
            return f"cannot restore {target} from{separator}{source}"
        convertible = (source in ("int64", "float64") and target in ("int32", "int64", "float64", "string")) or (
            source == "string" and target == "string"
        )
        if convertible:
            return f"cannot convert {source} to {go_type or target}"
        return f"unrecognized type: {target}"

    def walk(
        self, value: Any, schema: dict[str, Any], path: str, struct: str, stack: list[str], go: str, ssa: str
    ) -> None:
        if value is None:
            return  # null leaves a Go value at its zero
        ref = schema.get("$ref")
        if ref is not None:
            self.definition(value, ref, path, struct, stack, go, ssa)
            return
        kind = schema.get("type")
        if kind == "array":
            if not isinstance(value, list):
                self._fail(value, struct, stack, go, "slice")
                return
            items = schema.get("items") or {}
            keys = schema.get("x-kubernetes-list-map-keys") or []
            for index, item in enumerate(value):
                self.walk(
                    item, items, f"{path}[{index}]", struct, stack, _element(go), ssa + _ssa_element(item, index, keys)
                )
        elif kind == "object" and "additionalProperties" in schema:
            if not isinstance(value, dict):
                self._fail(value, struct, stack, go, "map")
                return
            inner = schema["additionalProperties"]
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                self.walk(item, inner, child, struct, stack, _element(go), f"{ssa}.{key}")
        elif kind == "object" or not kind:
            return  # anything goes (RawExtension, JSON, an empty struct)
        else:
            self.scalar(value, schema, struct, stack, go)

    def scalar(self, value: Any, schema: dict[str, Any], struct: str, stack: list[str], go: str) -> None:
        kind, fmt = schema.get("type"), schema.get("format")
        if kind == "integer":
            target = fmt if fmt in _INT_RANGES else "int64"
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._fail(value, struct, stack, go or target, target)
                return
            low, high = _INT_RANGES[target]
            integral = isinstance(value, int) or (self.style == "unstructured" and value == int(value))
            if not integral or not low <= value <= high:
                self._fail(value, struct, stack, go or target, target, number=True)
            return
        target = _TARGET_KINDS.get(str(kind), "string")
        matches = {
            "string": isinstance(value, str),
            "bool": isinstance(value, bool),
            "float64": isinstance(value, (int, float)) and not isinstance(value, bool),
        }[target]
        if not matches:
            self._fail(value, struct, stack, go or target, target)
        elif fmt == "byte":
            problem = _base64_error(value)
            if problem is not None:
                self._set(problem)

    def definition(
        self, value: Any, name: str, path: str, struct: str, stack: list[str], go: str, ssa: str = ""
    ) -> None:
        if name == _QUANTITY:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return
            if not isinstance(value, str) or not _QUANTITY_RE.match(value):
                self._set("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
            return
        if name == _INT_OR_STRING:
            if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
                return
            # IntOrString reads a non-string as an int32, in a JSON decode of its own
            self._set(f"json: cannot unmarshal {_json_kind(value)} into Go value of type int32")
            return
        if name in _TIME:
            if not isinstance(value, str):
                self._fail(value, struct, stack, go or "v1.Time", "struct")
            elif not _RFC3339.match(value):
                self._set(f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse "{value}" as "2006"')
            return
        schema = self.definitions.get(name)
        if schema is None:
            return
        properties = schema.get("properties")
        if properties is None:
            self.walk(value, {k: v for k, v in schema.items() if k != "$ref"}, path, struct, stack, go, ssa)
            return
        if not isinstance(value, dict):
            self._fail(value, struct, stack, go or schema.get("go", ""), "struct")
            return
        inner_struct = schema.get("go", struct)
        for key in self.duplicates.get(id(value), []):
            self.report.strict.append(f'duplicate field "{path}.{key}"' if path else f'duplicate field "{key}"')
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            prop = properties.get(key)
            if prop is None:
                self.report.strict.append(f'unknown field "{child}"')
                self.report.unknown.append((value, key))
                self.ssa_paths.append(f"{ssa}.{key}")
                continue
            self.walk(item, prop, child, inner_struct, [*stack, key], prop.get("go", ""), f"{ssa}.{key}")


def _ssa_element(item: Any, index: int, keys: list[str]) -> str:
    """How server-side apply names a list element: by its map keys, else its index."""
    if keys and isinstance(item, dict) and all(k in item for k in keys):
        return "[" + ",".join(f"{k}={json.dumps(item[k])}" for k in keys) + "]"
    return f"[{index}]"


def check(body: Any, definition: str, duplicates: dict[int, list[str]] | None = None, *, style: str = "json") -> Report:
    """Strict decoding of ``body`` as ``definition``: DecodeError for a value of the wrong type
    (the decoder stops), else the unknown and duplicate fields it found."""
    walker = Walker(duplicates or {}, style)
    walker.definition(body, definition, "", "", [], walker.definitions.get(definition, {}).get("go", ""))
    if walker.type_error is not None:
        raise DecodeError(walker.type_error)
    walker.report.ssa_paths = walker.ssa_paths
    return walker.report


def strict_error(problems: list[str]) -> str:
    """runtime.StrictDecodingError's text."""
    return "strict decoding error: " + ", ".join(problems)


def go_format(value: Any) -> str:
    """A decoded JSON value as Go's %+v prints it (the real server's patch errors quote it)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
