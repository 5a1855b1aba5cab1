"""Write the sandbox's protobuf field tables from the Kubernetes API source.

kubectl 1.32 and newer send built-in objects as protobuf (`application/vnd.kubernetes.protobuf`)
for typed commands such as `kubectl create deployment`. The sandbox decodes them with
field tables: for every message, its field numbers, their JSON names and types. Those are
facts of the Kubernetes API, kept in `tutor/sandbox/data/protobuf.yaml`, and this tool
makes that file from the API's own source:

- each package's `generated.proto` (message names, field numbers, types, repeated, maps);
- the Go structs of the same package (`types.go` and friends): the JSON name of each
  field (which differs from the proto name for inlined structs), and whether a zero value
  is still written in JSON (a pointer, or a field without `omitempty`).

Usage (checkouts of github.com/kubernetes/api, apimachinery and apiextensions-apiserver):

    python tools/gen_protobuf_tables.py --api ../api --apimachinery ../apimachinery \
        --apiextensions ../apiextensions-apiserver [--check]

`--check` compares with the file in the repository instead of writing it (exit 1 if stale).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tutor" / "sandbox" / "data" / "protobuf.yaml"

# The kinds kubectl or a client may send as protobuf: the sandbox's served built-in kinds,
# the reviews and token requests (created, never stored), and what rides on deletes.
ROOTS = {
    "v1": [
        "Binding",
        "ConfigMap",
        "Endpoints",
        "Event",
        "LimitRange",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Pod",
        "PodTemplate",
        "ReplicationController",
        "ResourceQuota",
        "Secret",
        "Service",
        "ServiceAccount",
    ],
    "apps/v1": ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
    "autoscaling/v1": ["HorizontalPodAutoscaler", "Scale"],
    "autoscaling/v2": ["HorizontalPodAutoscaler"],
    "batch/v1": ["CronJob", "Job"],
    "coordination.k8s.io/v1": ["Lease"],
    "discovery.k8s.io/v1": ["EndpointSlice"],
    "networking.k8s.io/v1": ["Ingress", "IngressClass", "NetworkPolicy"],
    "policy/v1": ["Eviction", "PodDisruptionBudget"],
    "rbac.authorization.k8s.io/v1": ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    "scheduling.k8s.io/v1": ["PriorityClass"],
    "storage.k8s.io/v1": ["CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment"],
    "admissionregistration.k8s.io/v1": ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
    "authentication.k8s.io/v1": ["SelfSubjectReview", "TokenRequest", "TokenReview"],
    "authorization.k8s.io/v1": [
        "LocalSubjectAccessReview",
        "SelfSubjectAccessReview",
        "SelfSubjectRulesReview",
        "SubjectAccessReview",
    ],
    "apiextensions.k8s.io/v1": ["CustomResourceDefinition"],
    "meta/v1": ["DeleteOptions"],
}

# group -> the folder of its package in k8s.io/api ("" is the core group)
ENVELOPE = "k8s.io.apimachinery.pkg.runtime.Unknown"
"""What every protobuf body is, after the 4 bytes k8s\\0: the object's type and its bytes."""

_API_FOLDERS = {
    "": "core",
    "apps": "apps",
    "autoscaling": "autoscaling",
    "batch": "batch",
    "coordination.k8s.io": "coordination",
    "discovery.k8s.io": "discovery",
    "networking.k8s.io": "networking",
    "policy": "policy",
    "rbac.authorization.k8s.io": "rbac",
    "scheduling.k8s.io": "scheduling",
    "storage.k8s.io": "storage",
    "admissionregistration.k8s.io": "admissionregistration",
    "authentication.k8s.io": "authentication",
    "authorization.k8s.io": "authorization",
}

_SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float", "sint32", "sint64"}
_FIELD = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;")
_MAP = re.compile(r"^\s*map<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")
_GO_FIELD = re.compile(r"^\t(?P<decl>[^`/]*?)\s*`(?P<tags>[^`]*)`")


@dataclass
class ProtoField:
    number: int
    name: str
    type: str  # a scalar, or a message's full name
    repeated: bool = False
    map_key: str | None = None


@dataclass(frozen=True)
class GoField:
    json: str  # "" for an inlined struct
    keep_zero: bool
    go_type: str = ""  # as Go prints it in errors: "int32", "[]v1.Container", "v1.PullPolicy"
    flags: tuple[str, ...] = ()  # patch and list metadata: "patch=merge", "mergekey=name", "list=map"...


def _block_lines(text: str, opening: str) -> Iterator[tuple[str, str]]:
    """(block name, line) for each line inside the top-level blocks ``opening`` starts (a
    ``message`` or a Go ``struct``); the opening itself comes as (name, "")."""
    current: str | None = None
    for line in text.splitlines():
        start = re.match(opening, line)
        if start:
            current = start.group(1)
            yield current, ""
        elif line.startswith("}"):
            current = None
        elif current is not None and line.strip():
            yield current, line


