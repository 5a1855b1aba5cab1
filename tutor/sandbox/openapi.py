"""The OpenAPI documents the API server publishes: v3 per group version, v2 as one document.

kubectl reads them to decide that the server validates fields (a ``fieldValidation``
parameter on each kind's PATCH path), for ``kubectl explain`` (v3, then v2), and to
compute strategic merge patches for ``kubectl apply`` (the ``x-kubernetes-patch-*``
extensions). The schemas are data (``data/openapi.json``, made by ``tools/gen_openapi.py``
from the kubernetes client's models); this module lays them out as the real server does:

- ``/openapi/v3``: ``{"paths": {"apis/apps/v1": {"serverRelativeURL": ".../apps/v1?hash=H"}}}``
- ``/openapi/v3/apis/apps/v1``: an OpenAPI 3.0 document with the paths of that group
  version's kinds and the schemas they reach (``components.schemas``);
- ``/openapi/v2``: Swagger 2.0 with every definition, as JSON, or as the protobuf of
  gnostic's ``openapi_v2.Document`` when the client asks for it (kubectl only reads that).

Custom resources are not published: their objects are not validated either.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from tutor.sandbox.resources import CREATE_ONLY, Registry, ResourceType

V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

_PARAMETERS = {
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request "
    "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Strict - Warn "
    "(the default).",
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes.",
}
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


@dataclass(frozen=True)
class Schemas:
    definitions: dict[str, dict[str, Any]]
    kinds: dict[str, str]  # "apps/v1 Deployment" -> definition name

    def for_kind(self, rt: ResourceType) -> str | None:
        """The definition of a served kind, or None (custom resources, refusals)."""
        if rt.custom or rt.refusal:
            return None
        return self.kinds.get(f"{rt.api_version} {rt.kind}")


_schemas: Schemas | None = None
_lock = threading.Lock()
_cache: dict[tuple[Any, ...], bytes] = {}


def schemas() -> Schemas:
    """The schemas, read on first use."""
    global _schemas
    with _lock:
        if _schemas is None:
            data = json.loads(resources.files("tutor.sandbox").joinpath("data/openapi.json").read_text())
            _schemas = Schemas(data["definitions"], data["kinds"])
        return _schemas


def _published(schema: Any, prefix: str, *, v3: bool) -> Any:
    """A schema as served: refs made absolute (v3 wraps them in allOf as the server does),
    the sandbox's own "go" notes dropped. Property names are never keywords ("$ref" is one
    of JSONSchemaProps')."""
    if not isinstance(schema, dict):
        return schema
    if v3 and "v3" in schema:
        schema = {k: v for k, v in schema.items() if k not in ("v3", "type", "format")} | schema["v3"]
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("go", "$ref", "v3"):
            continue
        if key == "properties":
            out[key] = {name: _published(sub, prefix, v3=v3) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _published(value, prefix, v3=v3)
        else:
            out[key] = value
    if "$ref" in schema:
        ref = {"$ref": prefix + schema["$ref"]}
        out = {"allOf": [ref], **out} if v3 else {**ref, **out}
    return out


def _reachable(names: list[str]) -> list[str]:
    definitions = schemas().definitions
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in definitions:
            continue
        seen.add(name)
        todo.extend(_refs(definitions[name]))
    return sorted(seen)


def _refs(schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    found = [schema["$ref"]] if isinstance(schema.get("$ref"), str) else []
    for sub in (schema.get("properties") or {}).values():
        found += _refs(sub)
    for key in ("items", "additionalProperties"):
        found += _refs(schema.get(key))
    return found


def _group_version_path(rt: ResourceType) -> str:
    return f"api/{rt.version}" if not rt.group else f"apis/{rt.group}/{rt.version}"


def _operation(rt: ResourceType, action: str, verb: str, ref: str, prefix: str) -> dict[str, Any]:
    parameters = []
    if verb in ("post", "put", "patch"):
        parameters = [
            {"name": name, "in": "query", "description": text, "schema": {"type": "string", "uniqueItems": True}}
            for name, text in _PARAMETERS.items()
        ]
    operation: dict[str, Any] = {
        "operationId": f"{verb}{rt.kind}",
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": prefix + ref}}}}
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "kind": rt.kind, "version": rt.version},
    }
    if verb == "patch":
        # Custom resources take no strategic merge patch; built-in kinds take all four.
        types = [t for t in _PATCH_TYPES if not (rt.custom and "strategic" in t)]
        operation["requestBody"] = {
            "content": {t: {"schema": {"type": "object"}} for t in types},
            "required": True,
        }
    elif verb in ("post", "put"):
        operation["requestBody"] = {
            "content": {"application/json": {"schema": {"$ref": prefix + ref}}},
            "required": True,
        }
    return operation


def _paths(rt: ResourceType, ref: str, prefix: str) -> dict[str, Any]:
    base = "/" + _group_version_path(rt) + ("/namespaces/{namespace}" if rt.namespaced else "") + "/" + rt.plural
    if rt.verbs == CREATE_ONLY:
        return {base: {"post": _operation(rt, "post", "post", ref, prefix)}}
    return {
        base: {
            "get": _operation(rt, "list", "get", ref, prefix),
            "post": _operation(rt, "post", "post", ref, prefix),
        },
        base + "/{name}": {
            "get": _operation(rt, "get", "get", ref, prefix),
            "put": _operation(rt, "put", "put", ref, prefix),
            "patch": _operation(rt, "patch", "patch", ref, prefix),
            "delete": _operation(rt, "delete", "delete", ref, prefix),
        },
    }


def _kinds_of(
    registry: Registry, group: str | None = None, version: str | None = None
) -> list[tuple[ResourceType, str]]:
    known = schemas()
    found = []
    for rt in sorted(registry.all(), key=lambda r: r.key):
        name = known.for_kind(rt)
        if name is None or (group is not None and (rt.group, rt.version) != (group, version)):
            continue
        found.append((rt, name))
    return found


def v3_document(registry: Registry, group: str, version: str) -> bytes | None:
    """The OpenAPI 3.0 document of one group version, or None if it has no published kind."""
    kinds = _kinds_of(registry, group, version)
    if not kinds:
        return None
    key = ("v3", group, version, tuple(rt.key for rt, _ in kinds))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    prefix = "#/components/schemas/"
    definitions = schemas().definitions
    paths: dict[str, Any] = {}
    for rt, name in kinds:
        paths.update(_paths(rt, name, prefix))
    document = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (k8s-tutor sandbox)", "version": "unversioned"},
        "paths": paths,
        "components": {
            "schemas": {
                name: _published(definitions[name], prefix, v3=True) for name in _reachable([n for _, n in kinds])
            }
        },
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    with _lock:
        _cache[key] = body
    return body


def v3_root(registry: Registry) -> dict[str, Any]:
    """The v3 discovery document: each group version's document, by a URL carrying its hash."""
    paths = {}
    for group, version in sorted({(rt.group, rt.version) for rt, _ in _kinds_of(registry)}):
        body = v3_document(registry, group, version)
        if body is None:
            continue
        where = f"api/{version}" if not group else f"apis/{group}/{version}"
        digest = hashlib.sha256(body).hexdigest().upper()
        paths[where] = {"serverRelativeURL": f"/openapi/v3/{where}?hash={digest}"}
    return {"paths": paths}


def _v2(registry: Registry) -> dict[str, Any]:
    prefix = "#/definitions/"
    definitions = schemas().definitions
    paths: dict[str, Any] = {}
    kinds = _kinds_of(registry)
    for rt, name in kinds:
        for path, item in _paths(rt, name, prefix).items():
            paths[path] = {
                verb: {key: value for key, value in op.items() if key not in ("requestBody", "responses", "parameters")}
                | {"responses": {"200": {"description": "OK"}}}
                for verb, op in item.items()
            }
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes (k8s-tutor sandbox)", "version": "unversioned"},
        "paths": paths,
        "definitions": {
            name: _published(definitions[name], prefix, v3=False) for name in _reachable([n for _, n in kinds])
        },
    }


