"""Read a lesson file (Markdown + YAML front matter) into a `Lesson`, or say what is wrong.

The format is documented in docs/lesson-format.md. Every problem is reported with the
1-based line of the offending token; parsing never raises on bad input, it collects
`Problem`s, so `lint` can list them all at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from tutor.lesson import attributes, commandline, reach, schema, variables
from tutor.lesson.model import (
    Block,
    CheckSpec,
    Command,
    CommandBlock,
    Hint,
    Lesson,
    Prose,
    Step,
)
from tutor.lesson.paths import path_kind, read_lesson_bytes
from tutor.lesson.problems import LessonError as LessonError  # re-exported: the parser raises it
from tutor.lesson.problems import Problem as Problem
from tutor.lesson.resources import parse_ref
from tutor.safe_text import has_controls, strip_controls

COMMAND_LANGUAGES = {"sh", "shell", "bash", "console", "zsh"}
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RESERVED_IDS = {"list", "check", "reset", "lint", "doctor", "sandbox", "trust", "workshop"}
"""The CLI's commands: a lesson with one of these ids could not be opened by name."""
FRONT_MATTER_KEYS = {
    "id": "the lesson's id, used on the command line (k8s-tutor ID)",
    "title": "the lesson's title",
    "description": "one sentence shown in the lesson list",
    "profile": "the minikube profile the lesson uses (default: minikube)",
    "namespace": "the namespace most checks look in (default: default)",
    "variables": "a mapping of {name} placeholders to default values, or to {default: VALUE, type: TYPE}",
    "requires": "programs the commands need, e.g. [minikube, kubectl]",
    "manifests": "the manifests folder, relative to the lesson file (default: ../manifests)",
}
COMMAND_ATTRIBUTES = {"background", "id", "ready", "manual", "timeout", "ok", "cleanup", "ask", "port", *reach.SILENCES}
STEP_ATTRIBUTES = {"id", "title", "timeout"}
_TIP = re.compile(r"^\s*>\s*\[!TIP\]\s*$", re.IGNORECASE)


@dataclass
class _Context:
    path: Path
    lines: list[str]
    problems: list[Problem] = field(default_factory=list)
    looked_at: dict[Path, str] = field(default_factory=dict)
    """Files and folders besides the lesson that the result depends on, and what each was."""

    def exists(self, path: Path, *, folder: bool = False) -> bool:
        kind = path_kind(path)
        self.looked_at[path] = kind
        return kind == "folder" if folder else kind != "missing"

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, max(line, 1), message))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, max(line, 1), message, "warning"))

    def source(self, start: int, end: int) -> str:
        return "".join(self.lines[start:end])


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").use(front_matter_plugin).use(container_plugin, name="step").enable("table")


def parse_file(path: Path) -> tuple[Lesson | None, list[Problem]]:
    """Parse `path`; returns the lesson (None if unusable) and every problem found."""
    lesson, ctx = _parse_file(path)
    return lesson, ctx.problems


def _parse_file(path: Path) -> tuple[Lesson | None, _Context]:
    try:
        raw = read_lesson_bytes(path)
    except OSError as err:
        ctx = _Context(path, [])
        ctx.problems.append(Problem(path, 0, f"cannot read the lesson file: {err.strerror or err}"))
        return None, ctx
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        ctx = _Context(path, [])
        ctx.error(raw[: err.start].count(b"\n") + 1, "the lesson file is not UTF-8 text")
        return None, ctx
    return _parse_text(text, path)


def load(path: Path) -> Lesson:
    """Parse `path` or raise LessonError; warnings alone do not stop a lesson from loading."""
    return load_traced(path)[0]


def load_traced(path: Path) -> tuple[Lesson, Mapping[Path, str]]:
    """As `load`, with the other files and folders the result depends on, and `path_kind` of each.

    A lesson is valid only if the manifests it names exist, so whoever keeps a parsed
    lesson (the CLI's cache) must look at them again before using it.
    """
    lesson, ctx = _parse_file(path)
    errors = [p for p in ctx.problems if p.severity == "error"]
    if lesson is None or errors:
        raise LessonError(errors or ctx.problems)
    return lesson, dict(ctx.looked_at)


