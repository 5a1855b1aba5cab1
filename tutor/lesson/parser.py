"""Read a lesson file (Markdown + YAML front matter) into a `Lesson`, or say what is wrong.

The format is documented in docs/lesson-format.md. Every problem is reported with the
1-based line of the offending token; parsing never raises on bad input, it collects
`Problem`s, so `lint` can list them all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from tutor.lesson import front_matter
from tutor.lesson.divs import div_plugin
from tutor.lesson.model import Lesson
from tutor.lesson.parse_context import ParseContext
from tutor.lesson.paths import read_lesson_bytes
from tutor.lesson.problems import LessonError as LessonError  # re-exported: the parser raises it
from tutor.lesson.problems import Problem as Problem
from tutor.lesson.steps import BLOCKS, StepReader
from tutor.safe_text import has_controls, strip_controls


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").use(front_matter_plugin).use(div_plugin, names=BLOCKS).enable("table")


def parse_file(path: Path) -> tuple[Lesson | None, list[Problem]]:
    """Parse `path`; returns the lesson (None if unusable) and every problem found."""
    lesson, ctx = _parse_file(path)
    return lesson, ctx.problems


def _parse_file(path: Path) -> tuple[Lesson | None, ParseContext]:
    try:
        raw = read_lesson_bytes(path)
    except OSError as err:
        ctx = ParseContext(path, [])
        ctx.problems.append(Problem(path, 0, f"cannot read the lesson file: {err.strerror or err}"))
        return None, ctx
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        ctx = ParseContext(path, [])
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


def _parse_text(text: str, path: Path) -> tuple[Lesson | None, ParseContext]:
    if "\x00" in text:
        ctx = ParseContext(path, text.splitlines(keepends=True))
        ctx.error(text[: text.index("\x00")].count("\n") + 1, "the lesson file contains a NUL byte")
        return None, ctx
    text, dirty = _without_controls(text)
    ctx = ParseContext(path, text.splitlines(keepends=True))
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
    meta = front_matter.read(ctx, tokens, text)
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


def _lesson(ctx: ParseContext, meta: front_matter.FrontMatter, tokens: list[Token]) -> Lesson | None:
    ctx.sample = meta.sample(ctx.path.parent)
    steps, intro, outro = StepReader(ctx).walk(tokens[1:])
    if not steps and meta.id is not None:
        ctx.error(1, "the lesson has no steps; a step is written '::: step {#id title=\"...\"}' ... ':::'")
    if meta.id is None or meta.title is None:
        return None
    if any(p.severity == "error" for p in ctx.problems):
        return None
    return Lesson(
        id=meta.id,
        title=meta.title,
        path=ctx.path,
        steps=tuple(steps),
        intro=intro,
        outro=outro,
        description=meta.description,
        profile=meta.profile,
        namespace=meta.namespace,
        manifests=meta.manifests,
        variables=meta.variables,
        variable_types=meta.variable_types,
        requires=meta.requires,
    )
