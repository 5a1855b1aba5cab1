"""What a view and the CLI give the session: where the cluster is, and how to reach the learner.

Kept apart from `factory`, which wires the cluster and run layers (and so loads the
kubernetes client and `sh`): the CLI and the TUI build a `Setup` and the session
(`new_session`) at start-up, when neither may be loaded yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.lesson import variables as typed
from tutor.lesson.model import Lesson
from tutor.lesson.place import Place
from tutor.progress import ProgressStore
from tutor.session.session import LessonSession

if TYPE_CHECKING:
    from tutor.cluster.guard import GuardDecision

TerminalLender = Callable[[], AbstractContextManager[object]]
"""Gives a command the learner's terminal for the duration of the `with`."""


class SessionRefused(Exception):
    """The tutor may not act on the chosen cluster; the message says how to proceed."""


@dataclass
class Setup:
    kubeconfig: Path | None = None
    context: str | None = None
    """Named by the learner (--context): the guard then lets them confirm a non-local one."""
    profile: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    """--set NAME=VALUE."""
    env: Mapping[str, str] | None = None
    """The environment commands run in (a sandbox started by this run: its stand-ins on PATH).
    Whatever it says of KUBECONFIG, commands act on the session's cluster (`targeting`)."""
    cluster_variables: Mapping[str, str] = field(default_factory=dict)
    """Lesson-variable overrides from a simulated cluster (e.g. ingress_port)."""
    shell_env: Path | None = None
    """A script that points a learner's own shell at the cluster (the sandbox's env.sh)."""
    sandbox: bool = False
    save_progress: bool = True
    terminal: TerminalLender | None = None
    confirm: Callable[[GuardDecision], bool] | None = None
    """Asks the learner to confirm acting on a non-local context they named; its answer
    must default to no. None (no terminal): such a context is refused."""
    trust_given: bool = False
    """--trust: a lesson from elsewhere runs its commands in this run, without asking or a record."""
    ask_trust: Callable[[str], bool] | None = None
    """Shows what an untrusted lesson runs and reaches (the text given) and asks whether to
    trust it; the answer is remembered. None: nobody to ask, so it runs nothing."""

    def variables(self, lesson: Lesson, cluster: Mapping[str, str] | None = None) -> dict[str, str]:
        """The lesson's variables on this cluster, in the one precedence every command and view
        uses: the lesson's defaults, then --profile, then the simulated cluster's own values,
        then --set (so `--set profile=X` wins over `--profile Y`).

        The simulated cluster's values are `cluster_variables` (a sandbox this run started)
        over `cluster` (what the kubeconfig of one started elsewhere names). They are data
        from outside: only variables the lesson declares itself, and only values of the
        declared type, are taken; the lesson's default stands for the rest.
        """
        values: dict[str, str] = {}
        if self.profile:
            values["profile"] = self.profile
        for name, value in {**(cluster or {}), **self.cluster_variables}.items():
            if name in lesson.variables and not typed.problem(lesson.type_of(name), value):
                values[name] = value
        values.update(self.overrides)
        return lesson.defaults(**values)


def target_context(lesson: Lesson, named: str | None, profile: str) -> str | None:
    """The context to watch: the one named, else the lesson's minikube profile, else the current one.

    A minikube lesson watches the profile's own context even before it exists (the first
    step creates it), so a learner whose current context is some other cluster never has
    the tutor act there by accident.
    """
    if named:
        return named
    if "minikube" in lesson.requires:
        return profile
    return None


def new_session(lesson: Lesson, setup: Setup, step: str | None = None) -> LessonSession:
    """The lesson's session before its cluster is reached (`factory.attach_cluster` reaches it).

    It shows the progress saved for the context it will watch, when that is known before
    the kubeconfig is read (a minikube lesson's profile, `--context`): where the learner
    most likely resumes. `step`: replay from this step.
    """
    lesson = lesson.for_place(Place.here(sandbox=setup.sandbox))  # unchanged when the CLI chose already
    variables = setup.variables(lesson)
    store = ProgressStore() if setup.save_progress else None
    cluster = target_context(lesson, setup.context, variables["profile"])
    if cluster is not None and setup.sandbox:
        cluster = f"sandbox-{cluster}"  # as `factory` names a sandbox started for this run
    return LessonSession(lesson, variables=variables, cluster=cluster, store=store, sandbox=setup.sandbox, step=step)
