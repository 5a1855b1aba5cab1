"""Command lines as a learner types them, turned into argv lists without a shell.

A fenced block holds one command per line; a trailing backslash continues it, a
leading `$ ` prompt is dropped, and `#` lines are comments. Quoting follows POSIX sh
(shlex), so what the lesson shows is exactly what a learner can paste. Shell features
(pipes, redirections, `&&`, `$(...)`) are refused: the tutor runs argv, never a shell.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "<<", "2>", "2>&1", "&>", "|&"}


class BadCommandLine(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class CommandLine:
    argv: tuple[str, ...]
    text: str
    offset: int
    """0-based line offset of the command's first line within the block."""


def split_block(content: str) -> list[CommandLine]:
    """Split a fenced block's content into commands; BadCommandLine carries the block-relative line."""
    commands: list[CommandLine] = []
    pending: list[str] = []
    start = 0
    lines = content.splitlines()
    for offset, raw in enumerate(lines):
        line = raw.rstrip()
        if not pending:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            start = offset
            if stripped.startswith("$ "):
                line = stripped[2:]
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        text = " ".join(part.strip() for part in pending)
        pending = []
        commands.append(CommandLine(parse(text, start), text, start))
    if pending:
        raise BadCommandLine("the last command ends with '\\' but nothing follows", start)
    return commands


def parse(text: str, line: int = 0) -> tuple[str, ...]:
    try:
        argv = shlex.split(text, comments=False, posix=True)
    except ValueError as err:
        raise BadCommandLine(f"cannot split command `{text}`: {err} (check the quotes)", line) from err
    if not argv:
        raise BadCommandLine("empty command", line)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        tokens = argv
    for token in tokens:
        if token in SHELL_OPERATORS or token.startswith(("|", ">", "<")):
            raise BadCommandLine(
                f"`{text}` uses the shell operator '{token}'; lesson commands run without a shell, "
                "so write one plain command per line",
                line,
            )
    for arg in argv:
        if "$(" in arg or "`" in arg:
            raise BadCommandLine(
                f"`{text}` uses command substitution; lesson commands run without a shell",
                line,
            )
    return tuple(argv)
