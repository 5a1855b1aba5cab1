"""`k8s-tutor sandbox ...`: the simulated cluster in the foreground; its own parser reads the rest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxOptions:
    args: tuple[str, ...] = ()
    """The command line after `sandbox`, for `tutor.sandbox.main` (which knows nothing of the tutor)."""


def run(options: SandboxOptions) -> int:
    from tutor.sandbox.main import main

    return main(list(options.args))
