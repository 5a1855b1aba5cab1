"""The node's image catalogue: which images can be pulled, and what their containers do.

The catalogue is data (``data/images.yaml``), read once per process. :func:`lookup`
answers a pod's ``image`` field with the :class:`Image` to run or the :class:`PullFailure`
a real node would meet (an unknown tag, a repository that does not exist, a registry
that does not resolve, a malformed name), and :func:`pull_error` words the failure as
the node's container runtime does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache, lru_cache
from typing import Any, Literal, assert_never

from tutor.sandbox.datafiles import load_yaml

Runs = Literal["server", "shell", "task"]

_NAME_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")


@dataclass(frozen=True)
class Route:
    status: int
    body: str = ""


@dataclass(frozen=True)
class Served:
    """A port the image's server listens on: HTTP routes, or a plain TCP listener."""

    port: int
    http: Mapping[str, Route] | None = None
    #: An environment variable that moves the port (the game's $PORT).
    port_env: str | None = None

    def port_for(self, env: Mapping[str, str]) -> int:
        value = env.get(self.port_env or "", "")
        return int(value) if value.isdigit() else self.port


@dataclass(frozen=True)
class Image:
    """A catalogued repository and what a container of it does (see images.yaml)."""

    repository: str
    size: int = 0
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    runs: Runs = "server"
    exit_code: int = 0
    commands: frozenset[str] = frozenset()
    serves: tuple[Served, ...] = ()
    log: str = ""
    requires_env: tuple[tuple[str, ...], ...] = ()
    missing_env_log: str = ""
    preloaded: bool = False
    ignores_sigterm: bool = False
    tags: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()

    def has_tag(self, tag: str) -> bool:
        return tag in self.tags or any(p.fullmatch(tag) for p in self.patterns)

    def runs_server(self, argv0: str) -> bool:
        """True when ``argv0`` is one of the image's own programs: one of ``commands``, or
        the program its CMD or ENTRYPOINT names."""
        base = argv0.rsplit("/", 1)[-1]
        if argv0 in self.commands or base in self.commands:
            return True
        own = [a for a in (self.cmd[:1] + self.entrypoint[:1]) if not a.endswith("entrypoint.sh")]
        return any(base == a.rsplit("/", 1)[-1] for a in own)


class Failure(Enum):
    """Why a pull fails, as the registry and the runtime would say."""

    INVALID = "InvalidImageName"  # the name cannot be parsed: no pull is attempted
    HOST = "host"  # the registry's host does not resolve
    REPOSITORY = "repository"  # no such repository (or not allowed to see it)
    MANIFEST = "manifest"  # the repository has no such tag


@dataclass(frozen=True)
class PullFailure:
    failure: Failure
    message: str = ""


@dataclass(frozen=True)
class Reference:
    """An image reference taken apart: ``registry/path:tag@digest``."""

    registry: str
    path: str
    tag: str
    digest: str = ""

    @property
    def repository(self) -> str:
        return f"{self.registry}/{self.path}"

    @property
    def full(self) -> str:
        """As the runtime names it: ``docker.io/library/mongo:5.0``."""
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"

    @property
    def familiar(self) -> str:
        """As docker prints it: ``mongo:5.0``, ``bitnami/redis:7``."""
        name = self.repository
        if self.registry == "docker.io":
            name = self.path.removeprefix("library/")
        return f"{name}@{self.digest}" if self.digest else f"{name}:{self.tag}"


@dataclass(frozen=True)
class Catalogue:
    registries: frozenset[str]
    images: Mapping[str, Image] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def parse_reference(image: str) -> Reference | PullFailure:
    """Split a pod's image field as the runtime does, or say why it cannot be parsed."""

    def invalid(why: str) -> PullFailure:
        return PullFailure(
            Failure.INVALID,
            f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": '
            f"invalid reference format{why}",
        )

    if not image or image != image.strip():
        return invalid("")
    name, _, digest = image.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        return invalid("")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name[: len(name) - len(last)] + last.split(":", 1)[0], last.split(":", 1)[1]
        if not _TAG.fullmatch(tag):
            return invalid("")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name
    if registry == "docker.io" and "/" not in path:
        path = "library/" + path
    if path != path.lower():
        return invalid(f": repository name ({path}) must be lowercase")
    if not all(_NAME_COMPONENT.fullmatch(part) for part in path.split("/")):
        return invalid("")
    return Reference(registry, path, tag or ("" if digest else "latest"), digest)


def normalize_image(image: str) -> str:
    """``mongo:5.0`` -> ``docker.io/library/mongo:5.0``, as the runtime reports it."""
    ref = parse_reference(image)
    return ref.full if isinstance(ref, Reference) else image


@lru_cache(maxsize=4096)
def lookup(image: str) -> tuple[Reference, Image] | PullFailure:
    """The catalogued image a pod's ``image`` field names, or why pulling it fails."""
    ref = parse_reference(image)
    if isinstance(ref, PullFailure):
        return ref
    cat = catalogue()
    if ref.registry not in cat.registries:
        return PullFailure(Failure.HOST)
    known = cat.images.get(ref.repository)
    if known is None:
        return PullFailure(Failure.REPOSITORY)
    if ref.digest or known.has_tag(ref.tag):
        return ref, known
    return PullFailure(Failure.MANIFEST)


