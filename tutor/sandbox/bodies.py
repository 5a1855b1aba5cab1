"""Request bodies: reading them (JSON, YAML, protobuf) and what field validation makes of them.

Every create, update and patch of a built-in kind is checked against the published
schema (``validation.py``), with the ``fieldValidation`` query parameter deciding as on a
real server: a value of the wrong type is always a 400; unknown and duplicate fields are a
400 (create, update) or a 422 (patch) with ``Strict``, warnings with ``Warn`` (the default)
and nothing with ``Ignore``. Server-side apply refuses unknown fields whatever it says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from tutor.sandbox import errors, protobuf, validation
from tutor.sandbox.errors import ApiError
from tutor.sandbox.objects import Obj
from tutor.sandbox.openapi import schemas
from tutor.sandbox.resources import ResourceType

DIRECTIVES = ("Ignore", "Strict", "Warn")


@dataclass
class Body:
    """A decoded body and, for JSON, the objects that repeated a key."""

    value: Any
    duplicates: dict[int, list[str]] = field(default_factory=dict)


def read(content_type: str, raw: bytes) -> Body:
    if content_type.startswith(protobuf.MEDIA_TYPE):
        return Body(_from_protobuf(raw))
    try:
        if "yaml" in content_type:
            return Body(yaml.safe_load(raw.decode()) or {})
        parser = validation.JSONWithDuplicates()
        return Body(parser.loads(raw.decode() or "{}"), parser.duplicates)
    except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"the request body is not valid JSON: {exc}") from None


def _from_protobuf(raw: bytes) -> Obj:
    try:
        return protobuf.decode(raw)
    except protobuf.UnknownKind as unknown:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the k8s-tutor sandbox has no protobuf field tables for {unknown}; send it as JSON or YAML "
            "(kubectl create -f / kubectl apply -f)",
        ) from None
    except protobuf.ProtobufError as bad:
        raise errors.bad_request(f"the protobuf body could not be decoded: {bad}") from None


def directive(value: str | None, options_kind: str) -> str:
    """The fieldValidation directive (Warn when not given); a 422 for another value."""
    if not value:
        return "Warn"
    if value not in DIRECTIVES:
        raise ApiError(
            422,
            "Invalid",
            f'{options_kind}.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "{value}": '
            'supported values: "", "Ignore", "Strict", "Warn"',
            details={"group": "meta.k8s.io", "kind": options_kind},
        )
    return value


def checked(rt: ResourceType, body: Body, mode: str) -> list[str]:
    """Validate a create or update body; the warnings to send. ApiError when refused."""
    name = schemas().for_kind(rt)
    if name is None or not isinstance(body.value, dict):
        return []
    kind = body.value.get("kind") or rt.kind
    version = str(body.value.get("apiVersion") or rt.api_version).rpartition("/")[2]
    try:
        report = validation.check(body.value, name, body.duplicates)
    except validation.DecodeError as bad:
        raise errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {rt.kind}: {bad}') from None
    if mode == "Strict" and report.strict:
        problem = validation.strict_error(report.strict)
        raise errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {rt.kind}: {problem}')
    report.drop_unknown()
    return [] if mode == "Ignore" else report.strict


def checked_patch(rt: ResourceType, patch: Any, patch_type: str, patched: Obj, mode: str) -> list[str]:
    """Validate the object a patch makes; the warnings to send. A 422 naming the patch when
    refused: a strategic merge patch goes through the unstructured converter and is quoted as
    Go prints the patch, a JSON or merge patch through the JSON decoder and is quoted as the
    patched object."""
    name = schemas().for_kind(rt)
    if name is None:
        return []
    strategic = patch_type == "strategic"

    def shown() -> str:
        return validation.go_format(patch) if strategic else json.dumps(patched, separators=(",", ":"))

    # The stored object passed this check when it was written: what a merge patch can get
    # wrong is in what it writes. A JSON patch's operations may touch anything.
    checked = patched if patch_type == "json" else _written(patched, patch)
    try:
        report = validation.check(checked, name, style="unstructured" if strategic else "json")
    except validation.DecodeError as bad:
        raise _patch_invalid(shown(), str(bad)) from None
    if mode == "Strict" and report.strict:
        raise _patch_invalid(shown(), validation.strict_error(report.strict))
    if report.unknown:
        # Found in what the patch wrote; dropped from the object that is stored.
        validation.check(patched, name, style="unstructured" if strategic else "json").drop_unknown()
    return [] if mode == "Ignore" else report.strict


def _written(patched: Any, patch: Any) -> Any:
    """The part of ``patched`` that a merge or strategic merge patch wrote: the fields it
    names, all the way down (a list whole, as a strategic merge makes it)."""
    if not isinstance(patched, dict) or not isinstance(patch, dict):
        return patched
    return {key: _written(patched[key], patch[key]) for key in patch if key in patched}


def _patch_invalid(shown: str, problem: str) -> ApiError:
    detail = f"Invalid value: {json.dumps(shown)}: {problem}"
    return ApiError(
        422,
        "Invalid",
        f' "" is invalid: patch: {detail}',
        details={"causes": [{"reason": "FieldValueInvalid", "message": detail, "field": "patch"}]},
    )


def checked_apply(rt: ResourceType, applied: Obj, namespace: str, name: str) -> None:
    """Server-side apply: an unknown field is an error, whatever fieldValidation says."""
    definition = schemas().for_kind(rt)
    if definition is None:
        return
    try:
        report = validation.check(applied, definition)
    except validation.DecodeError as bad:
        raise errors.bad_request(str(bad)) from None
    if report.ssa_paths:
        group = f"{rt.group}/{rt.version}" if rt.group else rt.version
        where = f"{namespace}/{name}" if namespace else f"/{name}"
        fields = ", ".join(f"{path}: field not declared in schema" for path in report.ssa_paths)
        raise ApiError(500, "", f"failed to create typed patch object ({where}; {group}, Kind={rt.kind}): {fields}")


def warning_header(text: str) -> str:
    """An RFC 7234 warning as the API server sends it (code 299, agent "-")."""
    return "299 - " + json.dumps(text)
