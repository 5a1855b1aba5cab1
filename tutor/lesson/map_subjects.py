"""What the live object map starts from: the objects a lesson's checks name, and its `map:`.

The map (drawn by both views, built in `tutor.cluster.object_map`) shows the objects a
lesson builds and how they hang together. Which objects is lesson data, never code per
lesson: every object a check is about (`rollout_complete statefulset/mongo`, the pods of a
`pods_ready` selector, the workload of a `served_by`...), plus what the front matter's
`map:` adds, each with the step it belongs to. The cluster layer then follows the
relations Kubernetes itself records (owners, claims, volumes, classes, endpoints, ingress
backends) from these to the rest.

Everything here is as written: `{variables}` are filled in by whoever resolves the
subjects for a cluster (the session).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from tutor.lesson import resources
from tutor.lesson.model import MapEntry

if TYPE_CHECKING:
    from tutor.lesson.model import CheckSpec, Lesson
    from tutor.lesson.parse_context import ParseContext

MAP_KINDS = (
    "storageclass",
    "persistentvolume",
    "persistentvolumeclaim",
    "deployment",
    "replicaset",
    "statefulset",
    "daemonset",
    "pod",
    "service",
    "ingress",
)
"""The kinds the map draws (`tutor.lesson.resources` names)."""

ENTRY_KEYS = {
    "object": "KIND/NAME of the object, as checks name objects (statefulset/mongo, svc/pacman)",
    "namespace": "its namespace (default: the lesson's)",
    "step": "the id of the step that makes it (default: the step its maker or a check belongs to)",
}


@dataclass(frozen=True)
class MapSubject:
    """An object (or the pods of a selector) the map starts from, and the step it belongs to."""

    kind: str
    """A `MAP_KINDS` name."""
    name: str | None = None
    selector: str | None = None
    """For pods named by a label selector (`pods_ready`), instead of a name."""
    namespace: str | None = None
    """As written; None: the lesson's namespace."""
    step: str | None = None
    declared: bool = False
    """From the front matter: its `step` is the author's word, over what the cluster shows."""


def subjects(lesson: Lesson) -> tuple[MapSubject, ...]:
    """The map's subjects, as written: the front matter's entries, then what each step's
    checks are about, in the lesson's order."""
    found = [_declared(entry) for entry in lesson.map]
    for step in lesson.steps:
        for spec in step.checks:
            found.extend(check_subjects(spec, step.id))
    return tuple(subject for subject in found if subject is not None)


def check_subjects(spec: CheckSpec, step: str | None = None) -> list[MapSubject]:
    """The objects a check is about, of the kinds the map draws.

    `absent` names what must not exist; `addon_enabled` is about an addon's internals, which
    the lesson never builds; `http`, `process_alive` and `command` name no object but through
    `served_by`."""
    fields = spec.fields
    namespace = _text(fields.get("namespace"))
    named: list[tuple[str, str | None, str | None]] = []
    match spec.kind:
        case "exists" | "field_equals" | "rollout_complete":
            named.append(_ref(fields.get("object")))
        case "default_storageclass":
            named.append(("storageclass", _text(fields.get("name")), None))
        case "pvc_bound":
            named.append(("persistentvolumeclaim", _text(fields.get("name")), None))
        case "ingress_address":
            named.append(("ingress", _text(fields.get("name")), None))
        case "pods_ready":
            named.append(("pod", None, _text(fields.get("selector"))))
        case "data_survives":
            named.append(_ref(fields.get("replaced")))
        case "absent" | "addon_enabled" | "http" | "process_alive" | "command":
            pass
        case _:
            raise ValueError(f"the map does not know what a {spec.kind!r} check is about")
    served = fields.get("served_by")
    if isinstance(served, Mapping):
        named.append((str(served.get("kind", "")), _text(served.get("name")), None))
    return [
        MapSubject(kind, name, selector, namespace, step)
        for kind, name, selector in named
        if kind in MAP_KINDS and (name or selector)
    ]