def pull_error(image: str, failure: PullFailure, runtime: str) -> str:
    """What the runtime answers to a failed pull, as the kubelet's ``Failed`` event quotes it."""
    ref = parse_reference(image)
    if isinstance(ref, PullFailure):
        return failure.message
    host = ref.registry
    match failure.failure:
        case Failure.MANIFEST:
            if runtime == "docker":
                return (
                    f"Error response from daemon: manifest for {ref.familiar} not found: "
                    "manifest unknown: manifest unknown"
                )
            if runtime == "cri-o":
                return f"reading manifest {ref.tag} in {ref.repository}: manifest unknown"
            return (
                f'failed to pull and unpack image "{ref.full}": failed to resolve reference "{ref.full}": '
                f"{ref.full}: not found"
            )
        case Failure.REPOSITORY:
            name = ref.familiar.rsplit(":", 1)[0].split("@", 1)[0]
            if runtime == "docker":
                return (
                    f"Error response from daemon: pull access denied for {name}, repository does not exist "
                    "or may require 'docker login': denied: requested access to the resource is denied"
                )
            if runtime == "cri-o":
                return (
                    f"initializing source docker://{ref.full}: reading manifest {ref.tag} in {ref.repository}: "
                    "requested access to the resource is denied"
                )
            return (
                f'failed to pull and unpack image "{ref.full}": failed to resolve reference "{ref.full}": '
                "pull access denied, repository does not exist or may require authorization: server message: "
                "insufficient_scope: authorization failed"
            )
        case Failure.HOST:
            lookup_error = f"dial tcp: lookup {host}: no such host"
            if runtime == "docker":
                return f'Error response from daemon: Get "https://{host}/v2/": {lookup_error}'
            if runtime == "cri-o":
                return (
                    f"initializing source docker://{ref.full}: pinging container registry {host}: "
                    f'Get "https://{host}/v2/": {lookup_error}'
                )
            return (
                f'failed to pull and unpack image "{ref.full}": failed to resolve reference "{ref.full}": '
                f'failed to do request: Head "https://{host}/v2/{ref.path}/manifests/{ref.tag}": {lookup_error}'
            )
        case Failure.INVALID:
            return failure.message
        case _:
            assert_never(failure.failure)


# ---- loading -------------------------------------------------------------------------


def _routes(raw: Mapping[str, Any]) -> dict[str, Route]:
    routes = {}
    for path, answer in raw.items():
        if isinstance(answer, list):
            routes[str(path)] = Route(int(answer[0]), str(answer[1]))
        else:
            routes[str(path)] = Route(int(answer))
    return routes


def _tags(entry: Mapping[str, Any]) -> frozenset[str]:
    tags = {str(t) for t in entry.get("tags") or ()}
    variants = [str(v) for v in entry.get("variants") or [""]]
    for minor, (low, high) in (entry.get("versions") or {}).items():
        for version in [str(minor), *(f"{minor}.{patch}" for patch in range(int(low), int(high) + 1))]:
            tags.update(version + variant for variant in variants)
    return frozenset(tags)


def _image(entry: Mapping[str, Any]) -> Image:
    serves = tuple(
        Served(
            int(s["port"]),
            _routes(s["http"]) if isinstance(s.get("http"), Mapping) else None,
            s.get("port_env"),
        )
        for s in entry.get("serves") or ()
    )
    runs = str(entry.get("runs", "server"))
    if runs not in ("server", "shell", "task"):
        raise ValueError(f"{entry['repository']}: runs must be server, shell or task, not {runs!r}")
    return Image(
        repository=str(entry["repository"]),
        size=int(entry.get("size", 0)),
        entrypoint=tuple(str(a) for a in entry.get("entrypoint") or ()),
        cmd=tuple(str(a) for a in entry.get("cmd") or ()),
        runs=runs,  # type: ignore[arg-type]  # checked just above
        exit_code=int(entry.get("exit_code", 0)),
        commands=frozenset(str(c) for c in entry.get("commands") or ()),
        serves=serves,
        log=str(entry.get("log") or ""),
        requires_env=tuple(tuple(str(v) for v in alt) for alt in entry.get("requires_env") or ()),
        missing_env_log=str(entry.get("missing_env_log") or ""),
        preloaded=bool(entry.get("preloaded", False)),
        ignores_sigterm=entry.get("stop") == "ignore",
        tags=_tags(entry),
        patterns=tuple(re.compile(p) for p in entry.get("patterns") or ()),
    )


@cache
def catalogue() -> Catalogue:
    """The catalogue, parsed once per process."""
    data = load_yaml("images.yaml")
    images = {}
    for entry in data["images"]:
        image = _image(entry)
        images[image.repository] = image
    return Catalogue(frozenset(data["registries"]), images)
