"""A lesson's front matter: the YAML between the two `---` lines at its top, validated.

Every key is checked here (unknown keys, ids, variables and their types, the manifests
folder); `FrontMatter` holds the values the rest of the parse and the `Lesson` use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it.token import Token

from tutor.lesson import variables
from tutor.lesson.parse_context import ParseContext

ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RESERVED_IDS = {"list", "check", "reset", "lint", "doctor", "sandbox", "trust", "workshop"}
"""The CLI's commands: a lesson with one of these ids could not be opened by name."""
KEYS = {
    "id": "the lesson's id, used on the command line (k8s-tutor ID)",
    "title": "the lesson's title",
    "description": "one sentence shown in the lesson list",
    "profile": "the minikube profile the lesson uses (default: minikube)",
    "namespace": "the namespace most checks look in (default: default)",
    "variables": "a mapping of {name} placeholders to default values, or to {default: VALUE, type: TYPE}",
    "requires": "programs the commands need, e.g. [minikube, kubectl]",
    "manifests": "the manifests folder, relative to the lesson file (default: ../manifests)",
}


@dataclass(frozen=True)
class FrontMatter:
    id: str | None
    title: str | None
    description: str = ""
    profile: str = "minikube"
    namespace: str = "default"
    variables: dict[str, str] = field(default_factory=dict)
    variable_types: dict[str, str] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    manifests: Path | None = None

    def sample(self, lesson_dir: Path) -> dict[str, str]:
        """A value for every variable a lesson may use: its own defaults, the built-in ones,
        and a stand-in for those only a cluster knows."""
        known = dict(variables.BUILTIN_VARIABLES)
        known.update(dict.fromkeys(self.variables, ""))
        known.update(variables.RUNTIME_VARIABLES)
        sample = {name: "sample" for name in known}
        sample.update(
            profile=self.profile,
            namespace=self.namespace,
            manifests=str(self.manifests) if self.manifests else "",
            lesson_dir=str(lesson_dir.resolve()),
            node_ip="127.0.0.1",
        )
        sample.update(self.variables)
        return sample


def read(ctx: ParseContext, tokens: list[Token], text: str) -> FrontMatter | None:
    """The front matter, every problem with it reported; None when there is none to read."""
    meta = _mapping(ctx, tokens, text)
    if meta is None:
        return None
    lines = meta["__lines__"]
    lesson_id = _text(ctx, meta, "id")
    title = _text(ctx, meta, "title")
    if lesson_id is None:
        ctx.error(1, "front matter needs 'id:' (the name used in `k8s-tutor ID`)")
    elif not ID.match(lesson_id):
        ctx.error(lines.get("id", 1), f"lesson id '{lesson_id}' must be lower-case letters, digits and '-'")
    elif lesson_id in RESERVED_IDS:
        ctx.error(lines.get("id", 1), f"lesson id '{lesson_id}' is a k8s-tutor command; choose another id")
    if title is None:
        ctx.error(1, "front matter needs 'title:'")
    profile = _text(ctx, meta, "profile", "minikube") or "minikube"
    namespace = _text(ctx, meta, "namespace", "default") or "default"
    description = _text(ctx, meta, "description", "") or ""
    values, types = _variables(ctx, meta)
    return FrontMatter(
        id=lesson_id,
        title=title,
        description=description,
        profile=profile,
        namespace=namespace,
        variables=values,
        variable_types=types,
        requires=_requires(ctx, meta),
        manifests=_manifests_dir(ctx, meta),
    )


def _mapping(ctx: ParseContext, tokens: list[Token], text: str) -> dict[str, Any] | None:
    first = tokens[0] if tokens else None
    if first is None or first.type != "front_matter":
        if text.lstrip("\ufeff").startswith("---"):
            ctx.error(1, "the front matter starting here is never closed with a '---' line")
        else:
            ctx.error(1, "a lesson starts with front matter: '---', then id: and title:, then '---'")
        return None
    try:
        data = yaml.safe_load(first.content)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        ctx.error(line, f"front matter is not valid YAML: {problem}")
        return None
    if not isinstance(data, dict):
        ctx.error(1, "front matter must be a mapping of keys such as id: and title:")
        return None
    key_lines = _key_lines(first.content)
    data["__lines__"] = key_lines
    for key in data:
        if key == "__lines__":
            continue
        if key not in KEYS:
            known = ", ".join(KEYS)
            ctx.error(key_lines.get(str(key), 1), f"unknown front matter key '{key}'; known keys: {known}")
    return data


def _key_lines(content: str) -> dict[str, int]:
    """File line of each top-level front matter key (content starts on file line 2)."""
    found: dict[str, int] = {}
    for offset, line in enumerate(content.splitlines()):
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if match and match.group(1) not in found:
            found[match.group(1)] = offset + 2
    return found


def _text(ctx: ParseContext, meta: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = meta.get(key, default)
    line = meta["__lines__"].get(key, 1)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        ctx.error(line, f"front matter '{key}' must be text")
        return None
    return str(value)


def _variables(ctx: ParseContext, meta: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The author's variables: default values, and the declared types (`string` if none)."""
    raw = meta.get("variables") or {}
    line = meta["__lines__"].get("variables", 1)
    if not isinstance(raw, dict):
        ctx.error(line, "front matter 'variables' must be a mapping of name: value")
        return {}, {}
    values: dict[str, str] = {}
    types: dict[str, str] = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not variables.NAME.match(name):
            ctx.error(line, f"variable name {name!r} must be letters, digits and '_'")
            continue
        if name in variables.BUILTIN_VARIABLES or name in variables.RUNTIME_VARIABLES:
            ctx.error(line, f"variable '{name}' is built in; set it with its own front matter key or flag")
            continue
        kind, value = "string", spec
        if isinstance(spec, dict):
            unknown = set(spec) - {"default", "type"}
            if unknown or "default" not in spec:
                ctx.error(line, f"variable '{name}' is written {{default: VALUE, type: TYPE}}")
                continue
            kind, value = spec.get("type", "string"), spec["default"]
            if not isinstance(kind, str) or kind not in variables.TYPES:
                ctx.error(line, f"variable '{name}' has an unknown type {kind!r}; types: {', '.join(variables.TYPES)}")
                continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            ctx.error(line, f"variable '{name}' must have a single text or number value")
            continue
        wrong = variables.problem(kind, str(value))
        if wrong:
            ctx.error(line, f"variable '{name}': its default {str(value)!r} is not a {kind}: {wrong}")
            continue
        values[name] = str(value)
        types[name] = kind
    return values, types


def _requires(ctx: ParseContext, meta: Mapping[str, Any]) -> tuple[str, ...]:
    raw = meta.get("requires") or []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        ctx.error(meta["__lines__"].get("requires", 1), "front matter 'requires' must be a list of program names")
        return ()
    return tuple(raw)


def _manifests_dir(ctx: ParseContext, meta: Mapping[str, Any]) -> Path | None:
    raw = meta.get("manifests", "../manifests")
    if not isinstance(raw, str):
        ctx.error(meta["__lines__"].get("manifests", 1), "front matter 'manifests' must be a folder path")
        return None
    folder = (ctx.path.parent / raw).resolve()
    if "manifests" in meta and not ctx.exists(folder, folder=True):
        ctx.error(meta["__lines__"].get("manifests", 1), f"manifests folder '{raw}' does not exist")
    return folder