def parse_proto(text: str) -> tuple[str, dict[str, list[ProtoField]]]:
    package = re.search(r"^package\s+([\w.]+)\s*;", text, re.M)
    assert package is not None, "a generated.proto without a package"
    messages: dict[str, list[ProtoField]] = {}
    for name, line in _block_lines(text, r"^message\s+(\w+)\s*\{"):
        current = messages.setdefault(name, [])
        if not line:
            continue
        field = _FIELD.match(line)
        if field:
            label, type_, name, number, _options = field.groups()
            current.append(ProtoField(int(number), name, type_, repeated=label == "repeated"))
            continue
        mapped = _MAP.match(line)
        if mapped:
            key, value, name, number = mapped.groups()
            current.append(ProtoField(int(number), name, value, map_key=key))
    return package.group(1), messages


def proto_name(parts: list[str]) -> str:
    return next((p.split("=", 1)[1] for p in parts if p.startswith("name=")), "")


_BUILTIN_GO = {"string", "bool", "byte", "int", "int32", "int64", "uint32", "uint64", "float32", "float64", "any"}


def go_type_name(text: str, local: str, imports: dict[str, str]) -> str:
    """A Go type as reflect prints it: qualifiers are package names, pointers dropped."""
    text = text.lstrip("*")
    if text.startswith("[]"):
        return "[]" + go_type_name(text[2:], local, imports)
    if text.startswith("map["):
        key, _, value = text[4:].partition("]")
        return f"map[{go_type_name(key, local, imports)}]{go_type_name(value, local, imports)}"
    if "." in text:
        alias, _, name = text.partition(".")
        return f"{imports.get(alias, alias)}.{name}"
    return text if text in _BUILTIN_GO else f"{local}.{text}"


def _imports(text: str) -> dict[str, str]:
    """import alias -> package name (the last element of the import path)."""
    out: dict[str, str] = {}
    for alias, path in re.findall(r'^\s*(\w+\s+)?"([\w./-]+)"\s*$', text, re.M):
        name = path.rsplit("/", 1)[-1]
        out[(alias or name).strip()] = name
    return out


def _markers(comments: list[str]) -> list[str]:
    flags = []
    for comment in comments:
        marker = re.match(r"\s*//\s*\+(listType|listMapKey)=(\S+)", comment)
        if marker:
            flags.append(("list=" if marker.group(1) == "listType" else "listkey=") + marker.group(2))
    return flags


def parse_go_structs(folder: Path) -> dict[str, dict[int, GoField]]:
    """struct name -> protobuf field number -> what JSON does with it."""
    structs: dict[str, dict[int, GoField]] = {}
    local = folder.name
    for path in sorted(folder.glob("*.go")):
        if path.name.endswith("_test.go") or path.name.startswith("zz_generated") or path.name.endswith(".pb.go"):
            continue
        text = path.read_text()
        imports = _imports(text)
        comments: list[str] = []
        for name, line in _block_lines(text, r"^type\s+(\w+)\s+struct\s*\{"):
            current = structs.setdefault(name, {})
            if not line:
                comments = []  # a new struct
                continue
            if line.strip().startswith("//"):
                comments.append(line)
                continue
            match = _GO_FIELD.match(line)
            field_comments, comments = comments, []
            if not match:
                continue
            tags = match.group("tags")
            proto = re.search(r'protobuf:"([^"]*)"', tags)
            parts = proto.group(1).split(",") if proto else []
            if len(parts) < 2 or not parts[1].isdigit():
                continue  # protobuf:"-": not on the wire
            number = int(parts[1])
            json_tag = re.search(r'json:"([^"]*)"', tags)
            json_parts = (json_tag.group(1) if json_tag else "").split(",")
            decl = match.group("decl").split()
            go_type = decl[-1]
            # Go inlines an embedded struct unless its json tag names it, and ",inline" says so.
            inline = json_parts[0] == "" and (len(decl) == 1 or "inline" in json_parts[1:])
            # No json tag: the type writes its own JSON (IntOrString...); keep the proto name.
            name = "" if inline else (json_parts[0] if json_tag else proto_name(parts))
            pointer = go_type.startswith("*")
            flags = []
            strategy = re.search(r'patchStrategy:"([^"]*)"', tags)
            if strategy:
                flags.append("patch=" + strategy.group(1))
            merge_key = re.search(r'patchMergeKey:"([^"]*)"', tags)
            if merge_key:
                flags.append("mergekey=" + merge_key.group(1))
            flags += _markers(field_comments)
            current[number] = GoField(
                name,
                pointer or "omitempty" not in json_parts[1:],
                go_type_name(go_type, local, imports),
                tuple(flags),
            )
    return structs


