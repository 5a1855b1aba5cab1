"""What a lesson's commands reach: the programs they run, the hosts they talk to, the files they name.

A lesson is code: its commands run as the learner. `lint` warns about programs outside
`ALLOWED_PROGRAMS`, about programs that run other programs (`WRAPPERS`: a shell, an
interpreter, `env`, `sudo`...) even when allowed, and about URLs whose host is neither
loopback nor one of the lesson's variables. A command block silences them with a reason
(`allow_program="..."`, `allow_host="..."`); lint says when a silence silences nothing.
Before the learner trusts a lesson from elsewhere, the tutor shows what `reach` finds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tutor.lesson import variables
from tutor.lesson.model import Lesson

ALLOWED_PROGRAMS = frozenset(
    {
        # Kubernetes and its local clusters
        "kubectl",
        "minikube",
        "kind",
        "k3d",
        "k3s",
        "helm",
        "kustomize",
        "kubectx",
        "kubens",
        "stern",
        "k9s",
        # talking to what the lesson runs
        "curl",
        "wget",
        "jq",
        "yq",
        # small, well-known tools a lesson shows along the way
        "echo",
        "cat",
        "ls",
        "test",
        "true",
        "false",
        "sleep",
        "seq",
        "touch",
        "mkdir",
        "grep",
        "head",
        "tail",
        "wc",
        "sort",
        "base64",
        "date",
        "diff",
    }
)
"""Programs a Kubernetes lesson is expected to run: lint says nothing about them."""

WRAPPERS = frozenset(
    {
        "sh",
        "bash",
        "zsh",
        "dash",
        "ksh",
        "fish",
        "csh",
        "tcsh",
        "python",
        "python2",
        "python3",
        "perl",
        "ruby",
        "node",
        "deno",
        "php",
        "lua",
        "awk",
        "find",
        "env",
        "xargs",
        "sudo",
        "doas",
        "su",
        "nohup",
        "nice",
        "ionice",
        "timeout",
        "watch",
        "exec",
        "eval",
        "command",
        "setsid",
        "stdbuf",
        "busybox",
        "chroot",
        "nsenter",
        "unshare",
        "strace",
        "time",
        "script",
        "expect",
        "ssh",
        "parallel",
        "docker",  # `docker run` runs any image, with whatever it mounts
        "podman",
    }
)
"""Programs that run other programs (or any code given to them): a warning even if allowed."""

SILENCES = {
    "allow_program": "a program outside the allow-list, a program given by path, or one that runs others",
    "allow_host": "a URL whose host is neither loopback nor one of the lesson's variables",
}
"""Attributes (on a command block) and fields (on a check) that silence a warning, with a reason."""

_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^/\s?#'\"]+)")
_BARE_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9{}_.-]+)(:[0-9{}_A-Za-z]+)?(/\S*)?$")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_CURL_VALUE_OPTIONS = frozenset(
    {
        "-d",
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "-H",
        "--header",
        "-o",
        "--output",
        "-X",
        "--request",
        "-u",
        "--user",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "-F",
        "--form",
        "-m",
        "--max-time",
        "--connect-timeout",
        "-w",
        "--write-out",
        "--resolve",
        "--connect-to",
        "--cacert",
        "-E",
        "--cert",
        "--key",
        "-T",
        "--upload-file",
        "-O",
        "--output-document",
        "--header-file",
        "-U",
        "--proxy-user",
    }
)
"""curl's and wget's options that take a value: that value is not the address."""


@dataclass(frozen=True)
class ReachWarning:
    """Something lint warns about in one command; `silence` is the attribute that silences it."""

    message: str
    silence: str


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (brackets allowed)."""
    import ipaddress

    name = host.strip("[]").rstrip(".").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def program_warnings(raw: str, value: str) -> list[ReachWarning]:
    """Warnings about the program a command runs: `raw` as written, `value` with variables filled in."""
    if list(variables.names(raw)):
        return [ReachWarning(f"the program to run comes from a variable (`{raw}`)", "allow_program")]
    if "/" in value:
        return [ReachWarning(f"runs a program by its path (`{value}`), not one found on PATH", "allow_program")]
    found = []
    if value in WRAPPERS:
        found.append(
            ReachWarning(f"`{value}` runs other programs or code: anything may run through it", "allow_program")
        )
    elif value not in ALLOWED_PROGRAMS:
        found.append(
            ReachWarning(
                f"`{value}` is not on the list of programs lessons usually run (docs/lesson-format.md)",
                "allow_program",
            )
        )
    return found


