"""The context guard: the tutor creates and deletes objects, so it acts freely only on a
cluster that lives on the learner's machine.

Any other context is used only when the learner named it (`--context NAME`) and then
confirmed. The decision is made from the kubeconfig alone, before any connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.cluster.kubeconfig import ContextInfo

LOCAL_KINDS_TEXT = "minikube, kind, k3d, Docker Desktop, Rancher Desktop, OrbStack, or the sandbox"


@dataclass(frozen=True)
class GuardDecision:
    allowed: bool
    needs_confirmation: bool
    message: str
    """Why, and how to proceed, in one or two sentences for the learner."""


def decide(info: ContextInfo, *, explicit: bool, confirmed: bool = False) -> GuardDecision:
    """`explicit`: the learner named this context with --context; `confirmed`: and agreed to use it."""
    if info.is_local:
        return GuardDecision(True, False, f"using {info.describe()}")
    if not explicit:
        return GuardDecision(
            False,
            False,
            f"k8s-tutor only acts on local clusters ({LOCAL_KINDS_TEXT}); the current context "
            f"{info.name!r} points at {info.server}. Switch to a local one (kubectl config use-context "
            f"minikube), or run with --context {info.name} to use it anyway.",
        )
    if not confirmed:
        return GuardDecision(
            False,
            True,
            f"context {info.name!r} points at {info.server}, which is not a local cluster: the lesson "
            "will create and delete objects there. Use it anyway?",
        )
    return GuardDecision(True, False, f"using {info.describe()} (not local; you confirmed it)")
