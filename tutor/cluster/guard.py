"""The context guard: the tutor creates and deletes objects, so it acts freely only on a
cluster whose API server is on the learner's machine (`locality.py` says how that is
decided: from where the server is, never from a name or an extension).

Any other context is used only when the learner named it (`--context NAME`) and then
confirmed it, for that server: a confirmation does not follow the context to another
address. A context on this machine whose user runs a program for its credentials (an
`exec` plugin, an `auth-provider`) is treated the same way: a local cluster needs none,
and the tutor runs no program a kubeconfig names unless the learner agreed to it.
The decision is made from the kubeconfig alone, before any connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.cluster.kubeconfig import ContextInfo


@dataclass(frozen=True)
class GuardDecision:
    allowed: bool
    needs_confirmation: bool
    message: str
    """Why, and how to proceed, in one or two sentences for the learner."""
    context: str = ""
    """The context decided on: the answer a confirmation asks the learner to type."""

    def refusal(self) -> str:
        """What to say when the confirmation cannot be asked (no terminal) or was not given."""
        if not self.needs_confirmation:
            return self.message
        return (
            f"{self.message} k8s-tutor acts there only after you confirm it on a terminal, by typing the "
            f"context's name ({self.context}) when asked; --yes does not confirm it."
        )


def decide(info: ContextInfo, *, explicit: bool, confirmed: bool = False) -> GuardDecision:
    """`explicit`: the learner named this context with --context; `confirmed`: and agreed to use it."""
    safe = info.is_local and not info.programs
    if safe:
        return GuardDecision(True, False, f"using {info.describe()}", info.name)
    if info.is_local:
        concern = (
            f"context {info.name!r} is on this machine, but to log in it runs {', '.join(info.programs)}; "
            "a cluster on this machine needs no such program"
        )
    else:
        concern = f"context {info.name!r} points at {info.server}, which is not a cluster on this machine: "
        concern += info.locality.why
        if info.programs:
            concern += f"; to log in it runs {', '.join(info.programs)}"
    if not explicit:
        return GuardDecision(
            False,
            False,
            f"k8s-tutor only acts on clusters on this machine; {concern}. Switch to a local one "
            f"(kubectl config use-context minikube), or run with --context {info.name} to be asked "
            "whether to use it anyway.",
            info.name,
        )
    if not confirmed:
        return GuardDecision(
            False,
            True,
            f"{concern[0].upper()}{concern[1:]}. The lesson will create and delete objects there.",
            info.name,
        )
    return GuardDecision(True, False, f"using {info.describe()} (you confirmed it)", info.name)
