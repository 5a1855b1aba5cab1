"""Lesson prose as a view draws it: headings and paragraphs, with their inline styles.

`document(text)` parses Markdown as Textual's `Markdown` widget does (markdown-it's
"gfm-like" preset: CommonMark, tables, strikethrough, links found in the text) and
returns its blocks, if they are all headings and paragraphs: a view can draw those
without Textual's Markdown (`tutor/ui/widgets/prose_view.py`); for anything else
(lists, quotes, code, tables, rules, HTML) it returns None. Parsing needs markdown-it
and, for the links, linkify's large expressions: ~35 ms the first time in a process.
So the documents of a lesson's prose, as drawn with its default variables, are
computed when the lesson is parsed and kept with it (`tutor.lesson_cache`), which hands
them back here (`remember`) when it loads the lesson; a text not remembered is parsed.

`display_markdown` is the clean-up lesson prose gets before any view parses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

from tutor.lesson.model import Lesson, Prose
from tutor.lesson.variables import substitute

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

Span = tuple[int, int, str, str]
"""(start, end, style, link): style one of em, strong, s, code_inline, link (then `link` is the URL)."""
Block = tuple[int, str, tuple[Span, ...]]
"""(heading level, or 0 for a paragraph; its text; its spans, in the order they close)."""
Document = tuple[Block, ...]

_ALERT = re.compile(r"^(\s*>\s*)\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^(\s*(?:```+|~~~+)\s*[\w+-]*)\s*\{[^}]*\}\s*$")
_SPACE = re.compile(r"\s+")

_documents: dict[str, Document | None] = {}


def display_markdown(markdown: str) -> str:
    """Lesson Markdown as a Markdown view should get it.

    GitHub alert markers (`> [!NOTE]`) would show literally: they become a bold label.
    Fence info strings with attributes (`sh {background}`) would be taken for the
    lexer's name: the attributes go. Hints (`> [!TIP]`) are not in the prose: the
    parser keeps them apart.
    """
    lines = []
    for line in markdown.splitlines():
        alert = _ALERT.match(line)
        if alert:
            line = f"{alert.group(1)}**{alert.group(2).capitalize()}**"
        else:
            fence = _FENCE.match(line)
            if fence:
                line = fence.group(1)
        lines.append(line)
    return "\n".join(lines)


def heading(title: str) -> str:
    """The heading a step's view shows when its prose does not start with one."""
    return f"## {title}"


def document(text: str) -> Document | None:
    """The blocks of `text` if they are all headings and paragraphs, else None."""
    try:
        return _documents[text]
    except KeyError:
        found = _documents[text] = _parse(text)
        return found


def remember(documents: Mapping[str, Document | None]) -> None:
    _documents.update(documents)


def documents_for(lesson: Lesson) -> dict[str, Document | None]:
    """The documents of the lesson's prose, as a view shows it with the lesson's own variables."""
    variables = lesson.defaults()
    texts = [display_markdown(substitute(lesson.intro, variables, strict=False))] if lesson.intro else []
    for step in lesson.steps:
        texts.append(heading(step.title))
        texts.extend(
            display_markdown(substitute(block.markdown, variables, strict=False))
            for block in step.blocks
            if isinstance(block, Prose)
        )
    return {text: document(text) for text in texts}


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like")


def _parse(text: str) -> Document | None:
    tokens = _parser().parse(text)
    if len(tokens) % 3:
        return None
    blocks: list[Block] = []
    for index in range(0, len(tokens), 3):
        opening, inline, closing = tokens[index : index + 3]
        if inline.type != "inline":
            return None
        if opening.type == "paragraph_open" and closing.type == "paragraph_close":
            level = 0
        elif opening.type == "heading_open" and closing.type == "heading_close" and opening.tag[1:].isdigit():
            level = int(opening.tag[1:])
        else:
            return None
        blocks.append((level, *_inline(inline)))
    return tuple(blocks)


def _inline(token: Token) -> tuple[str, tuple[Span, ...]]:
    """The text and spans of an inline token, as Textual's MarkdownBlock builds its Content."""
    parts: list[str] = []
    spans: list[Span] = []
    stack: list[tuple[str, str, int]] = []
    position = 0

    def add(text: str) -> None:
        nonlocal position
        parts.append(text)
        position += len(text)

    def close() -> None:
        style, link, start = stack.pop()
        spans.append((start, position, style, link))

    for child in token.children or ():
        kind = child.type
        if kind == "text":
            add(_SPACE.sub(" ", child.content))
        elif kind == "hardbreak":
            add("\n")
        elif kind == "softbreak":
            add(" ")
        elif kind == "code_inline":
            stack.append(("code_inline", "", position))
            add(child.content)
            close()
        elif kind in ("em_open", "strong_open", "s_open"):
            stack.append((kind.removesuffix("_open"), "", position))
        elif kind == "link_open":
            stack.append(("link", str(child.attrs.get("href", "")), position))
        elif kind == "image":
            stack.append(("link", str(child.attrs.get("src", "")), position))
            add("🖼  ")
            alt = child.attrs.get("alt", "")
            if alt:
                add(f"({alt})")
            for grandchild in child.children or ():
                add(grandchild.content)
            close()
        elif kind.endswith("_close") and stack:
            close()
    return "".join(parts), tuple(spans)