def hosts_in(argv: Sequence[str]) -> Iterator[str]:
    """The hosts the arguments name as written (URLs, and curl's or wget's bare addresses)."""
    bare = bool(argv) and argv[0] in ("curl", "wget")
    skip = False
    for arg in argv[1:]:
        found = [match.group(2) for match in _URL.finditer(arg)]
        yield from (_host(authority) for authority in found)
        if found or not bare:
            continue
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in _CURL_VALUE_OPTIONS
            continue
        match = _BARE_HOST.match(arg)
        if match and ("." in match.group(1) or match.group(1).startswith("[") or "{" in match.group(1)):
            yield _host(match.group(1) + (match.group(2) or ""))


def _host(authority: str) -> str:
    """`user:pass@host:port` -> host (an IPv6 literal keeps its brackets)."""
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def host_warnings(hosts: Iterable[str], values: Mapping[str, str]) -> list[ReachWarning]:
    """Warnings about hosts as written: loopback and `{variable}` hosts are fine."""
    found = []
    for raw in hosts:
        if re.fullmatch(r"\{[A-Za-z_][A-Za-z0-9_]*\}", raw):
            continue  # one of the lesson's variables: shown, and the learner can --set it
        host = variables.substitute(raw, values, strict=False)
        if not is_loopback(host):
            found.append(
                ReachWarning(
                    f"reaches `{host}`, which is neither loopback nor one of the lesson's variables", "allow_host"
                )
            )
    return found


@dataclass(frozen=True)
class Reach:
    """What a lesson would do on this machine, for the learner to read before trusting it."""

    programs: tuple[str, ...]
    """Every program its commands, cleanups and `command` checks run, in order of first use."""
    hosts: tuple[str, ...]
    """Every host its commands and `http` checks reach (variables filled in)."""
    files: tuple[Path, ...]
    """The files its commands name by `{manifests}` or `{lesson_dir}` (folders: every file in them)."""
    unusual: tuple[str, ...]
    """The programs lint would warn about (outside the allow-list, or running other programs)."""


def argvs(lesson: Lesson) -> Iterator[tuple[str, ...]]:
    """Every argv the lesson may run, as written: commands, background commands, cleanups, command checks."""
    from tutor.lesson import commandline

    for step in lesson.steps:
        for command in (*step.commands, *step.cleanup):
            yield command.argv
        for check in step.checks:
            run = check.fields.get("run")
            if check.kind != "command":
                continue
            if isinstance(run, list):
                yield tuple(str(arg) for arg in run)
            elif isinstance(run, str):
                try:
                    yield commandline.parse(run)
                except commandline.BadCommandLine:
                    continue


def check_urls(lesson: Lesson) -> Iterator[str]:
    """The URLs the lesson's checks request, as written."""
    for step in lesson.steps:
        for check in step.checks:
            for key in ("url", "urls"):
                value = check.fields.get(key)
                for url in value if isinstance(value, list) else [value]:
                    if isinstance(url, str):
                        yield url


def reach(lesson: Lesson, values: Mapping[str, str] | None = None) -> Reach:
    values = dict(values if values is not None else lesson.defaults())
    programs: dict[str, None] = {}
    hosts: dict[str, None] = {}
    unusual: dict[str, None] = {}
    files: dict[Path, None] = {}
    for argv in argvs(lesson):
        program = variables.substitute(argv[0], values, strict=False)
        programs[program] = None
        if program_warnings(argv[0], program):
            unusual[program] = None
        for host in hosts_in(argv):
            hosts[variables.substitute(host, values, strict=False)] = None
        for path in named_files(argv, values):
            files[path] = None
    for url in check_urls(lesson):
        for host in hosts_in(("curl", url)):
            hosts[variables.substitute(host, values, strict=False)] = None
    return Reach(tuple(programs), tuple(hosts), tuple(files), tuple(unusual))


MAX_FILES = 1000
"""Files of a named folder taken into account at most (a lesson's manifests are a handful)."""


def named_files(argv: Sequence[str], values: Mapping[str, str]) -> Iterator[Path]:
    """The files an argv names through `{manifests}` or `{lesson_dir}`; a folder gives every file in it."""
    for arg in argv:
        if "{manifests}" not in arg and "{lesson_dir}" not in arg:
            continue
        path = Path(variables.substitute(arg.partition("=")[2] if arg.startswith("-") else arg, values, strict=False))
        if path.is_dir():
            yield from _files_in(path)
        elif path.is_file():
            yield path


def _files_in(folder: Path) -> list[Path]:
    """The regular files below `folder`, sorted, without following links to folders (no loops)."""
    found: list[Path] = []
    for root, folders, names in os.walk(folder):
        folders.sort()
        found.extend(Path(root) / name for name in sorted(names) if (Path(root) / name).is_file())
        if len(found) >= MAX_FILES:
            break
    return sorted(found)[:MAX_FILES]
