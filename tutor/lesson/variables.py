"""`{name}` placeholders in lesson strings.

Substitution works on single strings (one argv element, one check field), so a value
never splits into several arguments or reaches a shell. Only `{identifier}` is a
placeholder: JSON in a command (`kubectl patch -p '{"metadata": ...}'`) needs no escaping.
`{{name}}` stands for a literal `{name}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from tutor.safe_text import has_controls

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

RUNTIME_VARIABLES: Mapping[str, str] = {
    "node_ip": "the cluster node's InternalIP address, read from the cluster (what `minikube ip` prints)",
}
"""Variables whose value only the live cluster knows; the session fills them in."""

BUILTIN_VARIABLES: Mapping[str, str] = {
    "profile": "the minikube profile (front matter `profile`, or --profile)",
    "namespace": "the lesson's namespace (front matter `namespace`)",
    "manifests": "the absolute path of the lesson's manifests folder",
    "lesson_dir": "the absolute path of the folder holding the lesson file",
}


class UnknownVariable(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def names(text: str) -> Iterator[str]:
    """The placeholders used in `text`, in order."""
    for match in _PLACEHOLDER.finditer(text):
        if match.group(2):
            yield match.group(2)


def substitute(text: str, variables: Mapping[str, str], *, strict: bool = True) -> str:
    """Fill `{name}` from `variables`; unknown names raise, or stay as written if not strict."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "{" + match.group(1) + "}"
        name = match.group(2)
        if name in variables:
            return str(variables[name])
        if strict:
            raise UnknownVariable(name)
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


TYPES: Mapping[str, str] = {
    "port": "a TCP port, 1 to 65535",
    "count": "a whole number, 0 or more",
    "name": "a Kubernetes name (RFC 1123): lower-case letters, digits, '-' and '.', starting and ending "
    "with a letter or digit, at most 253 characters",
    "host": "a DNS name or an IP address",
    "string": "any text without control characters",
}
"""The types a lesson variable may declare, and what a value of each looks like."""

BUILTIN_TYPES: Mapping[str, str] = {
    "profile": "name",
    "namespace": "name",
    "manifests": "string",
    "lesson_dir": "string",
    "node_ip": "host",
}

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$")


def problem(kind: str, value: str) -> str | None:
    """Why `value` is not a `kind` (one of TYPES), or None when it is."""
    if has_controls(value) or "\n" in value or "\t" in value:
        return "it holds control characters"
    match kind:
        case "port":
            if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 65535:
                return "a port is a whole number from 1 to 65535"
        case "count":
            if not value.isascii() or not value.isdigit():
                return "a count is a whole number, 0 or more"
        case "name":
            if len(value) > 253 or not _NAME.match(value):
                return (
                    "a name is lower-case letters, digits, '-' and '.', starts and ends with a letter or digit "
                    "(RFC 1123), at most 253 characters"
                )
        case "host":
            if not _is_host(value):
                return "a host is a DNS name (such as pacman.com) or an IP address (such as 127.0.0.1)"
        case "string":
            pass
        case _:
            return f"unknown variable type '{kind}'; types: {', '.join(TYPES)}"
    return None


def _is_host(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(label) for label in name.split("."))