def _declared(entry: MapEntry) -> MapSubject | None:
    kind, name, _ = _ref(entry.object)
    if kind not in MAP_KINDS:
        return None
    return MapSubject(kind, name, None, entry.namespace, entry.step, declared=True)


def _ref(value: object) -> tuple[str, str | None, str | None]:
    """`KIND/NAME` as written -> (canonical kind, name); ("", None) when it is not one."""
    if not isinstance(value, str):
        return "", None, None
    kind_name, _, name = value.partition("/")
    found = resources.lookup(kind_name)
    return (found.name if found else "", name or None, None)


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None


# --- the front matter's `map:` -------------------------------------------------------------


def read_entries(ctx: ParseContext, raw: Any, line: int, content: str) -> tuple[MapEntry, ...]:
    """The front matter's `map:` (a list of `KIND/NAME`, or of mappings with `object`,
    `namespace` and `step`), every problem with its shape reported at its line.

    Step ids and variables are checked once the steps are read (`check_entries`)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        ctx.error(line, "front matter 'map' must be a list of objects, such as [statefulset/mongo, service/mongo]")
        return ()
    lines = _item_lines(content, len(raw), line)
    entries = []
    for item, item_line in zip(raw, lines, strict=True):
        entry = _entry(ctx, item, item_line)
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


def _entry(ctx: ParseContext, item: Any, line: int) -> MapEntry | None:
    fields: Any = {"object": item} if isinstance(item, str) else item
    if not isinstance(fields, Mapping):
        ctx.error(line, "a map entry is KIND/NAME, or a mapping such as {object: service/mongo, step: deploy}")
        return None
    unknown = [str(key) for key in fields if key not in ENTRY_KEYS]
    if unknown:
        ctx.error(line, f"a map entry has no key '{unknown[0]}'; its keys: {', '.join(ENTRY_KEYS)}")
        return None
    for key in ENTRY_KEYS:
        if key in fields and not isinstance(fields[key], str):
            ctx.error(line, f"the map entry's '{key}' must be text ({ENTRY_KEYS[key]})")
            return None
    text = fields.get("object")
    if text is None:
        ctx.error(line, f"a map entry needs 'object': {ENTRY_KEYS['object']}")
        return None
    try:
        ref = resources.parse_ref(text)
    except resources.BadObjectRef as err:
        ctx.error(line, f"map entry: {err}")
        return None
    if ref.kind.name not in MAP_KINDS:
        drawn = ", ".join(MAP_KINDS)
        ctx.error(line, f"the map does not draw {ref.kind.plural}; it draws {drawn}")
        return None
    namespace = fields.get("namespace")
    if namespace is not None and not ref.kind.namespaced:
        ctx.error(line, f"{ref.kind.plural} belong to no namespace: leave out the map entry's 'namespace'")
        return None
    return MapEntry(text, line, namespace, fields.get("step"))


def check_entries(ctx: ParseContext, entries: Sequence[MapEntry]) -> None:
    """What needs the whole lesson: the steps an entry names, the variables it uses, and an
    object named twice."""
    seen: dict[tuple[str, str, str | None], int] = {}
    for entry in entries:
        ctx.check_variables([entry.object, entry.namespace or ""], entry.line)
        if entry.step is not None and entry.step not in ctx.step_ids:
            known = ", ".join(ctx.step_ids) or "none"
            ctx.error(entry.line, f"the map entry's step '{entry.step}' is not a step of this lesson; steps: {known}")
        kind, name, _ = _ref(entry.object)
        key = (kind, name or "", entry.namespace)
        if key in seen:
            ctx.warn(entry.line, f"{entry.object} is in the map already (line {seen[key]})")
        seen.setdefault(key, entry.line)


def _item_lines(content: str, count: int, fallback: int) -> list[int]:
    """The file line of each item of the front matter's `map:` list (content starts on line 2)."""
    lines = [fallback] * count
    try:
        root = yaml.compose(content)
    except yaml.YAMLError:
        return lines
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "map" and isinstance(value, yaml.SequenceNode):
            for index, item in enumerate(value.value[:count]):
                lines[index] = item.start_mark.line + 2
    return lines
