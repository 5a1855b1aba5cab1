"""Build a LessonSession for a lesson and a cluster: the wiring of the layers.

The CLI decides where the cluster is (a kubeconfig and context, or the sandbox it
started) and which view runs; the view builds the session at once (`new_session`) and
this module attaches the cluster layer and the run layer behind the session's two
protocols (`attach_cluster`), on a worker thread in the TUI. Every command the session
runs goes through one policy (`targeting.ClusterCommands`) that keeps it on the
cluster the connection watches.
"""

from __future__ import annotations

import shlex

from tutor.cluster.kubeconfig import ContextInfo
from tutor.cluster.status import ConnectionStatus
from tutor.lesson.model import Lesson
from tutor.run import ShExecutor
from tutor.session.check_context import SessionContext
from tutor.session.cluster_checks import ClusterChecks
from tutor.session.events import ShellSetup
from tutor.session.guarded import open_connection
from tutor.session.process_runner import ProcessRunner
from tutor.session.session import LessonSession
from tutor.session.setup import SessionRefused, Setup, new_session, target_context
from tutor.session.targeting import ClusterCommands
from tutor.trust import TrustStore, decide_trust, explain

__all__ = [
    "SessionRefused",
    "Setup",
    "attach_cluster",
    "build_session",
    "new_session",
    "open_connection",
    "target_context",
]


def attach_cluster(session: LessonSession, setup: Setup) -> None:
    """Reach the session's cluster and attach it: the trust in the lesson (asked of the learner
    when needed), the connection (once the guard, and the learner, allowed it), the command
    runner and the checks. Raises SessionRefused. Loads the kubernetes client and `sh`."""
    lesson = session.lesson
    profile = session.variables["profile"]
    trusted, trust_note = _trust(lesson, setup)
    untrusted = None if trusted else trust_note
    context_name = target_context(lesson, setup.context, profile)
    connection = open_connection(setup, context_name)
    info = connection.info
    # A simulated cluster's kubeconfig names variables of its own (its ingress port).
    variables = setup.variables(lesson, info.variables if info is not None else None)
    executor = ShExecutor(env=setup.env, policy=ClusterCommands(connection, profile=profile))
    checks = ClusterChecks(connection, SessionContext(session, executor), profile=profile, untrusted=untrusted)
    session.attach(
        checks,
        ProcessRunner(executor, terminal=setup.terminal),
        variables=variables,
        cluster=None if info is None else _identity(info, setup),
        sandbox=setup.sandbox or (info is not None and info.is_sandbox),
        untrusted=untrusted,
        notices=(trust_note,) if trusted and trust_note else (),
        shell=shell_setup(setup, info, context_name),
    )
    if info is None:

        def identify(status: ConnectionStatus) -> None:
            found = connection.info
            if found is not None and status.state not in ("no_cluster", "refused"):
                session.adopt_identity(_identity(found, setup))

        connection.add_listener(identify)


def build_session(lesson: Lesson, setup: Setup, step: str | None = None) -> LessonSession:
    """A session with its cluster attached, in one go (plain mode, tests, benchmarks)."""
    session = new_session(lesson, setup, step)
    attach_cluster(session, setup)
    return session


def _identity(info: ContextInfo, setup: Setup) -> str:
    """The name progress is kept under; a sandbox started for this run never shares a real cluster's."""
    return f"sandbox-{info.name}" if setup.sandbox and not info.is_sandbox else info.identity


def _trust(lesson: Lesson, setup: Setup) -> tuple[bool, str]:
    """Whether the lesson may run commands, and what to tell the learner about it (or "")."""
    decision = decide_trust(lesson, given=setup.trust_given)
    if decision.trusted:
        return True, ""
    if setup.ask_trust is None or not setup.ask_trust(explain(lesson)):
        return False, decision.why
    try:
        TrustStore().trust(lesson)
    except OSError as err:
        return True, f"Trusted {lesson.id} for this run; the trust could not be remembered ({err})."
    return True, ""


def shell_setup(setup: Setup, info: ContextInfo | None, context_name: str | None) -> ShellSetup | None:
    """What a learner types in a terminal of their own to reach the lesson's cluster."""
    if setup.shell_env is not None:
        return ShellSetup(
            f"source {shlex.quote(str(setup.shell_env))}",
            "points kubectl and minikube in that shell at this simulated cluster, for as long as the tutor runs",
        )
    if setup.sandbox or (info is not None and info.is_sandbox):
        # A simulated cluster is reached through its own script (above), never a context alone:
        # its minikube is a stand-in on the sandbox's PATH.
        return None
    context = info.name if info is not None else context_name
    if not context:
        return None
    line = f"kubectl config use-context {shlex.quote(context)}"
    if setup.kubeconfig is not None:
        line = f"export KUBECONFIG={shlex.quote(str(setup.kubeconfig.resolve()))}; {line}"
    return ShellSetup(line, f"the lesson's commands go to the context {context}; this makes it that shell's too")
