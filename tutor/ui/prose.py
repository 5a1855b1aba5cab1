"""Lesson Markdown made ready for Textual's `Markdown` widget.

The lesson model keeps each step's prose as written; two things in it read badly in
Textual: GitHub alert markers (`> [!NOTE]`), which it would show literally, and fence
info strings with attributes (`sh {background}`), which it would take for the lexer's
name. Hints (`> [!TIP]`) are not in the prose: the parser keeps them apart.
"""

from __future__ import annotations

import re

_ALERT = re.compile(r"^(\s*>\s*)\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^(\s*(?:```+|~~~+)\s*[\w+-]*)\s*\{[^}]*\}\s*$")


def for_textual(markdown: str) -> str:
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
