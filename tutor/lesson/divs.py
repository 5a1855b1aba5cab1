"""`::: name {attributes}` ... `:::` blocks that nest, for markdown-it.

mdit-py-plugins' container plugin closes a block at the first bare `:::`, so an
`::: only` inside a `::: step` would close the step. This rule counts: every `:::` line
with a word after it opens a block (known or not, so an unknown block's `:::` does not
close its step), every bare `:::` closes the innermost one, and lines inside fenced code
(a lesson showing the format) are not markers. Blocks whose name is in `names` become
`container_NAME_open` / `container_NAME_close` tokens, the open token's `info` holding
what follows the marker; anything else stays text, for the parser to report.
"""

from __future__ import annotations

from collections.abc import Iterable

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

MARKER = ":::"


def div_plugin(md: MarkdownIt, names: Iterable[str]) -> None:
    known = frozenset(names)

    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if state.sCount[start_line] - state.blkIndent >= 4:
            return False  # an indented code block
        line = _line(state, start_line)
        if not line.startswith(MARKER):
            return False
        params = line.lstrip(":").strip()
        name = params.split(None, 1)[0] if params else ""
        if name.split("{", 1)[0] not in known:
            return False
        if silent:
            return True
        close = _closing_line(state, start_line, end_line)
        old_parent, old_max = state.parentType, state.lineMax
        state.parentType = "container"
        state.lineMax = close  # lazy continuation lines never run past the close
        block = name.split("{", 1)[0]
        token = state.push(f"container_{block}_open", "div", 1)
        token.markup, token.block, token.info, token.map = MARKER, True, params, [start_line, close]
        state.md.block.tokenize(state, start_line + 1, close)
        token = state.push(f"container_{block}_close", "div", -1)
        found = close < end_line
        token.markup, token.block = (MARKER if found else ""), True
        state.parentType, state.lineMax = old_parent, old_max
        state.line = close + (1 if found else 0)
        return True

    md.block.ruler.before("fence", "div", rule, {"alt": ["paragraph", "reference", "blockquote", "list"]})


def _line(state: StateBlock, number: int) -> str:
    return state.src[state.bMarks[number] + state.tShift[number] : state.eMarks[number]]


def _closing_line(state: StateBlock, start_line: int, end_line: int) -> int:
    """The line of the `:::` that closes the block opened on `start_line`; `end_line` if none."""
    depth = 1
    fence = ""
    for number in range(start_line + 1, end_line):
        if (
            state.sCount[number] < state.blkIndent
            and state.bMarks[number] + state.tShift[number] < state.eMarks[number]
        ):
            return number  # text indented less than the block it is in ends that block
        if state.sCount[number] - state.blkIndent >= 4:
            continue
        line = _line(state, number)
        if fence:
            if line.startswith(fence) and not line[len(fence) :].strip(fence[0]).strip():
                fence = ""
            continue
        opening = _fence_marker(line)
        if opening:
            fence = opening
            continue
        if not line.startswith(MARKER):
            continue
        if line.lstrip(":").strip():
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            return number
    return end_line


def _fence_marker(line: str) -> str:
    """The ``` or ~~~ run that opens a fenced code block on this line, or ""."""
    for char in "`~":
        if line.startswith(char * 3):
            return line[: len(line) - len(line.lstrip(char))]
    return ""
