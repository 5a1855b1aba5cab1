"""A step's ```` ```yaml {checks} ```` block: a YAML list of checks, each validated against
`tutor.lesson.schema` and against what the lesson declared before it."""

from __future__ import annotations

from typing import Any

import yaml

from tutor.lesson import commandline, schema, variables
from tutor.lesson.model import CheckSpec
from tutor.lesson.parse_context import ParseContext
from tutor.lesson.resources import parse_ref


def read_checks(ctx: ParseContext, content: str, first_line: int) -> list[CheckSpec]:
    """The checks of a block whose YAML starts on file line `first_line`."""
    try:
        node = yaml.compose(content, Loader=yaml.SafeLoader)
        data = yaml.safe_load(content)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        ctx.error(line, f"checks are not valid YAML: {problem}")
        return []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        ctx.error(first_line, "a checks block is a YAML list: each item starts with '- kind: ...'")
        return []
    result = []
    for item, item_node in zip(data, node.value, strict=True):
        line = first_line + item_node.start_mark.line
        if not isinstance(item, dict):
            ctx.error(line, "each check is a mapping that starts with 'kind:'")
            continue
        spec = _check(ctx, item, item_node, line, first_line)
        if spec is not None:
            result.append(spec)
    return result


def field_lines(node: yaml.Node, first_line: int) -> dict[str, int]:
    """The file line of each key of a YAML mapping node."""
    return {
        str(key.value): first_line + key.start_mark.line
        for key, _ in getattr(node, "value", [])
        if isinstance(key, yaml.ScalarNode)
    }


def _check(ctx: ParseContext, item: dict[str, Any], node: yaml.Node, line: int, first_line: int) -> CheckSpec | None:
    lines = field_lines(node, first_line)
    before = len(ctx.problems)
    for key, value in item.items():
        ctx.check_variables([value], lines.get(str(key), line), in_check=True)
    if len(ctx.problems) > before:
        return None
    resolved = {key: _resolve(value, ctx.sample) for key, value in item.items()}
    validation = schema.validate_check(resolved)
    for problem in validation.problems:
        ctx.error(lines.get(problem.field or "", line), problem.message)
    if validation.problems:
        return None
    kind = str(item["kind"])
    if kind == "process_alive":
        ctx.process_refs.append((resolved["process"], lines.get("process", line)))
    if kind == "data_survives":
        key = resolved["remembered"]
        if key not in ctx.remembered:
            ctx.error(
                lines.get("remembered", line),
                f"no earlier check remembers '{key}' (add remember: {key} to an http check)",
            )
        ref = parse_ref(resolved["replaced"])
        if ref.kind.name != "pod":
            ctx.error(lines.get("replaced", line), "'replaced' must name a pod: pod/NAME")
    if kind == "rollout_complete":
        ref = parse_ref(resolved["object"])
        if ref.kind.name not in ("deployment", "statefulset", "daemonset"):
            ctx.error(
                lines.get("object", line),
                "rollout_complete takes deployment/NAME, statefulset/NAME or daemonset/NAME",
            )
    silences = ctx.silences(item, line, "in the check")
    if kind == "command":
        argv: tuple[str, ...] = ()
        if isinstance(item["run"], str):
            try:
                argv = commandline.parse(item["run"])
            except commandline.BadCommandLine as err:
                ctx.error(lines.get("run", line), str(err))
        else:
            argv = tuple(str(arg) for arg in item["run"])
        ctx.check_reach(argv, (), lines.get("run", line), silences, "in the check")
    urls = [item.get("url"), *(item.get("urls") or [])]
    ctx.check_reach((), [url for url in urls if isinstance(url, str)], line, silences, "in the check")
    ctx.unused_silences(silences, line)
    if "remember" in item:
        ctx.remembered.setdefault(str(resolved["remember"]), line)
    fields = {key: value for key, value in item.items() if key not in ("kind", "title")}
    title = item.get("title")
    return CheckSpec(kind=kind, fields=fields, line=line, title=str(title) if title else None)


def _resolve(value: Any, sample: dict[str, str]) -> Any:
    if isinstance(value, str):
        return variables.substitute(value, sample, strict=False)
    if isinstance(value, list):
        return [_resolve(item, sample) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, sample) for key, item in value.items()}
    return value
