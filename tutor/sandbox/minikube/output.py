"""minikube's way of printing: an emoji per line on a terminal, 7-bit prefixes elsewhere.

Real minikube picks the emoji prefixes when stdout is a terminal and
`MINIKUBE_IN_STYLE` is not false; otherwise each style falls back to a "low" prefix
(`* `, `  - `, `! `, `X `). The tutor's readiness markers and the learner's eyes look
for the text after the prefix, which is the same in both modes.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

# style name -> (emoji prefix, low prefix); the pairs minikube's style table uses.
STYLES: dict[str, tuple[str, str]] = {
    "happy": ("😄  ", "* "),
    "sparkle": ("✨  ", "* "),
    "thumbs_up": ("👍  ", "* "),
    "starting_vm": ("🔥  ", "* "),
    "restarting": ("🔄  ", "* "),
    "running": ("🏃  ", "* "),
    "containerd": ("📦  ", "* "),
    "docker": ("🐳  ", "* "),
    "crio": ("🎁  ", "* "),
    "sub_step": ("    ▪ ", "  - "),
    "option": ("    ▪ ", "  - "),
    "verifying": ("🔎  ", "* "),
    "addon_enable": ("🌟  ", "* "),
    "addon_disable": ("🌑  ", "* "),
    "ready": ("🏄  ", "* "),
    "stopping": ("✋  ", "* "),
    "stopped": ("🛑  ", "* "),
    "deleting": ("🔥  ", "* "),
    "deleted": ("💀  ", "* "),
    "meh": ("🙄  ", "! "),
    "shrug": ("🤷  ", "* "),
    "workaround": ("👉  ", "  "),
    "tip": ("💡  ", "* "),
    "usage": ("💡  ", "* "),
    "warning": ("❗  ", "! "),
    "failure": ("❌  ", "X "),
    "unsupported": ("🚡  ", "* "),
    "success": ("✅  ", "* "),
    "notice": ("📌  ", "* "),
    "permissions": ("🔑  ", "* "),
    "starting_ssh": ("🔗  ", "* "),
    "sandbox": ("🧪  ", "* "),
    "plain": ("", ""),
}


def wants_style(stream: TextIO) -> bool:
    if os.environ.get("MINIKUBE_IN_STYLE", "").strip().lower() in ("false", "0", "no"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Printer:
    """Writes styled lines; steps go to stdout, warnings and errors to stderr, as minikube does."""

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        styled: bool | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.styled = wants_style(self.out) if styled is None else styled

    def prefix(self, style: str) -> str:
        emoji, low = STYLES[style]
        return emoji if self.styled else low

    def step(self, style: str, text: str) -> None:
        self._write(self.out, self.prefix(style) + text)

    def warn(self, style: str, text: str) -> None:
        self._write(self.err, self.prefix(style) + text)

    def line(self, text: str = "") -> None:
        self._write(self.out, text)

    def err_line(self, text: str = "") -> None:
        self._write(self.err, text)

    def exiting(self, reason: str, message: str) -> None:
        """The `Exiting due to REASON: message` line minikube ends a failed command with."""
        self.err_line("")
        self.warn("failure", f"Exiting due to {reason}: {message}")
        self.err_line("")

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        try:
            stream.write(text + "\n")
            stream.flush()
        except BrokenPipeError:
            # `minikube addons list | head` closes the pipe early; that is not an error.
            pass
