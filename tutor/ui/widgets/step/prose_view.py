"""A step's prose and the lesson's introduction, drawn as Textual's `Markdown` draws them, in fewer widgets.

Textual's `Markdown` is a container that parses its text when mounted and then mounts a
widget per block (each with its own inline styles to resolve), a frame later: most of
what the first paint of the lesson cost. Lesson prose is nearly always headings and
paragraphs; for those, `prose_view` builds the same `Content` Textual's blocks would
show (the same parser, the same inline styles, the same margins as blank lines) in one
`Static`, or two when there is a centred top-level heading. Any other block (a list, a
quote, a table, code, a rule, HTML) and the text goes to Textual's `Markdown` whole,
exactly as before.

The styles are those of Textual's Markdown (`tutor.tcss`, "prose"): headings use the
theme's `$markdown-h*` variables, inline code, emphasis and strike the same rules; the
inline styles are component classes of the step view, resolved once per view.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.content import Content, Span
from textual.style import Style
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# Margins (top, bottom) of Textual's Markdown blocks: MarkdownHeader 2 0 1 0, H3 to H6
# 1 0, a paragraph 0 0 1 0. Inside one Markdown they collapse, as siblings' margins do.
HEADING_MARGINS = {1: (2, 1), 2: (2, 1), 3: (1, 1), 4: (1, 1), 5: (1, 1), 6: (1, 1)}
PARAGRAPH_MARGINS = (0, 1)

INLINE_STYLES = {"prose--em", "prose--strong", "prose--s", "prose--code-inline"}
HEADING_STYLES = {f"prose--h{level}" for level in range(2, 7)}
COMPONENT_CLASSES = INLINE_STYLES | HEADING_STYLES
"""Declared by the widget the prose is in (the step view): resolved there once, not per block."""

_SPACE = re.compile(r"\s+")


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like")  # what Textual's Markdown parses with


class ProseText(Static):
    """Headings and paragraphs, as one Content; their links open in the browser, as in Markdown."""

    def action_link(self, href: str) -> None:
        self.app.open_url(href)


def prose_view(markdown: str, *, classes: str) -> Widget:
    """The widget that shows `markdown` (variables already filled in)."""
    blocks = _blocks(markdown)
    if blocks is None:
        from textual.widgets import Markdown

        return Markdown(markdown, classes=classes)
    parts: list[Widget] = []
    lines: list[Content] = []
    above = 0  # blank lines owed above the next block: the previous block's bottom margin
    for level, content in blocks:
        top, bottom = HEADING_MARGINS[level] if level else PARAGRAPH_MARGINS
        gap = max(above, top) if parts or lines else top
        if level == 1:
            # Centred: a Static of its own, as Textual's MarkdownH1 is, with its top margin
            # (always 2: .prose-h1 in tutor.tcss) outside it, where the H1's style does not reach.
            if lines:
                parts.append(ProseText(Content("\n").join(lines)))
                lines = []
            parts.append(ProseText(content, classes="prose-h1"))
        else:
            lines.extend([Content()] * gap)
            if level:  # the heading's style first: its inline styles go over it, as over a heading widget
                heading = Span(0, len(content.plain), f".prose--h{level}")
                content = Content(content.plain, spans=[heading, *content.spans])
            lines.append(content)
        above = bottom
    lines.extend([Content()] * above)
    if lines or not parts:
        parts.append(ProseText(Content("\n").join(lines)))
    if len(parts) == 1:
        parts[0].add_class("prose-view", *classes.split())
        return parts[0]
    return Vertical(*parts, classes=f"prose-view {classes}")


def _blocks(markdown: str) -> list[tuple[int, Content]] | None:
    """(heading level or 0 for a paragraph, its content) per block; None if there are others."""
    tokens = _parser().parse(markdown)
    blocks: list[tuple[int, Content]] = []
    for opening, inline, closing in _triples(tokens):
        if opening is None or inline is None or closing is None or inline.type != "inline":
            return None
        if opening.type == "paragraph_open" and closing.type == "paragraph_close":
            blocks.append((0, _content(inline)))
        elif opening.type == "heading_open" and closing.type == "heading_close" and opening.tag[1:].isdigit():
            blocks.append((int(opening.tag[1:]), _content(inline)))
        else:
            return None
    return blocks


def _triples(tokens: list[Token]) -> Iterator[tuple[Token | None, Token | None, Token | None]]:
    if len(tokens) % 3:
        yield None, None, None
        return
    for index in range(0, len(tokens), 3):
        yield tokens[index], tokens[index + 1], tokens[index + 2]


def _content(token: Token) -> Content:
    """As Textual's MarkdownBlock._token_to_content, with this view's style names."""
    parts: list[str] = []
    spans: list[Span] = []
    stack: list[tuple[Style | str, int]] = []
    position = 0

    def add(text: str) -> None:
        nonlocal position
        parts.append(text)
        position += len(text)

    def close() -> None:
        style, start = stack.pop()
        spans.append(Span(start, position, style))

    for child in token.children or ():
        kind = child.type
        if kind == "text":
            add(_SPACE.sub(" ", child.content))
        elif kind == "hardbreak":
            add("\n")
        elif kind == "softbreak":
            add(" ")
        elif kind == "code_inline":
            stack.append((".prose--code-inline", position))
            add(child.content)
            close()
        elif kind in ("em_open", "strong_open", "s_open"):
            stack.append((f".prose--{kind.removesuffix('_open')}", position))
        elif kind == "link_open":
            stack.append((Style.from_meta({"@click": f"link({child.attrs.get('href', '')!r})"}), position))
        elif kind == "image":
            stack.append((Style.from_meta({"@click": f"link({child.attrs.get('src', '')!r})"}), position))
            add("🖼  ")
            alt = child.attrs.get("alt", "")
            if alt:
                add(f"({alt})")
            for grandchild in child.children or ():
                add(grandchild.content)
            close()
        elif kind.endswith("_close") and stack:
            close()
    return Content("".join(parts), spans=spans)
