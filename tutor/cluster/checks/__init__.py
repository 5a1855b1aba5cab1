"""The check kinds: one class per kind of `tutor.lesson.schema.CHECK_KINDS`, one file each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutor.cluster.checks.absent import Absent
from tutor.cluster.checks.addon_enabled import AddonEnabled
from tutor.cluster.checks.base import Check, CheckError
from tutor.cluster.checks.command import Command
from tutor.cluster.checks.context import BasicContext, CheckContext, Remembered
from tutor.cluster.checks.data_survives import DataSurvives
from tutor.cluster.checks.default_storageclass import DefaultStorageClass
from tutor.cluster.checks.exists import Exists
from tutor.cluster.checks.field_equals import FieldEquals
from tutor.cluster.checks.http import Http
from tutor.cluster.checks.ingress_address import IngressAddress
from tutor.cluster.checks.pods_ready import PodsReady
from tutor.cluster.checks.process_alive import ProcessAlive
from tutor.cluster.checks.pvc_bound import PvcBound
from tutor.cluster.checks.rollout_complete import RolloutComplete
from tutor.lesson import schema, variables

CHECK_CLASSES: Mapping[str, type[Check]] = {
    cls.kind: cls
    for cls in (
        Exists,
        Absent,
        FieldEquals,
        DefaultStorageClass,
        PodsReady,
        PvcBound,
        RolloutComplete,
        AddonEnabled,
        IngressAddress,
        Http,
        ProcessAlive,
        DataSurvives,
        Command,
    )
}


def build_check(kind: str, fields: Mapping[str, Any], *, namespace: str, title: str | None = None) -> Check:
    """A check from a lesson's check (fields with variables substituted).

    Raises CheckError with a message naming the problem: an unknown kind, a field that
    is invalid once substituted (`--set replicas=lots`), or a `{placeholder}` left
    unfilled (the runtime `{node_ip}` must be substituted by the caller first).
    """
    cls = CHECK_CLASSES.get(kind)
    if cls is None:
        raise CheckError(f"unknown check kind '{kind}'; known kinds: {', '.join(CHECK_CLASSES)}")
    for key, value in fields.items():
        for text in texts_in(value):
            left = list(variables.names(text))
            if left:
                raise CheckError(f"{kind}: field '{key}' still has {{{left[0]}}} in it: substitute it first")
    validation = schema.validate_check({"kind": kind, **fields})
    if validation.problems:
        raise CheckError("; ".join(problem.message for problem in validation.problems))
    return cls(fields, namespace=namespace, title=title)


def texts_in(value: Any) -> list[str]:
    """Every string in a check's field value (lists and mappings looked into)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for entry in value for item in texts_in(entry)]
    if isinstance(value, dict):
        return [item for entry in value.values() for item in texts_in(entry)]
    return []


__all__ = [
    "CHECK_CLASSES",
    "BasicContext",
    "Check",
    "CheckContext",
    "CheckError",
    "Remembered",
    "build_check",
    "texts_in",
]
