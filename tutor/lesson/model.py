"""What a lesson is, once parsed: plain data, no behaviour beyond derived views.

Every string a learner or the tutor will use (command argv, check fields) is kept
*unsubstituted* here; variables are filled in by `Lesson.substitute`, so the same
parsed lesson serves several clusters (profiles, namespaces) without re-parsing.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.lesson import commandline
from tutor.lesson.variables import BUILTIN_TYPES, substitute


@dataclass(frozen=True)
class Command:
    """One command line from a fenced block, split into argv (never run by a shell)."""

    argv: tuple[str, ...]
    line: int
    """1-based line of the command in the lesson file."""
    text: str
    """The command as written in the lesson (what is shown is `display`: the argv, quoted)."""
    background: bool = False
    """Long-running (port-forward, tunnel): supervised, stopped when no longer needed."""
    id: str | None = None
    """Name a `process_alive` check refers to; set for background commands."""
    ready: str | None = None
    """Regular expression: the background command is ready once a line of its output matches."""
    manual: bool = False
    """Shown to the learner to type; the tutor never runs it (e.g. `kubectl get pods -w`)."""
    timeout: float | None = None
    """Seconds a foreground command may run before it is stopped."""
    ok_exit: tuple[int, ...] = (0,)
    """Exit statuses that count as success."""
    ask: str | None = None
    """Cleanup only: a question the learner must agree to before this command runs."""

    def display(self, variables: Mapping[str, str]) -> str:
        """The command as it runs, quoted for a shell: a copied line runs exactly this argv."""
        return shlex.join(substitute(arg, variables) for arg in self.argv)


@dataclass(frozen=True)
class Prose:
    """Markdown text shown to the learner, exactly as written in the lesson."""

    markdown: str
    line: int


@dataclass(frozen=True)
class CommandBlock:
    """A fenced block of commands, in its place among the prose."""

    commands: tuple[Command, ...]
    line: int


Block = Prose | CommandBlock


@dataclass(frozen=True)
class CheckSpec:
    """A declarative check, validated against `tutor.lesson.schema`.

    `fields` holds the author's values minus `kind` and `title`, unsubstituted.
    """

    kind: str
    fields: Mapping[str, Any]
    line: int
    title: str | None = None

    def resolved(self, variables: Mapping[str, str]) -> dict[str, Any]:
        fields = {key: _substitute_value(value, variables) for key, value in self.fields.items()}
        run = self.fields.get("run")
        if self.kind == "command" and isinstance(run, str):
            # Split as written, then fill in each argument: a value never becomes two arguments.
            with contextlib.suppress(commandline.BadCommandLine):
                fields["run"] = [substitute(arg, variables) for arg in commandline.parse(run)]
        return fields


def _substitute_value(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value, variables)
    if isinstance(value, list):
        return [_substitute_value(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _substitute_value(item, variables) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Hint:
    markdown: str
    line: int


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    line: int
    blocks: tuple[Block, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    hints: tuple[Hint, ...] = ()
    cleanup: tuple[Command, ...] = ()
    timeout: float = 180.0
    """Seconds autoplay and fast-forward wait for the checks after running the commands."""

    @property
    def commands(self) -> tuple[Command, ...]:
        """Every command of the step, in order, background ones included."""
        return tuple(cmd for block in self.blocks if isinstance(block, CommandBlock) for cmd in block.commands)

    @property
    def runnable(self) -> tuple[Command, ...]:
        """The commands the tutor runs for the learner (not the manual ones)."""
        return tuple(cmd for cmd in self.commands if not cmd.manual)

    @property
    def prose(self) -> str:
        return "\n".join(block.markdown for block in self.blocks if isinstance(block, Prose))


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    path: Path
    steps: tuple[Step, ...]
    intro: str = ""
    outro: str = ""
    description: str = ""
    profile: str = "minikube"
    namespace: str = "default"
    manifests: Path | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    """The author's variables; built-in ones (profile, namespace, manifests) are added by `defaults`."""
    variable_types: Mapping[str, str] = field(default_factory=dict)
    """The type each of the author's variables declares (`tutor.lesson.variables.TYPES`)."""
    requires: tuple[str, ...] = ()
    """Programs the lesson's commands need (for `doctor` and clear messages)."""

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def index(self, step_id: str) -> int:
        return [step.id for step in self.steps].index(step_id)

    def type_of(self, name: str) -> str:
        """The type a value of variable `name` must have (`string` for one that declares none)."""
        return self.variable_types.get(name) or BUILTIN_TYPES.get(name, "string")

    def defaults(self, **overrides: str) -> dict[str, str]:
        """Variables with the lesson's defaults, then `overrides` (e.g. --profile)."""
        values = {
            "profile": self.profile,
            "namespace": self.namespace,
            "manifests": str(self.manifests) if self.manifests else "",
            "lesson_dir": str(self.path.parent),
        }
        values.update(self.variables)
        values.update(overrides)
        return values
