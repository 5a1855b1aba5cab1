"""A child's output bytes, turned into the lines a learner would see in a terminal.

One decoder per stream: bytes go in as they arrive (any chunking), lines come out.
- Invalid UTF-8 becomes U+FFFD; a character split across two reads is joined first.
- `\\n` ends a line; `\\r\\n` is the same line end.
- `\\r` alone rewrites the current line (progress bars). The rewrites are *coalesced*:
  each `feed` yields at most one `progress` line, the latest state, so a bar updated
  thousands of times a second costs one callback per read, not one per update.
  When the line finally ends, the line delivered is what the terminal would show:
  its last non-empty `\\r` segment.
- Escape sequences and other control characters are dropped (`tutor.safe_text`): a
  command cannot retitle the window, move the cursor or write the clipboard through
  the tutor. A line's colours (SGR) are kept apart, in `Line.styled`, for a view that
  draws them; `Line.text` never has any.
- A line longer than `max_line` characters is cut into pieces, so one endless line
  cannot grow memory without bound.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from tutor.safe_text import has_controls, strip_controls

MAX_LINE = 16_384

_SEPARATORS = re.compile(r"[\r\n]")


class Line(NamedTuple):
    """One line of a command's output (stdout and stderr merged, in arrival order).

    `text` is the line without its line end, escape sequences or control characters.
    Make one with `line()`, which fills in `styled`.
    `progress` marks a transient state of a line being rewritten with `\\r`: the next
    Line replaces it. (A tuple, not a dataclass: a quarter of the per-line cost.)
    """

    text: str
    progress: bool = False
    styled: str | None = None
    """The line with its colours (SGR sequences, and no other), when it had any."""

    def __str__(self) -> str:
        return self.text


def line(raw: str, progress: bool = False) -> Line:
    """The Line a terminal would show for `raw` (one line, without its line end)."""
    if not has_controls(raw):
        return Line(raw, progress)
    text = strip_controls(raw)
    styled = strip_controls(raw, keep_colours=True)
    return Line(text, progress, styled if styled != text else None)


class LineDecoder:
    """Incremental bytes-to-lines decoder for one output stream. Not thread-safe."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_line = max_line
        self._current = ""
        """Text of the unfinished line after its last `\\r`."""
        self._shown = ""
        """The unfinished line's last complete, non-empty `\\r` segment."""
        self._rewritten = False
        """A `\\r` segment completed since the last progress line was emitted."""

    @property
    def pending(self) -> str:
        """The unfinished line as the terminal shows it now (a prompt waits here)."""
        return strip_controls(self._current or self._shown)

    def feed(self, data: bytes) -> list[Line]:
        return self._lines(self._decoder.decode(data))

    def flush(self) -> list[Line]:
        """End of stream: the unfinished line, if any, becomes a final line."""
        lines = self._lines(self._decoder.decode(b"", final=True))
        text = self._current or self._shown
        if text:
            lines.append(line(text))
        self._current = self._shown = ""
        self._rewritten = False
        return lines

    def _lines(self, text: str) -> list[Line]:
        if not text:
            return []
        if "\r" not in text:
            return self._simple_lines(text)
        out: list[Line] = []
        start = 0
        for match in _SEPARATORS.finditer(text):
            self._current += text[start : match.start()]
            start = match.end()
            if match.group() == "\n":
                out.append(line(self._current or self._shown))
                self._current = self._shown = ""
                self._rewritten = False
            elif self._current:
                self._shown = self._current
                self._current = ""
                self._rewritten = True
        self._current += text[start:]
        self._cut_long_line(out)
        if self._rewritten:
            out.append(line(self._shown, progress=True))
            self._rewritten = False
        return out

    def _simple_lines(self, text: str) -> list[Line]:
        # The common case, no `\r` at all: one split, no per-character work.
        parts = text.split("\n")
        if len(parts) == 1:
            self._current += text
            out: list[Line] = []
        else:
            first = self._current + parts[0] if self._current else (parts[0] or self._shown)
            out = [line(first)]
            if not has_controls(text):
                out.extend([Line(part) for part in parts[1:-1]])
            else:
                out.extend([line(part) for part in parts[1:-1]])
            self._current, self._shown, self._rewritten = parts[-1], "", False
        self._cut_long_line(out)
        return out

    def _cut_long_line(self, out: list[Line]) -> None:
        while len(self._current) > self._max_line:
            out.append(line(self._current[: self._max_line]))
            self._current = self._current[self._max_line :]
            self._shown = ""


class Repeats:
    """Lines that come again and again in a row, counted rather than shown each time.

    A port-forward prints "Handling connection for 9090" for every connection: once a
    second with the tutor's own probes, burying the lines that matter (a lost pod, an
    error). `see` says how many times in a row a line has now come: 1 is a new line, to be
    shown; more is a repeat, for a view to count. Used by one thread at a time (the
    background command's own).
    """

    def __init__(self) -> None:
        self._last: str | None = None
        self._count = 0

    def see(self, text: str) -> int:
        if text == self._last:
            self._count += 1
        else:
            self._last, self._count = text, 1
        return self._count
