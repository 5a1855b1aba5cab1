"""Markdown prose as plain text a screen reader or a log reads well.

Lesson prose is Markdown, which is already readable as text; this removes only the
marks that get spoken aloud or clutter a log (emphasis, backticks, heading hashes,
tip markers) and writes links as "text (address)".
"""

from __future__ import annotations

import re

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")


def plain(markdown: str) -> str:
    lines = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            lines.append("    " + line)
            continue
        line = _HEADING.sub("", line)
        line = re.sub(r"^\s*>\s?", "", line)
        line = _LINK.sub(r"\1 (\2)", line)
        line = _EMPHASIS.sub(r"\2", line)
        line = _ITALIC.sub(r"\1", line)
        line = _CODE.sub(r"\1", line)
        lines.append(line)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
