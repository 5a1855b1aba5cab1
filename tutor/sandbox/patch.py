"""The three patch formats of the API: JSON merge, JSON Patch and strategic merge.

Strategic merge patch merges lists of objects by a key field (containers by name,
volumeMounts by mountPath...) instead of replacing them, and understands the
directives ``kubectl apply`` sends: ``$patch``, ``$setElementOrder/<field>``,
``$retainKeys`` and ``$deleteFromPrimitiveList/<field>``. The merge keys are those of
the built-in types kubectl patches; custom resources fall back to merge semantics.
"""

from __future__ import annotations

from typing import Any

from tutor.sandbox.errors import ApiError, bad_request
from tutor.sandbox.objects import clone

# patchMergeKey of list fields, by field name: the built-in types that kubectl's
# strategic merge patches touch.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "topologySpreadConstraints": "topologyKey",
    "secrets": "name",
}
# Lists of scalars merged as sets rather than replaced.
PRIMITIVE_MERGE = {"finalizers"}


def apply_patch(original: Any, patch: Any, patch_type: str) -> Any:
    if patch_type == "merge":
        return merge_patch(original, patch)
    if patch_type == "json":
        return json_patch(original, patch)
    if patch_type == "strategic":
        if not isinstance(patch, dict):
            raise bad_request("strategic merge patch must be a JSON object")
        return strategic_merge(clone(original), patch, ())
    raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {patch_type!r}")


# ---- RFC 7386 ----------------------------------------------------------------------


def merge_patch(original: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(original) if isinstance(original, dict) else {}
    _merge_into(result, patch)
    return result


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """RFC 7386 in place, on a copy the caller owns (each field copied once)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            _merge_into(current, value)
        else:
            target[key] = clone(value)


# ---- RFC 6902 ----------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return len(container)
    try:
        i = int(token)
    except ValueError:
        raise bad_request(f"invalid array index {token!r}") from None
    limit = len(container) if for_add else len(container) - 1
    if i < 0 or i > limit:
        raise ApiError(
            422,
            "Invalid",
            f"the server rejected our request due to an error in our request: index {i} out of range",
        )
    return i


def _parent(doc: Any, tokens: list[str]) -> Any:
    cur = doc
    for token in tokens[:-1]:
        if isinstance(cur, dict):
            if token not in cur:
                raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(tokens)}")
            cur = cur[token]
        elif isinstance(cur, list):
            cur = cur[_index(cur, token, for_add=False)]
        else:
            raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(tokens)}")
    return cur


def _get(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(tokens)}")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, for_add=False)]
    raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(tokens)}")


def _remove(doc: Any, tokens: list[str]) -> Any:
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise ApiError(422, "Invalid", f"unable to remove nonexistent key: {last}: missing value")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, for_add=False))
    raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(tokens)}")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, for_add=True), value)
    else:
        raise ApiError(422, "Invalid", f"doc is missing path: /{'/'.join(tokens)}")
    return doc


def json_patch(original: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    doc = clone(original)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid json patch operation {op!r}")
        kind, tokens = op["op"], _pointer(op["path"])
        if kind == "add":
            doc = _add(doc, tokens, clone(op.get("value")))
        elif kind == "remove":
            _remove(doc, tokens)
        elif kind == "replace":
            _get(doc, tokens)
            if tokens:
                _remove(doc, tokens)
            doc = _add(doc, tokens, clone(op.get("value")))
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = _remove(doc, source) if kind == "move" else clone(_get(doc, source))
            doc = _add(doc, tokens, value)
        elif kind == "test":
            if _get(doc, tokens) != op.get("value"):
                raise ApiError(422, "Invalid", f"testing value {op['path']} failed")
        else:
            raise bad_request(f"unknown json patch operation {kind!r}")
    return doc


# ---- strategic merge patch ---------------------------------------------------------


def _merge_key(field: str, path: tuple[str, ...]) -> str | None:
    if field == "ports":
        in_container = any(p in ("containers", "initContainers", "ephemeralContainers") for p in path)
        return "containerPort" if in_container else "port"
    if field == "addresses":
        return "type" if "status" in path else None
    return MERGE_KEYS.get(field)


def strategic_merge(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    if patch.get("$patch") == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    result = original
    orders: dict[str, list[Any]] = {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value if isinstance(value, list) else []
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        if isinstance(value, dict):
            if value.get("$patch") == "delete":
                result.pop(key, None)
            elif isinstance(current, dict):
                result[key] = strategic_merge(current, value, (*path, key))
            else:
                result[key] = strategic_merge({}, value, (*path, key))
        elif isinstance(value, list):
            result[key] = _merge_list(current if isinstance(current, list) else None, value, key, path)
        else:
            result[key] = value
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _reorder(result[field], order, _merge_key(field, path))
    if isinstance(retain, list):
        for key in list(result):
            if key not in retain and key not in patch:
                del result[key]
    return result


def _merge_list(current: list[Any] | None, patch: list[Any], field: str, path: tuple[str, ...]) -> list[Any]:
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
        return [clone(e) for e in patch if not (isinstance(e, dict) and e.get("$patch") == "replace")]
    if field in PRIMITIVE_MERGE:
        merged = list(current or [])
        for value in patch:
            if value not in merged:
                merged.append(value)
        return merged
    key = _merge_key(field, path)
    if key is None or current is None:
        return [
            strategic_merge({}, e, (*path, field)) if isinstance(e, dict) else clone(e)
            for e in patch
            if not (isinstance(e, dict) and e.get("$patch") == "delete")
        ]
    merged = list(current)
    for element in patch:
        if not isinstance(element, dict):
            continue
        ident = element.get(key)
        index = next(
            (i for i, e in enumerate(merged) if isinstance(e, dict) and e.get(key) == ident),
            None,
        )
        if element.get("$patch") == "delete":
            merged = [e for e in merged if not (isinstance(e, dict) and e.get(key) == ident)]
        elif index is None:
            merged.append(strategic_merge({}, element, (*path, field)))
        else:
            merged[index] = strategic_merge(merged[index], element, (*path, field))
    return merged


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(item: Any) -> Any:
        if key is not None and isinstance(item, dict):
            return item.get(key)
        return item

    wanted = [ident(o) if isinstance(o, dict) else o for o in order]
    rank = {repr(w): i for i, w in enumerate(wanted)}
    indexed = list(enumerate(items))
    indexed.sort(key=lambda p: rank.get(repr(ident(p[1])), len(rank) + p[0]))
    return [item for _i, item in indexed]
