"""Option groups several commands share: which cluster, and the lesson's variables on it.

Light on purpose (the lesson path builds its `Setup` before the first paint): nothing
here loads the cluster layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.commands.exit_codes import UsageError
from tutor.lesson.model import Lesson
from tutor.lesson.overrides import BadOverride, parse_overrides
from tutor.session.setup import Setup

if TYPE_CHECKING:
    from tutor.cluster.guard import GuardDecision


@dataclass(frozen=True)
class ClusterChoice:
    """`--context`, `--kubeconfig`, `--profile`, `--sandbox` and `--set`, as typed."""

    context: str | None = None
    kubeconfig: Path | None = None
    profile: str | None = None
    sandbox: bool = False
    sets: tuple[str, ...] = ()
    """`--set NAME=VALUE`, in order: checked against the lesson's typed variables by `overrides`."""

    def overrides(self, lesson: Lesson) -> dict[str, str]:
        """The `--set` values, checked against the lesson's variables and their types (and
        `--profile`, a name like any profile); a UsageError says what is wrong."""
        try:
            return parse_overrides(lesson, self.sets, profile=self.profile)
        except BadOverride as err:
            raise UsageError(str(err)) from None

    def setup(self, lesson: Lesson, *, confirm: Callable[[GuardDecision], bool] | None = None) -> Setup:
        """What a session, or a command acting as one, is given: its variables resolve in the one
        precedence (`Setup.variables`) for every command."""
        return Setup(
            kubeconfig=self.kubeconfig,
            context=self.context,
            profile=self.profile,
            overrides=self.overrides(lesson),
            confirm=confirm,
        )
