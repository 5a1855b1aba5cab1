"""The one place the line-mode commands ask the learner something on the terminal.

Every question has the safe answer as its default: Enter, end of input, an interrupted
read or no terminal at all mean "no". Using a cluster that is not on this machine is
confirmed by typing the context's name, not a reflexive `y`, and never by `--yes`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tutor.cluster.guard import GuardDecision


def on_terminal(stream: TextIO | None = None) -> bool:
    source = sys.stdin if stream is None else stream
    try:
        return source is not None and source.isatty()
    except (AttributeError, ValueError):
        return False


def ask_yes_no(question: str) -> bool:
    """`question [y/N]` on the terminal; False without one."""
    answer = _read(f"{question} [y/N] ")
    return answer is not None and answer.strip().lower() in ("y", "yes")


def ask_text(prompt: str) -> str | None:
    """A line typed on the terminal; None without one, at end of input, or on Ctrl+C."""
    return _read(prompt)


def confirm_cluster(decision: GuardDecision) -> bool:
    """Ask to use a context the guard would not use unasked: the learner types its name."""
    print(decision.message, file=sys.stderr, flush=True)
    answer = _read(f"Type the context's name ({decision.context}) to use it anyway, or press Enter to stop: ")
    return answer is not None and answer.strip() == decision.context


def _read(prompt: str) -> str | None:
    if not on_terminal():
        return None
    try:
        return input(prompt)
    except (EOFError, KeyboardInterrupt):
        return None