def parse_text(text: str, path: Path) -> tuple[Lesson | None, list[Problem]]:
    lesson, ctx = _parse_text(text, path)
    return lesson, ctx.problems


def _parse_text(text: str, path: Path) -> tuple[Lesson | None, _Context]:
    if "\x00" in text:
        ctx = _Context(path, text.splitlines(keepends=True))
        ctx.error(text[: text.index("\x00")].count("\n") + 1, "the lesson file contains a NUL byte")
        return None, ctx
    text, dirty = _without_controls(text)
    ctx = _Context(path, text.splitlines(keepends=True))
    for line in dirty:
        ctx.warn(
            line,
            "control characters or escape sequences removed: a lesson shows and runs only printable text",
        )
    try:
        tokens = _markdown().parse(text)
    except Exception as err:  # markdown-it is robust, but a lesson must never crash lint
        ctx.error(1, f"cannot parse the Markdown: {err}")
        return None, ctx
    meta = _front_matter(ctx, tokens, text)
    if meta is None:
        return None, ctx
    lesson = _lesson(ctx, meta, tokens)
    _sort(ctx.problems)
    return lesson, ctx


def _without_controls(text: str) -> tuple[str, list[int]]:
    """`text` without control and escape sequences (`tutor.safe_text`), and the lines that had
    any. Line ends stay as they were (`\r\n` too); a lone `\r` is a control like the others."""
    if not has_controls(text.replace("\r\n", "\n")):
        return text, []
    lines = text.split("\n")
    dirty = []
    for number, line in enumerate(lines):
        body, crlf = (line[:-1], "\r") if line.endswith("\r") else (line, "")
        if has_controls(body):
            dirty.append(number + 1)
            lines[number] = strip_controls(body) + crlf
    return "\n".join(lines), dirty


def _sort(problems: list[Problem]) -> None:
    problems.sort(key=lambda p: (str(p.path), p.line))


# --- front matter ---------------------------------------------------------------------


def _front_matter(ctx: _Context, tokens: list[Token], text: str) -> dict[str, Any] | None:
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
        if key not in FRONT_MATTER_KEYS:
            known = ", ".join(FRONT_MATTER_KEYS)
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


