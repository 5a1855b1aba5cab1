"""Kubernetes label selectors, as kubectl's `-l` takes them.

`name=mongo`, `app!=web`, `tier in (a, b)`, `tier notin (c)`, `release`, `!canary`,
joined by commas. Parsed here so lint can reject a bad selector before any cluster
sees it; `Selector.matches` lets the cluster layer share one watch between checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


class BadSelector(ValueError):
    pass


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str
    """One of =, !=, in, notin, exists, !exists."""
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op in ("=", "in"):
            return labels.get(self.key) in self.values
        # != and notin also match objects without the label, as in Kubernetes.
        return labels.get(self.key) not in self.values

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!exists":
            return f"!{self.key}"
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{self.values[0]}"
        return f"{self.key} {self.op} ({','.join(self.values)})"


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(req.matches(labels) for req in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(req) for req in self.requirements)


_KEY = r"(?:[a-z0-9A-Z.-]+/)?[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?"
_VALUE = r"(?:[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split(text: str) -> list[str]:
    """Split on commas that are not inside a `( ... )` value set."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse(text: str) -> Selector:
    if not text.strip():
        raise BadSelector("the label selector is empty")
    requirements = []
    for part in _split(text):
        if match := _SET.match(part):
            values = tuple(v.strip() for v in match.group(3).split(",") if v.strip())
            if not values:
                raise BadSelector(f"'{part.strip()}' lists no values")
            bad = [v for v in values if not re.fullmatch(_VALUE, v)]
            if bad:
                raise BadSelector(f"'{bad[0]}' is not a valid label value in '{part.strip()}'")
            requirements.append(Requirement(match.group(1), match.group(2), values))
        elif match := _EQ.match(part):
            op = "=" if match.group(2) in ("=", "==") else "!="
            requirements.append(Requirement(match.group(1), op, (match.group(3),)))
        elif match := _EXISTS.match(part):
            requirements.append(Requirement(match.group(2), "!exists" if match.group(1) else "exists"))
        else:
            raise BadSelector(f"cannot read '{part.strip()}' in label selector '{text}'")
    return Selector(tuple(requirements))
