"""Recognising a command that waits for the learner's terminal.

Two signs, both seen in the merged output:
- a *prompt*: an unfinished line (no newline) that looks like a password or yes/no
  question, still unfinished after a short quiet time. Prompts rarely end with a
  newline, so only the unfinished line is inspected, and only once output has
  paused: a log line that merely contains "password:" is not a prompt;
- a *refusal*: a finished line saying the program could not reach a terminal. The run
  layer starts commands in a new session with no controlling terminal, so `sudo`
  cannot open /dev/tty and says so at once (ENXIO) instead of taking over the screen.

Either way the command cannot get its answer where it runs; the front end must offer
to run it with the real terminal (`interactive=True`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class NeedKind(StrEnum):
    PASSWORD = "password"
    """A password or passphrase prompt is waiting."""
    CONFIRMATION = "confirmation"
    """A yes/no question is waiting."""
    NO_TERMINAL = "no-terminal"
    """The program wanted a terminal, found none, and said so."""


@dataclass(frozen=True, slots=True)
class TerminalNeed:
    """A command that needs the learner at a terminal."""

    kind: NeedKind
    text: str
    """The prompt or the message, as printed."""

    def explain(self) -> str:
        if self.kind is NeedKind.NO_TERMINAL:
            return f"needs a terminal: {self.text}"
        return f"is waiting for input: {self.text}"


_PROMPTS: tuple[tuple[NeedKind, re.Pattern[str]], ...] = (
    (NeedKind.PASSWORD, re.compile(r"\[sudo\] password for [^:]*:\s*$")),
    (
        NeedKind.PASSWORD,
        re.compile(r"(?i)\b(?:password|passphrase|passcode|PIN)\b[^:\n]{0,80}:\s*$"),
    ),
    (NeedKind.CONFIRMATION, re.compile(r"(?i)[\[(]\s*y(?:es)?\s*/\s*n(?:o)?\s*[\])][?:]?\s*$")),
)

_REFUSALS = re.compile(
    r"sudo: a terminal is required"
    r"|sudo: no tty present"
    r"|sudo: a password is required"
    r"|sudo: unable to open /dev/tty"
    r"|/dev/tty: No such device or address"
    r"|(?i:cannot open /dev/tty)"
)


def waiting_prompt(unfinished: str) -> TerminalNeed | None:
    """The prompt an unfinished, quiet output line shows, if it is one."""
    text = unfinished.strip()
    if not text:
        return None
    for kind, pattern in _PROMPTS:
        if pattern.search(unfinished):
            return TerminalNeed(kind, text)
    return None


def terminal_refusal(line: str) -> TerminalNeed | None:
    """The finished line, if it says the program could not reach a terminal."""
    if "sudo" not in line and "tty" not in line:  # every refusal names one: skip the regex
        return None
    if _REFUSALS.search(line):
        return TerminalNeed(NeedKind.NO_TERMINAL, line.strip())
    return None
