"""What every part of the parser shares: the file, the problems found, and the rules that
apply to every value an author writes (its variables exist, its manifests exist, what it
runs and reaches is said).

One `ParseContext` per lesson file. It also remembers what the parse has seen so far
(step ids, background commands, remembered values, question ids), so a later block can
be checked against an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.lesson import reach, schema, variables
from tutor.lesson.paths import path_kind
from tutor.lesson.place import When
from tutor.lesson.problems import Problem


@dataclass
class ParseContext:
    path: Path
    lines: list[str]
    problems: list[Problem] = field(default_factory=list)
    looked_at: dict[Path, str] = field(default_factory=dict)
    """Files and folders besides the lesson that the result depends on, and what each was."""
    sample: dict[str, str] = field(default_factory=dict)
    """A value for every variable the lesson may use (its defaults; "sample" for the ones only
    a cluster knows): set once the front matter is read."""
    step_ids: dict[str, int] = field(default_factory=dict)
    process_ids: dict[str, tuple[int, When]] = field(default_factory=dict)
    """Background command id -> its line and where it runs."""
    process_refs: list[tuple[str, int]] = field(default_factory=list)
    """`process_alive` checks of the current step: the id and the check's line."""
    remembered: dict[str, int] = field(default_factory=dict)
    question_ids: dict[str, int] = field(default_factory=dict)

    def exists(self, path: Path, *, folder: bool = False) -> bool:
        kind = path_kind(path)
        self.looked_at[path] = kind
        return kind == "folder" if folder else kind != "missing"

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, max(line, 1), message))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, max(line, 1), message, "warning"))

    def source(self, start: int, end: int) -> str:
        return "".join(self.lines[start:end])

    def errors_since(self, count: int) -> bool:
        """Whether an error was reported after the first `count` problems."""
        return any(p.severity == "error" for p in self.problems[count:])

    # --- values ----------------------------------------------------------------------

    def check_variables(self, values: Iterable[Any], line: int, *, in_check: bool = False) -> None:
        """Every `{name}` in `values` is a variable; the ones only the cluster knows (`{node_ip}`)
        are filled in for checks alone."""
        for value in values:
            if isinstance(value, list):
                self.check_variables(value, line, in_check=in_check)
            elif isinstance(value, dict):
                self.check_variables(value.values(), line, in_check=in_check)
            elif isinstance(value, str):
                for name in variables.names(value):
                    if name not in self.sample:
                        known = ", ".join(sorted(self.sample))
                        self.error(line, f"unknown variable '{{{name}}}'; known: {known}")
                    elif name in variables.RUNTIME_VARIABLES and not in_check:
                        self.error(
                            line,
                            f"'{{{name}}}' is read from the cluster for checks only: a command or the prose "
                            "cannot show it (a command can print it, e.g. `minikube ip`)",
                        )

    def check_text_variables(self, text: str, line: int) -> None:
        """Prose may use variables too; report each unknown one on its own line."""
        for offset, text_line in enumerate(text.splitlines()):
            self.check_variables([text_line], line + offset)

    def check_manifest_paths(self, argv: Iterable[str], line: int) -> None:
        for arg in argv:
            if "{manifests}" not in arg and "{lesson_dir}" not in arg:
                continue
            try:
                path = Path(variables.substitute(arg, self.sample))
            except variables.UnknownVariable:
                continue
            if not self.exists(path):
                self.error(line, f"manifest '{arg}' not found (looked for {path})")

    def timeout(self, attrs: Mapping[str, str], line: int, what: str) -> float | None:
        """`timeout=SECONDS` among `attrs`; None when it is not there or not a positive number
        (reported as `what`'s timeout)."""
        if "timeout" not in attrs:
            return None
        problem = schema.positive_number(attrs["timeout"])
        if problem:
            self.error(line, f"{what} timeout {problem}")
            return None
        return float(attrs["timeout"])

    def valid_port(self, port: str, line: int) -> bool:
        """`port` is a port number (1-65535), or a variable whose value is one."""
        before = len(self.problems)
        self.check_variables([port], line)
        if len(self.problems) > before:
            return False
        value = variables.substitute(port, self.sample, strict=False)
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
            self.error(line, f"'port' must be a port number (1-65535) or a variable that holds one, not {value!r}")
            return False
        return True

    # --- what a lesson runs and reaches ----------------------------------------------

    def silences(self, given: Mapping[str, Any], line: int, where: str) -> dict[str, bool]:
        """The silences `given` (attributes or check fields), each with whether it was needed yet."""
        found = {}
        for key in reach.SILENCES:
            if key not in given:
                continue
            reason = given[key]
            if not isinstance(reason, str) or not reason.strip() or reason == "true":
                self.error(line, f"'{key}' needs a reason: {key}=\"why this lesson needs it\" {where}")
            found[key] = False
        return found

    def unused_silences(self, silences: Mapping[str, bool], line: int) -> None:
        for key, used in silences.items():
            if not used:
                self.warn(line, f"'{key}' silences nothing here: remove it")

    def check_reach(
        self, argv: Sequence[str], urls: Sequence[str], line: int, silences: dict[str, bool], where: str
    ) -> None:
        """Warn about the program `argv` runs and the hosts it (or `urls`) reaches, unless silenced."""
        found = []
        if argv:
            program = variables.substitute(argv[0], self.sample, strict=False)
            found.extend(reach.program_warnings(argv[0], program))
        hosts = [*reach.hosts_in(argv), *(host for url in urls for host in reach.hosts_in(("curl", url)))]
        found.extend(reach.host_warnings(hosts, self.sample))
        for warning in found:
            if warning.silence in silences:
                silences[warning.silence] = True
                continue
            self.warn(line, f'{warning.message}; if that is meant, say why with {warning.silence}="..." {where}')
