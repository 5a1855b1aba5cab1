"""Write the sandbox's OpenAPI schemas from the kubernetes client's own model metadata.

The sandbox publishes OpenAPI (v2 and v3) for every built-in kind it serves, so that
kubectl turns on server-side field validation and `kubectl explain` works, and it checks
every write against the same schemas. No spec file is copied in: the schemas come from
the official `kubernetes` Python client's models (each model's fields, their JSON names,
types, whether they are required, and their descriptions), walked from each served kind.
What the client's models leave out comes from the API's field tables the sandbox already
keeps (`tutor/sandbox/data/protobuf.yaml`, made from the API's own source): integer widths
(int32 or int64), which `object` fields are IntOrString or Quantity, each field's Go type
(named in decoding errors), and the strategic merge patch metadata kubectl reads.

Usage: python tools/gen_openapi.py [--check]
Writes tutor/sandbox/data/openapi.json; --check compares instead (exit 1 if stale), which
the test suite does so that the file cannot drift from the installed client.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tutor.sandbox import protobuf  # noqa: E402
from tutor.sandbox.resources import BUILTIN  # noqa: E402

OUT = REPO / "tutor" / "sandbox" / "data" / "openapi.json"

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
# The types that write their own JSON: what their schema is, as the real server publishes it.
SPECIAL: dict[str, dict[str, Any]] = {
    META + "Time": {
        "type": "string",
        "format": "date-time",
        "description": "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON. "
        "Wrappers are provided for many of the factory methods that the time package offers.",
    },
    META + "MicroTime": {
        "type": "string",
        "format": "date-time",
        "description": "MicroTime is version of Time with microsecond level precision.",
    },
    META + "Duration": {"type": "string", "description": "Duration is a wrapper around time.Duration."},
    META + "FieldsV1": {
        "type": "object",
        "description": "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.",
    },
    # v2 says string for both; v3 says what they accept ("v3" replaces type and format there).
    "k8s.io.apimachinery.pkg.api.resource.Quantity": {
        "type": "string",
        "description": "Quantity is a fixed-point representation of a number, such as 500m, 1Gi or 2.",
        "v3": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    },
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": {
        "type": "string",
        "format": "int-or-string",
        "description": "IntOrString is a type that can hold an int32 or a string.",
        "v3": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True},
    },
    "k8s.io.apimachinery.pkg.runtime.RawExtension": {
        "type": "object",
        "description": "RawExtension is used to hold extensions in external versions.",
    },
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON": {
        "description": "JSON represents any valid JSON value.",
    },
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool": {
        "description": "JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value.",
    },
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray": {
        "description": "JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps or an array.",
    },
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": {
        "description": "JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string array.",
    },
}
_SCALARS = {
    "string": {"type": "string"},
    "bytes": {"type": "string", "format": "byte"},
    "bool": {"type": "boolean"},
    "int32": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "uint32": {"type": "integer", "format": "int32"},
    "uint64": {"type": "integer", "format": "int64"},
    "double": {"type": "number", "format": "double"},
    "float": {"type": "number", "format": "double"},
}
_PY_SCALARS = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "float": {"type": "number", "format": "double"},
    "bytes": {"type": "string", "format": "byte"},
    "datetime": {"type": "string", "format": "date-time"},
    "object": {},
}


def definition_name(message: str) -> str:
    """`k8s.io.api.apps.v1.Deployment` -> `io.k8s.api.apps.v1.Deployment`, the server's names."""
    return "io.k8s." + message.removeprefix("k8s.io.").replace("apiextensions_apiserver", "apiextensions-apiserver")


def _description(cls: type) -> str:
    text = inspect.getdoc(cls) or ""
    return text.split("\n\nAttributes:", 1)[0].strip()


