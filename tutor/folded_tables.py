"""kubectl's tables laid out for a narrow panel: the columns that do not fit beside the
first one move to bands below it, each band repeating the first column.

kubectl prints a table through Go's tabwriter: a header of upper-case column names, and
rows whose cells start exactly where their column's name starts (each column as wide as
its widest cell, plus three spaces). `fold_tables` finds such tables in a command's
output by that rule alone and, for a width, packs their columns left to right into bands
no wider than it:

    NAME        CAPACITY   ACCESS MODES           NAME        STATUS   CLAIM
    pvc-0d0c…   1Gi        RWO               →    pvc-0d0c…   Bound    pacman/mongo-data-mongo-0

Whatever is not such a table, a table that fits already, or one in doubt (a row that
does not start its cells at the header's columns, a tab, a colour sequence, a table that
runs on into another line rather than ending at a blank line or at the end) is left
exactly as it was: folding must never garble output.

`wrap_lines` wraps what is left wider than the panel when it is running text (a JSON
answer, a log line), as a terminal would; never a line laid out in columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

GAP = 3
"""Spaces between two columns, as kubectl's tabwriter pads them."""

_HEADER = re.compile(r"[A-Z][A-Z0-9_()\-./:%#]*(?: [A-Z0-9_()\-./:%#]+)*")
"""A column's name: upper case, words joined by single spaces ("ACCESS MODES", "PORT(S)")."""
_NAMES = re.compile(r"\S+(?: \S+)*")
_ALIGNED = re.compile(r"\S {2,}\S")
"""Two spaces or more between words: output laid out in columns, which wrapping would garble."""


@dataclass(frozen=True)
class Folded:
    lines: list[str]
    """The output with its wide tables folded; the input itself when nothing was."""
    folded: int
    """How many tables were folded (0: `lines` is the output as printed)."""


def fold_tables(lines: Sequence[str], width: int) -> Folded:
    """`lines` with every kubectl-style table wider than `width` folded into bands."""
    lines = list(lines)
    out: list[str] = []
    folded = 0
    index = 0
    while index < len(lines):
        table = _table_at(lines, index)
        if table is None:
            out.append(lines[index])
            index += 1
            continue
        columns, end = table
        bands = _bands(columns, lines[index:end], width)
        if bands is None:
            out.extend(lines[index:end])
        else:
            out.extend(bands)
            folded += 1
        index = end
    return Folded(out, folded) if folded else Folded(lines, 0)


def wrap_lines(lines: Sequence[str], width: int) -> tuple[list[str], int]:
    """`lines` with each line wider than `width` that is text, not a table's, cut into
    pieces no wider, as a terminal wraps it; and how many were. A line with two spaces
    between words (a table's row, aligned output), a tab or a colour sequence is left as
    printed."""
    out: list[str] = []
    wrapped = 0
    for line in lines:
        if width <= 0 or cell_width(line) <= width or "\t" in line or "\x1b" in line or _ALIGNED.search(line):
            out.append(line)
            continue
        wrapped += 1
        piece, used = "", 0
        for char in line:
            size = cell_width(char)
            if used + size > width and piece:
                out.append(piece)
                piece, used = "", 0
            piece += char
            used += size
        out.append(piece)
    return (out, wrapped) if wrapped else (list(lines), 0)


def cell_width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (CJK) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _table_at(lines: Sequence[str], index: int) -> tuple[list[int], int] | None:
    """The column starts of the table whose header is `lines[index]`, and where it ends;
    None when no table starts there."""
    columns = _header_columns(lines[index])
    if columns is None:
        return None
    end = index + 1
    while end < len(lines) and _is_row(lines[end], columns):
        end += 1
    if end == index + 1:
        return None  # a header alone: nothing to fold
    if end < len(lines) and lines[end].strip():
        return None  # runs on into a line that is not one of its rows: in doubt
    return columns, end


def _header_columns(line: str) -> list[int] | None:
    if not line or line[0] == " " or "\t" in line or "\x1b" in line:
        return None
    names = list(_NAMES.finditer(line))
    if len(names) < 2 or any(_HEADER.fullmatch(name.group()) is None for name in names):
        return None
    starts = [name.start() for name in names]
    # Names are apart by two spaces or more: "ACCESS MODES" is one column, not two.
    if any(line[start - 2 : start] != "  " for start in starts[1:]):
        return None
    return starts


def _is_row(line: str, columns: list[int]) -> bool:
    last = columns[-1]
    if len(line) <= last or line[0] == " " or "\t" in line or "\x1b" in line:
        return False
    if not line[last:].strip():
        return False
    for start, stop in pairwise(columns):
        cell = line[start:stop]
        if cell[-1] != " ":
            return False  # runs into the next column
        if cell[0] == " " and cell.strip():
            return False  # starts after its column does
    return line[last] != " "


def _bands(columns: list[int], table: Sequence[str], width: int) -> list[str] | None:
    """The table in bands no wider than `width` (a column wider than that alone has a band
    of its own); None when it fits already.

    Each band repeats the first column when every other column fits beside it, or when it
    takes no more than half the width; otherwise the bands follow one another without it,
    their rows in the same order. A column that fits the width alone but not beside the
    first one has a band of its own, without it.
    """
    if max(cell_width(line) for line in table) <= width:
        return None
    bounds: list[tuple[int, int | None]] = [*pairwise(columns), (columns[-1], None)]
    cells = [[line[start:stop].rstrip() for start, stop in bounds] for line in table]
    widths = [max(cell_width(row[column]) for row in cells) for column in range(len(columns))]
    repeat = widths[0] + GAP <= width // 2 or widths[0] + GAP + max(widths[1:]) <= width
    lead = widths[0] + GAP if repeat else 0
    groups: list[list[int]] = []
    used = 0
    for column in range(1 if repeat else 0, len(columns)):
        if groups and used + GAP + widths[column] <= width:
            groups[-1].append(column)
            used += GAP + widths[column]
        elif repeat and lead + widths[column] > width >= widths[column]:
            groups.append([column])  # fits alone, not beside the first column: a band of its own
            used = width
        else:
            groups.append([0, column] if repeat else [column])
            used = lead + widths[column]
    out: list[str] = []
    for group in groups:
        if out:
            out.append("")
        for row in cells:
            padded = (row[column] + " " * (widths[column] - cell_width(row[column])) for column in group)
            out.append((" " * GAP).join(padded).rstrip())
    return out
