"""Where a lesson runs: on which backend (the sandbox or a real cluster) and which platform.

A lesson may say a sentence, give a hint, run a command or ask a question only in some
places (`::: only {backend=real platform=wsl2}`; `backend=sandbox` on a fenced block).
`When` is that condition as parsed; `Place` is where the learner is; `detect_platform`
decides the platform from what the machine says about itself, as a pure function.
"""

from __future__ import annotations

import os
import platform as _platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

Backend = Literal["sandbox", "real"]
Platform = Literal["linux", "macos", "windows", "wsl2"]

BACKENDS: tuple[Backend, ...] = get_args(Backend)
PLATFORMS: tuple[Platform, ...] = get_args(Platform)

BACKEND_NAMES: Mapping[Backend, str] = {"sandbox": "the sandbox", "real": "a real cluster"}
PLATFORM_NAMES: Mapping[Platform, str] = {"linux": "Linux", "macos": "macOS", "windows": "Windows", "wsl2": "WSL2"}


@dataclass(frozen=True)
class Place:
    """Where the learner runs the lesson."""

    backend: Backend
    platform: Platform

    @classmethod
    def here(cls, *, sandbox: bool) -> Place:
        """This machine, on the sandbox or on a real cluster."""
        return cls("sandbox" if sandbox else "real", current_platform())

    def __str__(self) -> str:
        return f"{BACKEND_NAMES[self.backend]} on {PLATFORM_NAMES[self.platform]}"


@dataclass(frozen=True)
class When:
    """Where a block applies: on any of `backends` and any of `platforms`; empty means any."""

    backends: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()

    @property
    def always(self) -> bool:
        return not self.backends and not self.platforms

    def applies(self, place: Place) -> bool:
        return (not self.backends or place.backend in self.backends) and (
            not self.platforms or place.platform in self.platforms
        )

    def within(self, outer: When) -> When | None:
        """This condition inside `outer` (a nested `only`): where both apply; None where that
        is nowhere (`backend=sandbox` inside `backend=real`)."""
        backends = _both(outer.backends, self.backends)
        platforms = _both(outer.platforms, self.platforms)
        if backends is None or platforms is None:
            return None
        return When(backends, platforms)

    def __str__(self) -> str:
        parts = []
        if self.backends:
            parts.append("backend=" + ",".join(self.backends))
        if self.platforms:
            parts.append("platform=" + ",".join(self.platforms))
        return " ".join(parts) or "everywhere"


ALWAYS = When()


def _both(outer: tuple[str, ...], inner: tuple[str, ...]) -> tuple[str, ...] | None:
    """The names both lists allow (an empty list allows every name); None when none is."""
    if not outer:
        return inner
    if not inner:
        return outer
    common = tuple(name for name in inner if name in outer)
    return common or None


def parse_names(text: str, known: Iterable[str], what: str) -> tuple[tuple[str, ...], str | None]:
    """`sandbox` or `linux,macos` -> the names, and why they cannot be used (or None)."""
    names = tuple(part.strip() for part in text.split(","))
    known = tuple(known)
    if not text.strip() or any(not name for name in names):
        return (), f"'{what}' needs a name, or several separated by ',': {', '.join(known)}"
    unknown = [name for name in names if name not in known]
    if unknown:
        return (), f"unknown {what} '{unknown[0]}'; known: {', '.join(known)}"
    if len(set(names)) != len(names):
        return (), f"'{what}' names '{next(n for n in names if names.count(n) > 1)}' twice"
    return names, None


def detect_platform(system: str, proc_version: str = "", environ: Mapping[str, str] | None = None) -> Platform:
    """The platform, from `platform.system()`, the text of /proc/version and the environment.

    WSL (both 1 and 2: minikube runs only on 2) says "microsoft" in its kernel's version
    string and sets WSL_DISTRO_NAME; minikube itself looks at the latter. Cygwin and MSYS
    are Windows programs, whatever their uname says. Anything else Unix-like counts as Linux.
    """
    env = environ or {}
    lowered = system.lower()
    if lowered == "darwin":
        return "macos"
    if lowered == "windows" or lowered.startswith(("cygwin", "msys", "mingw")):
        return "windows"
    if "microsoft" in proc_version.lower() or env.get("WSL_DISTRO_NAME") or env.get("WSL_INTEROP"):
        return "wsl2"
    return "linux"


def current_platform(proc_version: Path = Path("/proc/version")) -> Platform:
    """This machine's platform (`detect_platform` on what it says about itself)."""
    try:
        version = proc_version.read_text(errors="replace")[:4096]
    except OSError:
        version = ""
    return detect_platform(_platform.system(), version, os.environ)