class Walker:
    def __init__(self) -> None:
        import kubernetes.client.models as models

        self.models = models
        self.tables = protobuf.tables()
        self.definitions: dict[str, dict[str, Any]] = {}

    def flattened(self, message: str) -> dict[str, protobuf.Field]:
        """A message's fields by JSON name, inlined structs' fields included."""
        out: dict[str, protobuf.Field] = {}
        for field in self.tables.messages.get(message, {}).values():
            if field.json == "":
                for name, inner in self.flattened(field.type).items():
                    out.setdefault(name, inner)
            elif field.json != "-":
                out[field.json] = field
        return out

    def model(self, name: str) -> type:
        cls = getattr(self.models, name, None)
        if cls is None:
            raise SystemExit(f"gen_openapi: the kubernetes client has no model {name}")
        return cls  # type: ignore[no-any-return]

    def add(self, model_name: str, message: str) -> str:
        """Add the definition of ``message`` from model ``model_name``; return its name."""
        name = definition_name(message)
        if name in self.definitions:
            return name
        if message in SPECIAL:
            self.definitions[name] = dict(SPECIAL[message])
            return name
        cls = self.model(model_name)
        definition: dict[str, Any] = {"description": _description(cls), "go": message.rsplit(".", 1)[-1]}
        self.definitions[name] = definition
        proto = self.flattened(message)
        properties: dict[str, Any] = {}
        required: list[str] = []
        # openapi_types and attribute_map name `exec` `_exec`; the pydantic field is `var_exec`.
        fields = {info.serialization_alias or info.alias or key: info for key, info in cls.model_fields.items()}
        for attribute, json_name in cls.attribute_map.items():
            field_info = fields[json_name]
            py_type = cls.openapi_types[attribute]
            schema = self.property(py_type, proto.get(json_name), f"{message}.{json_name}")
            if field_info.description:
                schema["description"] = field_info.description
            properties[json_name] = schema
            if field_info.is_required():
                required.append(json_name)
        definition["properties"] = dict(sorted(properties.items()))
        if required:
            definition["required"] = sorted(required)
        return name

    def property(self, py_type: str, field: protobuf.Field | None, where: str) -> dict[str, Any]:
        if field is None:
            # Not on the wire (apiVersion, kind): the client's type alone.
            return self._from_python(py_type, where)
        schema = self._typed(py_type, field, where)
        if field.go_type and field.go_type != "-":
            schema["go"] = field.go_type
        for flag in field.flags:
            key, _, value = flag.partition("=")
            if key == "patch":
                schema["x-kubernetes-patch-strategy"] = value
            elif key == "mergekey":
                schema["x-kubernetes-patch-merge-key"] = value
            elif key == "list":
                schema["x-kubernetes-list-type"] = value
            elif key == "listkey":
                schema.setdefault("x-kubernetes-list-map-keys", []).append(value)
        return schema

    def _typed(self, py_type: str, field: protobuf.Field, where: str) -> dict[str, Any]:
        list_match = re.fullmatch(r"List\[(.+)\]", py_type)
        dict_match = re.fullmatch(r"Dict\[str, (.+)\]", py_type)
        element = protobuf.Field(field.json, field.type)
        if list_match and field.repeated:
            return {"type": "array", "items": self._typed(list_match.group(1), element, where)}
        if dict_match and field.map_key is not None:
            inner = dict_match.group(1)
            if inner.startswith("List[") and field.type in self.tables.messages:
                # map[string][]string travels as a message holding the list (e.g. ExtraValue)
                return {"type": "object", "additionalProperties": self._from_python(inner, where)}
            return {"type": "object", "additionalProperties": self._typed(inner, element, where)}
        if field.type in SPECIAL or (field.type in self.tables.messages and not py_type[:1].isupper()):
            if py_type == "object" and not self.tables.messages[field.type]:
                return {"type": "object"}  # an empty struct, which the client types as object
            if field.type not in SPECIAL:
                raise SystemExit(f"gen_openapi: {where}: the client says {py_type}, the API {field.type}")
            return {"$ref": self.add("", field.type)}
        if field.type in self.tables.messages:
            return {"$ref": self.add(py_type, field.type)}
        if field.type in _SCALARS:
            expected = {"str": ("string",), "int": ("int32", "int64", "uint32", "uint64"), "bool": ("bool",)}
            if py_type in expected and field.type not in expected[py_type]:
                raise SystemExit(f"gen_openapi: {where}: the client says {py_type}, the API {field.type}")
            return dict(_SCALARS[field.type])
        raise SystemExit(f"gen_openapi: {where}: unknown type {field.type}")

    def _from_python(self, py_type: str, where: str) -> dict[str, Any]:
        list_match = re.fullmatch(r"List\[(.+)\]", py_type)
        if list_match:
            return {"type": "array", "items": self._from_python(list_match.group(1), where)}
        dict_match = re.fullmatch(r"Dict\[str, (.+)\]", py_type)
        if dict_match:
            return {"type": "object", "additionalProperties": self._from_python(dict_match.group(1), where)}
        if py_type in _PY_SCALARS:
            return dict(_PY_SCALARS[py_type])
        raise SystemExit(f"gen_openapi: {where}: {py_type} has no API message to follow")


def _root_model(walker: Walker, api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    plain = f"{version[0].upper()}{version[1:]}{kind}"
    if getattr(walker.models, plain, None) is not None:
        return plain
    prefix = (group.split(".", 1)[0] if group else "core").capitalize()
    return f"{prefix}{plain}"


def build() -> dict[str, Any]:
    walker = Walker()
    kinds: dict[str, str] = {}
    for rt in BUILTIN:
        if rt.refusal:
            continue
        message = walker.tables.kinds.get((rt.api_version, rt.kind))
        if message is None:
            raise SystemExit(f"gen_openapi: no field table for {rt.api_version} {rt.kind}")
        name = walker.add(_root_model(walker, rt.api_version, rt.kind), message)
        walker.definitions[name]["x-kubernetes-group-version-kind"] = [
            {"group": rt.group, "kind": rt.kind, "version": rt.version}
        ]
        kinds[f"{rt.api_version} {rt.kind}"] = name
    return {
        "kinds": dict(sorted(kinds.items())),
        "definitions": dict(sorted(walker.definitions.items())),
    }


def render() -> str:
    import kubernetes

    data = {"generatedFrom": f"kubernetes {kubernetes.__version__}", **build()}
    return json.dumps(data, indent=None, separators=(",", ":"), sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the repository's file instead")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.relative_to(REPO)} is stale: run tools/gen_openapi.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
