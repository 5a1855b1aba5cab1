"""Text from outside the tutor, made safe to put on a terminal: the one sanitiser.

A lesson file, a cluster (event messages, object names, error bodies) and a command's
output are written by someone else. Written raw to a terminal, an escape sequence in
them can set the window title, clear the screen, move the cursor over what the learner
reads, write the clipboard (OSC 52) or make a link that says one address and opens
another (OSC 8). `strip_controls` removes every control and escape sequence, whole
(an OSC's payload never shows as text), and the bidirectional overrides that make a
line read in another order than the one it runs in. Command output keeps its colours
(SGR: `ESC [ n ; n m`) when asked, and nothing else.

Newlines and tabs stay; everything else below U+0020, DEL and the C1 range go.
"""

from __future__ import annotations

import re

_SEQUENCE = re.compile(
    # CSI, 7-bit or 8-bit: parameters, intermediates, and a final byte (absent at the end of a text).
    r"(?:\x1b\[|\x9b)(?P<params>[0-?]*)(?P<inter>[ -/]*)(?P<final>[@-~]?)"
    # Strings (OSC, DCS, SOS, PM, APC) up to their terminator, or to the end of the text.
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|\Z)"
    # Every other escape: intermediates and a final byte.
    r"|\x1b[ -/]*[0-~]?"
    # Lone controls (newline and tab kept), DEL, C1, and the bidirectional embeddings,
    # overrides and isolates.
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)
_SUSPECT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Any character `_SEQUENCE` could start on: text without one is returned as it is."""
_SGR_PARAMS = re.compile(r"[0-9;:]*")


def strip_controls(text: str, *, keep_colours: bool = False) -> str:
    """`text` without control characters and escape sequences.

    With `keep_colours`, colour and style sequences (SGR) stay, written in their 7-bit
    form; nothing else does.
    """
    if _SUSPECT.search(text) is None:
        return text
    if not keep_colours:
        return _SEQUENCE.sub("", text)
    return _SEQUENCE.sub(_keep_sgr, text)


def has_controls(text: str) -> bool:
    """Whether `strip_controls` would change `text`."""
    return _SUSPECT.search(text) is not None


def _keep_sgr(match: re.Match[str]) -> str:
    params = match.group("params")
    if (
        match.group("final") == "m"
        and params is not None
        and not match.group("inter")
        and _SGR_PARAMS.fullmatch(params) is not None
    ):
        return f"\x1b[{params}m"
    return ""