def _meta_str(ctx: _Context, meta: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = meta.get(key, default)
    line = meta["__lines__"].get(key, 1)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        ctx.error(line, f"front matter '{key}' must be text")
        return None
    return str(value)


# --- the document -------------------------------------------------------------------


def _lesson(ctx: _Context, meta: dict[str, Any], tokens: list[Token]) -> Lesson | None:
    lines = meta["__lines__"]
    lesson_id = _meta_str(ctx, meta, "id")
    title = _meta_str(ctx, meta, "title")
    if lesson_id is None:
        ctx.error(1, "front matter needs 'id:' (the name used in `k8s-tutor ID`)")
    elif not ID.match(lesson_id):
        ctx.error(
            lines.get("id", 1),
            f"lesson id '{lesson_id}' must be lower-case letters, digits and '-'",
        )
    elif lesson_id in RESERVED_IDS:
        ctx.error(lines.get("id", 1), f"lesson id '{lesson_id}' is a k8s-tutor command; choose another id")
    if title is None:
        ctx.error(1, "front matter needs 'title:'")
    profile = _meta_str(ctx, meta, "profile", "minikube") or "minikube"
    namespace = _meta_str(ctx, meta, "namespace", "default") or "default"
    description = _meta_str(ctx, meta, "description", "") or ""
    user_vars, var_types = _variables(ctx, meta)
    requires = _requires(ctx, meta)
    manifests = _manifests_dir(ctx, meta)

    known_vars = dict(variables.BUILTIN_VARIABLES)
    known_vars.update(dict.fromkeys(user_vars, ""))
    known_vars.update(variables.RUNTIME_VARIABLES)
    sample = {name: "sample" for name in known_vars}
    sample.update(
        profile=profile,
        namespace=namespace,
        manifests=str(manifests) if manifests else "",
        lesson_dir=str(ctx.path.parent.resolve()),
        node_ip="127.0.0.1",
    )
    sample.update(user_vars)

    builder = _Builder(ctx, sample, manifests)
    steps, intro, outro = builder.walk(tokens[1:])
    if not steps and lesson_id is not None:
        ctx.error(1, "the lesson has no steps; a step is written '::: step {#id title=\"...\"}' ... ':::'")
    if lesson_id is None or title is None:
        return None
    if any(p.severity == "error" for p in ctx.problems):
        return None
    return Lesson(
        id=lesson_id,
        title=title,
        path=ctx.path,
        steps=tuple(steps),
        intro=intro,
        outro=outro,
        description=description,
        profile=profile,
        namespace=namespace,
        manifests=manifests,
        variables=user_vars,
        variable_types=var_types,
        requires=requires,
    )


def _variables(ctx: _Context, meta: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
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


def _requires(ctx: _Context, meta: Mapping[str, Any]) -> tuple[str, ...]:
    raw = meta.get("requires") or []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        ctx.error(
            meta["__lines__"].get("requires", 1),
            "front matter 'requires' must be a list of program names",
        )
        return ()
    return tuple(raw)


def _manifests_dir(ctx: _Context, meta: Mapping[str, Any]) -> Path | None:
    raw = meta.get("manifests", "../manifests")
    if not isinstance(raw, str):
        ctx.error(meta["__lines__"].get("manifests", 1), "front matter 'manifests' must be a folder path")
        return None
    folder = (ctx.path.parent / raw).resolve()
    if "manifests" in meta and not ctx.exists(folder, folder=True):
        ctx.error(meta["__lines__"].get("manifests", 1), f"manifests folder '{raw}' does not exist")
    return folder


class _Builder:
    """Walks the token stream: intro prose, steps, outro prose."""

    def __init__(self, ctx: _Context, sample: dict[str, str], manifests: Path | None) -> None:
        self.ctx = ctx
        self.sample = sample
        self.manifests = manifests
        self.step_ids: dict[str, int] = {}
        self.process_ids: dict[str, int] = {}
        self.remembered: dict[str, int] = {}
        self.process_refs: list[tuple[str, int]] = []
        self.checks_blocks = 0

    def walk(self, tokens: list[Token]) -> tuple[list[Step], str, str]:
        steps: list[Step] = []
        intro: list[str] = []
        outro: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.type == "container_step_open":
                end = _matching_close(tokens, i)
                step = self.step(token, tokens[i + 1 : end], tokens[end] if end < len(tokens) else None)
                if step is not None:
                    steps.append(step)
                i = end + 1
                continue
            if token.level == 0 and token.map is not None:
                self.outside_step(token)
                (outro if steps else intro).append(self.ctx.source(*token.map))
            i += 1
        return steps, "".join(intro).strip(), "".join(outro).strip()

    def outside_step(self, token: Token) -> None:
        line = token.map[0] + 1 if token.map else 1
        if token.type == "fence":
            lang, attrs = attributes.split_info(token.info)
            if lang in COMMAND_LANGUAGES or (attrs and "checks" in attrs):
                self.ctx.error(line, "commands and checks belong inside a step ('::: step {#id}' ... ':::')")
        elif token.type == "paragraph_open":
            self.stray_marker(token)
        if token.map is not None:
            self.check_text_variables(self.ctx.source(*token.map), line)

    def stray_marker(self, token: Token) -> None:
        if token.map is None:
            return
        for offset, text in enumerate(self.ctx.lines[token.map[0] : token.map[1]]):
            stripped = text.strip()
            if not stripped.startswith(":::"):
                continue
            line = token.map[0] + offset + 1
            rest = stripped.lstrip(":").strip()
            if not rest:
                self.ctx.error(line, "':::' here closes no step")
            else:
                name = rest.split()[0]
                self.ctx.error(line, f"unknown block '::: {name}'; the only block is '::: step'")

    # --- steps ---

    def step(self, open_token: Token, body: list[Token], close: Token | None) -> Step | None:
        assert open_token.map is not None
        line = open_token.map[0] + 1
        if open_token.level > 0:
            return None  # reported by the enclosing step
        info = open_token.info.strip()
        attr_text = info[len("step") :].strip() if info.startswith("step") else info
        attrs: dict[str, str] = {}
        unreadable = False  # said once: not again as "no id"
        if not info.startswith("step") or (attr_text and not attr_text.startswith("{")):
            self.ctx.error(line, f"cannot read '::: {info}'; write '::: step {{#id title=\"...\"}}'")
            unreadable = True
        elif attr_text:
            try:
                attrs = attributes.parse(attr_text)
            except attributes.BadAttributes as err:
                self.ctx.error(line, f"bad step attributes: {err}")
                unreadable = True
        for key in attrs:
            if key not in STEP_ATTRIBUTES:
                self.ctx.error(line, f"unknown step attribute '{key}'; known: #id, title, timeout")
        if close is None or close.markup == "":
            self.ctx.error(line, "this step is never closed with ':::'")
        step_id = attrs.get("id")
        if not step_id:
            if not unreadable:
                self.ctx.error(line, "the step has no id; write '::: step {#my-step title=\"...\"}'")
            step_id = f"line-{line}"
        elif not ID.match(step_id):
            self.ctx.error(line, f"step id '{step_id}' must be lower-case letters, digits and '-'")
        if step_id in self.step_ids:
            self.ctx.error(line, f"duplicate step id '{step_id}' (first used on line {self.step_ids[step_id]})")
        self.step_ids.setdefault(step_id, line)
        timeout = 180.0
        if "timeout" in attrs:
            problem = schema.positive_number(attrs["timeout"])
            if problem:
                self.ctx.error(line, f"step timeout {problem}")
            else:
                timeout = float(attrs["timeout"])

        blocks: list[Block] = []
        checks: list[CheckSpec] = []
        hints: list[Hint] = []
        cleanup: list[Command] = []
        title = attrs.get("title")
        self.checks_blocks = 0
        for token in body:
            if token.type == "container_step_open":
                assert token.map is not None
                self.ctx.error(
                    token.map[0] + 1,
                    f"a step starts inside step '{step_id}' (line {line}); close that one with ':::' first",
                )
                continue
            if token.level != 1 or token.map is None:
                continue
            tline = token.map[0] + 1
            if token.type == "fence":
                self.fence(token, step_id, blocks, checks, cleanup)
            elif token.type == "blockquote_open" and _TIP.match(self.ctx.lines[token.map[0]]):
                hint = _unquote(self.ctx.source(*token.map))
                self.check_text_variables(hint, tline)
                hints.append(Hint(hint, tline))
            else:
                if token.type == "paragraph_open":
                    self.stray_marker(token)
                if title is None and token.type == "heading_open":
                    title = self.ctx.lines[token.map[0]].strip().lstrip("#").strip()
                text = self.ctx.source(*token.map).rstrip("\n")
                self.check_text_variables(text, tline)
                blocks.append(Prose(text, tline))
        for process_id, ref_line in self.process_refs:
            if process_id not in self.process_ids:
                self.ctx.error(
                    ref_line,
                    f"no background command with id '{process_id}' in this step or an earlier one",
                )
        self.process_refs.clear()
        if not title:
            if not unreadable:
                self.ctx.error(line, f"step '{step_id}' has no title; add title=\"...\" to its attributes")
            title = step_id
        if not self.checks_blocks:
            self.ctx.error(line, f"step '{step_id}' has no checks; add a ```yaml {{checks}} block")
        if not hints:
            self.ctx.warn(line, f"step '{step_id}' has no hints; add one with '> [!TIP]'")
        return Step(
            id=step_id,
            title=title,
            line=line,
            blocks=tuple(_merge_prose(blocks)),
            checks=tuple(checks),
            hints=tuple(hints),
            cleanup=tuple(cleanup),
            timeout=timeout,
        )

    def fence(
        self,
        token: Token,
        step_id: str,
        blocks: list[Block],
        checks: list[CheckSpec],
        cleanup: list[Command],
    ) -> None:
        assert token.map is not None
        line = token.map[0] + 1
        lang, attr_text = attributes.split_info(token.info)
        attrs: dict[str, str] = {}
        if attr_text is not None:
            try:
                attrs = attributes.parse(attr_text)
            except attributes.BadAttributes as err:
                self.ctx.error(line, f"bad attributes: {err}")
                return
        if "checks" in attrs:
            if lang not in ("yaml", "yml", ""):
                self.ctx.error(line, "a checks block is YAML: write ```yaml {checks}")
            extra = set(attrs) - {"checks"}
            if extra:
                self.ctx.error(
                    line,
                    f"a checks block takes no other attributes (got {', '.join(sorted(extra))})",
                )
            self.checks_blocks += 1
            checks.extend(self.checks(token.content, line + 1))
            return
        if lang not in COMMAND_LANGUAGES:
            if attrs:
                self.ctx.error(
                    line,
                    f"attributes on a '{lang or 'plain'}' block have no meaning; commands use ```sh",
                )
            blocks.append(Prose(self.ctx.source(*token.map).rstrip("\n"), line))
            return
        for key in attrs:
            if key not in COMMAND_ATTRIBUTES:
                known = ", ".join(sorted(COMMAND_ATTRIBUTES))
                self.ctx.error(line, f"unknown command attribute '{key}'; known: {known}")
        commands = self.commands(token.content, line + 1, attrs, step_id)
        if "cleanup" in attrs:
            cleanup.extend(commands)
        elif commands:
            blocks.append(CommandBlock(tuple(commands), line))

    def commands(self, content: str, first_line: int, attrs: dict[str, str], step_id: str) -> list[Command]:
        try:
            lines = commandline.split_block(content)
        except commandline.BadCommandLine as err:
            self.ctx.error(first_line + err.line, str(err))
            return []
        background = "background" in attrs
        if background and len(lines) != 1:
            self.ctx.error(first_line - 1, "a background block holds exactly one command")
        if "ask" in attrs and "cleanup" not in attrs:
            self.ctx.error(first_line - 1, "'ask' is for cleanup blocks ({cleanup ask=\"...\"})")
        if not background:
            for key in ("id", "ready", "port"):
                if key in attrs:
                    self.ctx.error(
                        first_line - 1,
                        f"'{key}' is for background commands ({{background {key}=...}})",
                    )
        if background and ("manual" in attrs or "cleanup" in attrs):
            self.ctx.error(first_line - 1, "a background command cannot also be manual or cleanup")
        ready = attrs.get("ready")
        if ready is not None:
            problem = schema.regex(ready)
            if problem:
                self.ctx.error(first_line - 1, f"'ready' {problem}")
                ready = None
        timeout = None
        if "timeout" in attrs:
            problem = schema.positive_number(attrs["timeout"])
            if problem:
                self.ctx.error(first_line - 1, f"command timeout {problem}")
            else:
                timeout = float(attrs["timeout"])
        ok_exit: tuple[int, ...] = (0,)
        if "ok" in attrs:
            try:
                ok_exit = tuple(int(code) for code in attrs["ok"].split(","))
            except ValueError:
                self.ctx.error(
                    first_line - 1,
                    f"'ok' must list exit statuses like \"0,1\", not {attrs['ok']!r}",
                )
        port = attrs.get("port") if background else None
        if port is not None and not self.valid_port(port, first_line - 1):
            port = None
        process_id = attrs.get("id")
        if background:
            process_id = process_id or f"{step_id}-{len(self.process_ids) + 1}"
            if process_id in self.process_ids:
                self.ctx.error(
                    first_line - 1,
                    f"duplicate background id '{process_id}' (first used on line {self.process_ids[process_id]})",
                )
            self.process_ids.setdefault(process_id, first_line - 1)
        silences = self.silences(attrs, first_line - 1, "on the block")
        result = []
        for cmd in lines:
            cmd_line = first_line + cmd.offset
            self.check_variables(cmd.argv, cmd_line)
            self.check_manifest_paths(cmd.argv, cmd_line)
            self.check_reach(cmd.argv, (), cmd_line, silences, "on the block")
            result.append(
                Command(
                    argv=cmd.argv,
                    line=cmd_line,
                    text=cmd.text,
                    background=background,
                    id=process_id,
                    ready=ready,
                    manual="manual" in attrs,
                    timeout=timeout,
                    ok_exit=ok_exit,
                    ask=attrs.get("ask"),
                    port=port,
                )
            )
        self.unused_silences(silences, first_line - 1)
        return result

    def silences(self, given: Mapping[str, Any], line: int, where: str) -> dict[str, bool]:
        """The silences `given` (attributes or check fields), each with whether it was needed yet."""
        found = {}
        for key in reach.SILENCES:
            if key not in given:
                continue
            reason = given[key]
            if not isinstance(reason, str) or not reason.strip() or reason == "true":
                self.ctx.error(line, f"'{key}' needs a reason: {key}=\"why this lesson needs it\" {where}")
            found[key] = False
        return found

    def unused_silences(self, silences: Mapping[str, bool], line: int) -> None:
        for key, used in silences.items():
            if not used:
                self.ctx.warn(line, f"'{key}' silences nothing here: remove it")

    def check_reach(
        self, argv: Sequence[str], urls: Sequence[str], line: int, silences: dict[str, bool], where: str
    ) -> None:
        """Warn about the program `argv` runs and the hosts it (or `urls`) reaches, unless silenced."""
        found = []
        if argv:
            program = variables.substitute(argv[0], self.sample, strict=False)
            found.extend(reach.program_warnings(argv[0], program))
        hosts = [*reach.hosts_in(argv), *(host for url in urls for host in reach.hosts_in(("curl", url)))]
        found.extend(reach.host_warnings(hosts, self.sample))
        for warning in found:
            if warning.silence in silences:
                silences[warning.silence] = True
                continue
            self.ctx.warn(line, f'{warning.message}; if that is meant, say why with {warning.silence}="..." {where}')

    def valid_port(self, port: str, line: int) -> bool:
        """`port` is a port number (1-65535), or a variable whose value is one."""
        before = len(self.ctx.problems)
        self.check_variables([port], line)
        if len(self.ctx.problems) > before:
            return False
        value = variables.substitute(port, self.sample, strict=False)
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
            self.ctx.error(line, f"'port' must be a port number (1-65535) or a variable that holds one, not {value!r}")
            return False
        return True

    def check_variables(self, values: Iterable[Any], line: int) -> None:
        for value in values:
            if isinstance(value, list):
                self.check_variables(value, line)
            elif isinstance(value, dict):
                self.check_variables(value.values(), line)
            elif isinstance(value, str):
                for name in variables.names(value):
                    if name not in self.sample:
                        known = ", ".join(sorted(self.sample))
                        self.ctx.error(line, f"unknown variable '{{{name}}}'; known: {known}")

    def check_text_variables(self, text: str, line: int) -> None:
        """Prose may use variables too; report each unknown one on its own line."""
        for offset, text_line in enumerate(text.splitlines()):
            self.check_variables([text_line], line + offset)

    def check_manifest_paths(self, argv: Iterable[str], line: int) -> None:
        for arg in argv:
            if "{manifests}" not in arg and "{lesson_dir}" not in arg:
                continue
            try:
                path = Path(variables.substitute(arg, self.sample))
            except variables.UnknownVariable:
                continue
            if not self.ctx.exists(path):
                self.ctx.error(line, f"manifest '{arg}' not found (looked for {path})")

    # --- checks ---

    def checks(self, content: str, first_line: int) -> list[CheckSpec]:
        try:
            node = yaml.compose(content, Loader=yaml.SafeLoader)
            data = yaml.safe_load(content)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
            line = first_line + mark.line if mark is not None else first_line
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            self.ctx.error(line, f"checks are not valid YAML: {problem}")
            return []
        if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
            self.ctx.error(first_line, "a checks block is a YAML list: each item starts with '- kind: ...'")
            return []
        result = []
        for item, item_node in zip(data, node.value, strict=True):
            line = first_line + item_node.start_mark.line
            if not isinstance(item, dict):
                self.ctx.error(line, "each check is a mapping that starts with 'kind:'")
                continue
            spec = self.check(item, item_node, line, first_line)
            if spec is not None:
                result.append(spec)
        return result

    def check(self, item: dict[str, Any], node: yaml.Node, line: int, first_line: int) -> CheckSpec | None:
        field_lines = {
            str(key.value): first_line + key.start_mark.line
            for key, _ in getattr(node, "value", [])
            if isinstance(key, yaml.ScalarNode)
        }
        before = len(self.ctx.problems)
        for key, value in item.items():
            self.check_variables([value], field_lines.get(str(key), line))
        if len(self.ctx.problems) > before:
            return None
        resolved = {key: _resolve(value, self.sample) for key, value in item.items()}
        validation = schema.validate_check(resolved)
        for problem in validation.problems:
            self.ctx.error(field_lines.get(problem.field or "", line), problem.message)
        if validation.problems:
            return None
        kind = str(item["kind"])
        if kind == "process_alive":
            self.process_refs.append((resolved["process"], field_lines.get("process", line)))
        if kind == "data_survives":
            key = resolved["remembered"]
            if key not in self.remembered:
                self.ctx.error(
                    field_lines.get("remembered", line),
                    f"no earlier check remembers '{key}' (add remember: {key} to an http check)",
                )
            ref = parse_ref(resolved["replaced"])
            if ref.kind.name != "pod":
                self.ctx.error(field_lines.get("replaced", line), "'replaced' must name a pod: pod/NAME")
        if kind == "rollout_complete":
            ref = parse_ref(resolved["object"])
            if ref.kind.name not in ("deployment", "statefulset", "daemonset"):
                self.ctx.error(
                    field_lines.get("object", line),
                    "rollout_complete takes deployment/NAME, statefulset/NAME or daemonset/NAME",
                )
        silences = self.silences(item, line, "in the check")
        if kind == "command":
            argv: tuple[str, ...] = ()
            if isinstance(item["run"], str):
                try:
                    argv = commandline.parse(item["run"])
                except commandline.BadCommandLine as err:
                    self.ctx.error(field_lines.get("run", line), str(err))
            else:
                argv = tuple(str(arg) for arg in item["run"])
            self.check_reach(argv, (), field_lines.get("run", line), silences, "in the check")
        urls = [item.get("url"), *(item.get("urls") or [])]
        self.check_reach((), [url for url in urls if isinstance(url, str)], line, silences, "in the check")
        self.unused_silences(silences, line)
        if "remember" in item:
            self.remembered.setdefault(str(resolved["remember"]), line)
        fields = {key: value for key, value in item.items() if key not in ("kind", "title")}
        title = item.get("title")
        return CheckSpec(kind=kind, fields=fields, line=line, title=str(title) if title else None)


def _resolve(value: Any, sample: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return variables.substitute(value, sample, strict=False)
    if isinstance(value, list):
        return [_resolve(item, sample) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, sample) for key, item in value.items()}
    return value


def _matching_close(tokens: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].type == "container_step_open":
            depth += 1
        elif tokens[index].type == "container_step_close":
            depth -= 1
            if depth == 0:
                return index
    return len(tokens)


def _unquote(text: str) -> str:
    """A `> [!TIP]` blockquote's text, without the markers."""
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"^\s*>\s?", "", raw)
        lines.append(line)
    if lines and re.match(r"^\s*\[!TIP\]\s*$", lines[0], re.IGNORECASE):
        lines = lines[1:]
    return "\n".join(lines).strip()


def _merge_prose(blocks: list[Block]) -> list[Block]:
    """Adjacent prose slices become one, so a view renders whole paragraphs and lists."""
    merged: list[Block] = []
    for block in blocks:
        if isinstance(block, Prose) and merged and isinstance(merged[-1], Prose):
            previous = merged[-1]
            merged[-1] = Prose(previous.markdown + "\n\n" + block.markdown, previous.line)
        else:
            merged.append(block)
    return merged