def qualified(type_: str, package: str, messages: dict[str, list[ProtoField]]) -> str:
    if type_ in _SCALARS:
        return type_
    if type_.startswith("."):
        return type_[1:]
    if type_ in messages:
        return f"{package}.{type_}"
    return type_


def load(
    api: Path, apimachinery: Path, apiextensions: Path
) -> tuple[dict[str, list[ProtoField]], dict[str, dict[int, GoField]]]:
    """Every message (full name -> fields) and every Go struct (full name -> fields)."""
    folders = [p.parent for p in sorted(api.glob("*/*/generated.proto"))]
    folders += [p.parent for p in sorted((apimachinery / "pkg").glob("**/generated.proto"))]
    folders.append(apiextensions / "pkg" / "apis" / "apiextensions" / "v1")
    messages: dict[str, list[ProtoField]] = {}
    structs: dict[str, dict[int, GoField]] = {}
    for folder in folders:
        package, local = parse_proto((folder / "generated.proto").read_text())
        go = parse_go_structs(folder)
        for name, fields in local.items():
            for field in fields:
                field.type = qualified(field.type, package, local)
            messages[f"{package}.{name}"] = fields
            structs[f"{package}.{name}"] = go.get(name, {})
    return messages, structs


def root_message(api_version: str, kind: str) -> str:
    if api_version == "meta/v1":
        return f"k8s.io.apimachinery.pkg.apis.meta.v1.{kind}"
    if api_version == "apiextensions.k8s.io/v1":
        return f"k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.{kind}"
    group, _, version = api_version.rpartition("/")
    return f"k8s.io.api.{_API_FOLDERS[group]}.{version}.{kind}"


def render(messages: dict[str, list[ProtoField]], structs: dict[str, dict[int, GoField]]) -> str:
    kinds = {
        f"{api_version} {kind}": root_message(api_version, kind)
        for api_version, names in ROOTS.items()
        for kind in names
    }
    wanted: list[str] = []
    seen: set[str] = set()
    todo = sorted({*kinds.values(), ENVELOPE})
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in messages:
            raise SystemExit(f"gen_protobuf_tables: no message {name} in the sources")
        seen.add(name)
        wanted.append(name)
        todo.extend(f.type for f in messages[name] if f.type not in _SCALARS)
    lines = [
        "# The protobuf messages of the Kubernetes API that the sandbox decodes (kubectl >= 1.32",
        "# sends typed objects this way). Made by tools/gen_protobuf_tables.py from the API's",
        "# generated.proto files and Go structs; do not edit by hand.",
        "#",
        "# kinds: 'apiVersion Kind' -> message. messages: field number -> [JSON name, type, Go",
        '# type, flags...], where a JSON name "" is a struct inlined into its parent; a type is a',
        "# scalar, a message, '[]T' (repeated) or 'map[K]V'; the Go type is the field's as Go",
        "# prints it in decoding errors; flags: 'keep' (a zero value is still written in JSON: a",
        "# pointer, or a field without omitempty), 'patch=' and 'mergekey=' (its strategic merge",
        "# patch strategy and key), 'list=' and 'listkey=' (its list type and map keys).",
        "kinds:",
    ]
    lines += [f"  {key}: {value}" for key, value in sorted(kinds.items())]
    lines.append("messages:")
    for name in sorted(wanted):
        lines.append(f"  {name}:")
        go = structs.get(name, {})
        for field in sorted(messages[name], key=lambda f: f.number):
            info = go.get(field.number, GoField(field.name, False))
            if field.map_key is not None:
                type_ = f"map[{field.map_key}]{field.type}"
            elif field.repeated:
                type_ = f"[]{field.type}"
            else:
                type_ = field.type
            json_name = info.json if (info.json or not go) else ""
            if go and field.number not in go:
                json_name = field.name
            entry = [json_name, type_, info.go_type or "-"] + (["keep"] if info.keep_zero else []) + list(info.flags)
            rendered = ", ".join(_yaml_word(part) for part in entry)
            lines.append(f"    {field.number}: [{rendered}]")
    return "\n".join(lines) + "\n"


def _yaml_word(part: str) -> str:
    return f'"{part}"' if part == "" or any(c in part for c in "[]*,:{}#&!|>'%@`") else part


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", type=Path, required=True, help="a checkout of github.com/kubernetes/api")
    parser.add_argument("--apimachinery", type=Path, required=True, help="a checkout of kubernetes/apimachinery")
    parser.add_argument(
        "--apiextensions", type=Path, required=True, help="a checkout of kubernetes/apiextensions-apiserver"
    )
    parser.add_argument("--check", action="store_true", help="compare with the repository's file instead")
    args = parser.parse_args(argv)
    text = render(*load(args.api, args.apimachinery, args.apiextensions))
    if args.check:
        if OUT.read_text() != text:
            print(f"{OUT.relative_to(REPO)} is stale: run tools/gen_protobuf_tables.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
