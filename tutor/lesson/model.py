"""What a lesson is, once parsed: plain data, no behaviour beyond derived views.

Every string a learner or the tutor will use (command argv, check fields) is kept
*unsubstituted* here; variables are filled in by `Lesson.substitute`, so the same
parsed lesson serves several clusters (profiles, namespaces) without re-parsing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tutor.lesson import commandline
from tutor.lesson.place import ALWAYS, Place, When
from tutor.lesson.variables import BUILTIN_TYPES, names, substitute


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
    port: str | None = None
    """Background only: the local port it listens on, as written (`{local_port}`, `8080`).
    The tutor looks at it before the command starts (taken? already serving the app?)."""

    def display(self, variables: Mapping[str, str]) -> str:
        """The command as it runs, quoted for a shell: a copied line runs exactly this argv."""
        return shlex.join(substitute(arg, variables) for arg in self.argv)

    @property
    def port_variable(self) -> str | None:
        """The variable that is the port, when the command's own words use it: changing it
        moves the command to another port (`{local_port}` in `port-forward svc/x {local_port}:80`)."""
        if self.port is None:
            return None
        used = list(names(self.port))
        if len(used) != 1 or self.port.strip() != "{" + used[0] + "}":
            return None
        return used[0] if any(used[0] in names(arg) for arg in self.argv) else None


@dataclass(frozen=True)
class Prose:
    """Markdown text shown to the learner, exactly as written in the lesson."""

    markdown: str
    line: int
    when: When = ALWAYS
    """Where it is shown (`::: only`); a lesson chosen for a place (`Lesson.for_place`) keeps
    only what applies there, and every `when` in it is ALWAYS."""


@dataclass(frozen=True)
class CommandBlock:
    """A fenced block of commands, in its place among the prose."""

    commands: tuple[Command, ...]
    line: int
    when: When = ALWAYS


@dataclass(frozen=True)
class Choice:
    """One answer of a multiple-choice question, and why it is right or wrong."""

    text: str
    why: str
    correct: bool = False


@dataclass(frozen=True)
class Question:
    """A short check of understanding, in its place among the prose (```` ```yaml {question} ````).

    Either multiple choice (`choices`, each with its explanation) or a typed answer of a word
    or two (`answers`, the accepted spellings; `why` explains it, `wrong` explains some
    wrong answers, `otherwise` any other). `tutor.lesson.questions` judges an answer.
    """

    id: str
    ask: str
    line: int
    choices: tuple[Choice, ...] = ()
    answers: tuple[str, ...] = ()
    why: str = ""
    wrong: Mapping[str, str] = field(default_factory=dict)
    otherwise: str = ""
    blocking: bool = False
    """The author's say: the step is not done until this is answered right. Otherwise a
    question never holds up the cluster steps."""
    when: When = ALWAYS

    @property
    def multiple_choice(self) -> bool:
        return bool(self.choices)


Block = Prose | CommandBlock | Question


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

    def on_local_port(self, variables: Mapping[str, str], port: int) -> CheckSpec | None:
        """This check narrowed to the URLs it requests on this machine's `port` (`url`, or
        those of `urls`), values filled in; None when it requests none there."""
        fields = {key: _substitute_value(value, variables, strict=False) for key, value in self.fields.items()}
        key = "urls" if "urls" in fields else "url"
        urls = fields.get(key)
        listed = [str(url) for url in (urls if isinstance(urls, list) else [urls]) if url]
        local = [url for url in listed if _local_port(url) == port]
        if not local:
            return None
        fields[key] = local if key == "urls" else local[0]
        return replace(self, fields=fields)


def _substitute_value(value: Any, variables: Mapping[str, str], *, strict: bool = True) -> Any:
    if isinstance(value, str):
        return substitute(value, variables, strict=strict)
    if isinstance(value, list):
        return [_substitute_value(item, variables, strict=strict) for item in value]
    if isinstance(value, dict):
        return {key: _substitute_value(item, variables, strict=strict) for key, item in value.items()}
    return value


def _local_port(url: str) -> int | None:
    """The port of an http(s) URL on this machine (localhost, a loopback address); else None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            return None
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # not an address (a name, or a {variable} left), or a bad port
        return None


@dataclass(frozen=True)
class Hint:
    markdown: str
    line: int
    when: When = ALWAYS


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

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(block for block in self.blocks if isinstance(block, Question))

    def for_place(self, place: Place) -> Step:
        """The step as a learner in `place` sees it: only the blocks and hints that apply there."""
        return replace(
            self,
            blocks=tuple(replace(block, when=ALWAYS) for block in self.blocks if block.when.applies(place)),
            hints=tuple(replace(hint, when=ALWAYS) for hint in self.hints if hint.when.applies(place)),
        )


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
    place: Place | None = None
    """Where the lesson was chosen for (`for_place`); None: as written, every variant in it."""

    def for_place(self, place: Place) -> Lesson:
        """The lesson as a learner in `place` sees and runs it: prose, hints, commands and
        questions marked for other backends or platforms left out. Choosing again for
        another place changes nothing: what was left out is gone."""
        if self.place is not None:
            return self
        return replace(self, steps=tuple(step.for_place(place) for step in self.steps), place=place)

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
