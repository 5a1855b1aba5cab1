"""The environment a child process gets.

Precedence, lowest first: the tutor's own environment, the plain-output defaults,
the caller's overrides. A PATH prefix goes in front of the resulting PATH: that is
how the sandbox's stand-in `minikube` and `kubectl` shadow the real ones, and all the
run layer knows of it.

The plain-output defaults apply to commands whose output the tutor reads through a
pipe; a command given the real terminal keeps the terminal's TERM and colours.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

PLAIN_OUTPUT: Mapping[str, str] = {
    "NO_COLOR": "1",
    "MINIKUBE_IN_STYLE": "false",
    "TERM": "dumb",
}
"""No colours, no emoji, no cursor tricks: what a log view can show as it is."""


def child_environment(
    overrides: Mapping[str, str] | None = None,
    *,
    path_prefix: Sequence[str | os.PathLike[str]] = (),
    plain: bool = True,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full environment for a child: `base` (default os.environ) + defaults + overrides."""
    env = dict(os.environ if base is None else base)
    if plain:
        env.update(PLAIN_OUTPUT)
    if overrides:
        env.update(overrides)
    if path_prefix:
        prefix = os.pathsep.join(os.fspath(entry) for entry in path_prefix)
        current = env.get("PATH", "")
        env["PATH"] = f"{prefix}{os.pathsep}{current}" if current else prefix
    return env
