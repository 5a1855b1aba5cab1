"""A step's prose and the lesson's introduction, drawn as Textual's `Markdown` draws them, in fewer widgets.

Textual's `Markdown` is a container that parses its text when mounted and then mounts a
widget per block (each with its own inline styles to resolve), a frame later: most of
what the first paint of the lesson cost. Lesson prose is nearly always headings and
paragraphs (`tutor.lesson.prose.document`, parsed as Markdown parses, and kept with the
cached lesson); for those, `prose_view` builds the Content Textual's blocks would show
(the same inline styles, the same margins as blank lines) in one `Static`, or two when
there is a centred top-level heading. Any other text goes to Textual's `Markdown`
whole, exactly as before. tests/ui/test_prose_view.py compares both, cell by cell.

The styles are those of Textual's Markdown (`tutor.tcss`, "prose"): headings use the
theme's `$markdown-h*` variables, inline code, emphasis and strike the same rules; the
inline styles are component classes of the step view, resolved once per view.
"""

from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content, Span
from textual.style import Style
from textual.widget import Widget
from textual.widgets import Static

from tutor.lesson import prose

# Margins (top, bottom) of Textual's Markdown blocks: MarkdownHeader 2 0 1 0, H3 to H6
# 1 0, a paragraph 0 0 1 0. Inside one Markdown they collapse, as siblings' margins do.
HEADING_MARGINS = {1: (2, 1), 2: (2, 1), 3: (1, 1), 4: (1, 1), 5: (1, 1), 6: (1, 1)}
PARAGRAPH_MARGINS = (0, 1)

INLINE_STYLES = {"prose--em", "prose--strong", "prose--s", "prose--code-inline"}
HEADING_STYLES = {f"prose--h{level}" for level in range(2, 7)}
COMPONENT_CLASSES = INLINE_STYLES | HEADING_STYLES
"""Declared by the widget the prose is in (the step view): resolved there once, not per block."""
_STYLE_CLASSES = {
    "em": ".prose--em",
    "strong": ".prose--strong",
    "s": ".prose--s",
    "code_inline": ".prose--code-inline",
}


class ProseText(Static):
    """Headings and paragraphs, as one Content; their links open in the browser, as in Markdown."""

    def action_link(self, href: str) -> None:
        self.app.open_url(href)


def prose_view(markdown: str, *, classes: str) -> Widget:
    """The widget that shows `markdown` (variables already filled in)."""
    document = prose.document(markdown)
    if document is None:
        from textual.widgets import Markdown

        return Markdown(markdown, classes=classes)
    blocks = [(level, _content(text, spans)) for level, text, spans in document]
    parts: list[tuple[Content, str]] = []  # each a ProseText: its content and classes
    lines: list[Content] = []
    above = 0  # blank lines owed above the next block: the previous block's bottom margin
    for level, content in blocks:
        top, bottom = HEADING_MARGINS[level] if level else PARAGRAPH_MARGINS
        gap = max(above, top) if parts or lines else top
        if level == 1:
            # Centred: a Static of its own, as Textual's MarkdownH1 is, with its top margin
            # (always 2: .prose-h1 in tutor.tcss) outside it, where the H1's style does not reach.
            if lines:
                parts.append((Content("\n").join(lines), ""))
                lines = []
            parts.append((content, "prose-h1"))
        else:
            lines.extend([Content()] * gap)
            if level:  # the heading's style first: its inline styles go over it, as over a heading widget
                heading = Span(0, len(content.plain), f".prose--h{level}")
                content = Content(content.plain, spans=[heading, *content.spans])
            lines.append(content)
        above = bottom
    lines.extend([Content()] * above)
    if lines or not parts:
        parts.append((Content("\n").join(lines), ""))
    if len(parts) == 1:
        content, part_classes = parts[0]
        return ProseText(content, classes=f"prose-view {classes} {part_classes}".strip())
    return Vertical(*(ProseText(content, classes=part) for content, part in parts), classes=f"prose-view {classes}")


def inline(markdown: str) -> Content:
    """One line of Markdown (a question's choice) as Content with its inline styles; as written
    when it is more than a paragraph."""
    document = prose.document(markdown)
    if document is None or len(document) != 1:
        return Content(markdown)
    _, text, spans = document[0]
    return _content(text, spans)


def _content(text: str, spans: tuple[prose.Span, ...]) -> Content:
    def style_of(style: str, link: str) -> Style | str:
        return Style.from_meta({"@click": f"link({link!r})"}) if style == "link" else _STYLE_CLASSES[style]

    return Content(text, spans=[Span(start, end, style_of(style, link)) for start, end, style, link in spans])
