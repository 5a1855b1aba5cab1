"""`k8s-tutor workshop serve | status | export`: the instructor's commands, in `tutor.workshop`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkshopOptions:
    args: tuple[str, ...] = ()
    """The command line after `workshop`, for `tutor.workshop.main` and its own parser."""


def run(options: WorkshopOptions) -> int:
    from tutor.workshop.main import main

    return main(list(options.args))
