"""`{name}` placeholders in lesson strings.

Substitution works on single strings (one argv element, one check field), so a value
never splits into several arguments or reaches a shell. Only `{identifier}` is a
placeholder: JSON in a command (`kubectl patch -p '{"metadata": ...}'`) needs no escaping.
`{{name}}` stands for a literal `{name}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

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