def v2_json(registry: Registry) -> bytes:
    key = ("v2json", tuple(rt.key for rt, _ in _kinds_of(registry)))
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        cached = json.dumps(_v2(registry), separators=(",", ":")).encode()
        with _lock:
            _cache[key] = cached
    return cached


# ---- the v2 document as gnostic's openapi_v2.Document protobuf ------------------------------
# Field numbers from gnostic-models' openapiv2/OpenAPIv2.proto: Document (swagger 1, info 2,
# definitions 9), Info (title 1, version 2), Definitions (additional_properties 1), NamedSchema
# (name 1, value 2), Schema (_ref 1, format 2, description 4, required 19, additional_properties
# 21, type 22, items 23, properties 25, vendor_extension 31), AdditionalPropertiesItem (schema 1,
# boolean 2), TypeItem (value 1), ItemsItem (schema 1), Properties (additional_properties 1),
# NamedAny (name 1, value 2), Any (yaml 2).


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str_field(number: int, text: str) -> bytes:
    return _bytes_field(number, text.encode())


def _schema_pb(schema: dict[str, Any]) -> bytes:
    out = bytearray()
    if "$ref" in schema:
        out += _str_field(1, schema["$ref"])
    if "format" in schema:
        out += _str_field(2, schema["format"])
    if "description" in schema:
        out += _str_field(4, schema["description"])
    for name in schema.get("required", []):
        out += _str_field(19, name)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        out += _bytes_field(21, _bytes_field(1, _schema_pb(extra)))
    elif isinstance(extra, bool):
        out += _bytes_field(21, _varint(2 << 3) + _varint(int(extra)))
    if "type" in schema:
        out += _bytes_field(22, _str_field(1, schema["type"]))
    if isinstance(schema.get("items"), dict):
        out += _bytes_field(23, _bytes_field(1, _schema_pb(schema["items"])))
    if isinstance(schema.get("properties"), dict):
        named = b"".join(
            _bytes_field(1, _str_field(1, name) + _bytes_field(2, _schema_pb(value)))
            for name, value in schema["properties"].items()
        )
        out += _bytes_field(25, named)
    for key, value in schema.items():
        if key.startswith("x-"):
            text = yaml.safe_dump(value, default_flow_style=False)
            out += _bytes_field(31, _str_field(1, key) + _bytes_field(2, _str_field(2, text)))
    return bytes(out)


def v2_protobuf(registry: Registry) -> bytes:
    key = ("v2pb", tuple(rt.key for rt, _ in _kinds_of(registry)))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    document = _v2(registry)
    info = _str_field(1, document["info"]["title"]) + _str_field(2, document["info"]["version"])
    named = b"".join(
        _bytes_field(1, _str_field(1, name) + _bytes_field(2, _schema_pb(schema)))
        for name, schema in document["definitions"].items()
    )
    body = _str_field(1, "2.0") + _bytes_field(2, info) + _bytes_field(9, named)
    with _lock:
        _cache[key] = body
    return body


def definition(name: str) -> dict[str, Any]:
    """A copy of one definition (for tests and tools)."""
    return copy.deepcopy(schemas().definitions[name])
