"""What can stop a command before it runs, said so that the learner knows what to do.

Executables are looked up on the PATH of the environment the child will get, not the
tutor's own: the sandbox puts its stand-in `minikube` and `kubectl` first on that PATH,
and a lookup on `os.environ` would find (or miss) the real ones instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

INSTALL_ADVICE: Mapping[str, str] = {
    "minikube": "install minikube: https://minikube.sigs.k8s.io/docs/start/",
    "kubectl": "install kubectl: https://kubernetes.io/docs/tasks/tools/",
    "curl": "install curl with your system's package manager (apt, dnf, brew, ...)",
}


def install_advice(program: str) -> str:
    name = os.path.basename(program)
    return INSTALL_ADVICE.get(name, f"install {name} with your system's package manager, or put it on PATH")


class RunError(Exception):
    """A command could not be started (nothing ran)."""


class MissingExecutable(RunError):
    """The program is not installed, or not on the PATH the command would use."""

    def __init__(self, program: str, path: str | None = None) -> None:
        self.program = program
        self.advice = install_advice(program)
        self.search_path = path
        where = "" if "/" in program else " (not found on PATH)"
        super().__init__(f"{program}: command not found{where}; {self.advice}")


class ShuttingDown(RunError):
    """The tutor is exiting: no new process may start, or it would be left behind."""

    def __init__(self) -> None:
        super().__init__("the tutor is shutting down; no new command is started")


def search_path(env: Mapping[str, str] | None = None) -> str:
    """The PATH a child with this environment searches (the tutor's own when env is None)."""
    source = os.environ if env is None else env
    return source.get("PATH", os.defpath)


def locate(program: str, env: Mapping[str, str] | None = None, cwd: str | None = None) -> str:
    """The absolute path the child would execute, or MissingExecutable.

    A name without `/` is searched on the environment's PATH; a relative path with
    `/` is taken relative to `cwd`, as the child would.
    """
    if "/" in program:
        candidate = os.path.join(cwd or os.getcwd(), program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
        raise MissingExecutable(program)
    path = search_path(env)
    found = shutil.which(program, path=path)
    if found is None:
        raise MissingExecutable(program, path)
    return os.path.abspath(found)


def which(program: str, env: Mapping[str, str] | None = None) -> str | None:
    """`which`: the path the program resolves to with this environment, or None."""
    try:
        return locate(program, env)
    except MissingExecutable:
        return None


@dataclass(frozen=True)
class ToolCheck:
    """One program the tutor needs, as `doctor` reports it."""

    program: str
    path: str | None
    advice: str

    @property
    def found(self) -> bool:
        return self.path is not None

    def describe(self) -> str:
        if self.path:
            return f"{self.program}: {self.path}"
        return f"{self.program}: not found; {self.advice}"


def preflight(programs: Iterable[str], env: Mapping[str, str] | None = None) -> list[ToolCheck]:
    """Which of `programs` can run with this environment, and how to get the missing ones."""
    return [ToolCheck(name, which(name, env), install_advice(name)) for name in programs]
