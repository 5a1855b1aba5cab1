"""Building and evaluating checks over a StaticView, for pure tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tutor.cluster.checks import BasicContext, build_check
from tutor.cluster.results import CheckResult
from tutor.cluster.view import StaticView


def evaluate(
    kind: str,
    items: Iterable[dict[str, Any]] = (),
    *,
    ctx: BasicContext | None = None,
    namespace: str = "pacman",
    missing_types: Iterable[str] = (),
    **fields: Any,
) -> CheckResult:
    check = build_check(kind, fields, namespace=namespace)
    return check.evaluate(StaticView(items, missing_types=missing_types), ctx or BasicContext())
