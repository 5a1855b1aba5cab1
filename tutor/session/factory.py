"""Build a LessonSession for a lesson and a cluster: the wiring of the layers.

The CLI decides where the cluster is (a kubeconfig and context, or the sandbox it
started) and which view runs; this module connects the cluster layer, the run layer
and the progress store behind the session's two protocols. Every command the session
runs goes through one policy (`targeting.ClusterCommands`) that keeps it on the
cluster the connection watches.
"""

from __future__ import annotations

import shlex

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import ContextInfo, Source
from tutor.cluster.status import ConnectionStatus
from tutor.lesson.model import Lesson
from tutor.lesson.place import Place
from tutor.progress import ProgressStore
from tutor.run import ShExecutor
from tutor.session.check_context import SessionContext
from tutor.session.cluster_checks import ClusterChecks
from tutor.session.events import ShellSetup
from tutor.session.process_runner import ProcessRunner
from tutor.session.session import LessonSession
from tutor.session.setup import SessionRefused, Setup, target_context
from tutor.session.targeting import ClusterCommands
from tutor.trust import TrustStore, decide_trust, explain

__all__ = ["SessionRefused", "Setup", "build_session", "open_connection", "target_context"]


def open_connection(setup: Setup, context: str | None) -> ClusterConnection:
    """The connection to the session's cluster, once the guard (and the learner) allowed it."""
    source = Source.resolve(setup.kubeconfig, context)
    connection = ClusterConnection(source, explicit=bool(setup.context), pin=True)
    status = connection.open()
    decision = connection.decision
    if status.state == "refused" and decision is not None:
        if decision.needs_confirmation and setup.confirm is not None and setup.confirm(decision):
            connection.confirm()
        else:
            connection.close()
            raise SessionRefused(decision.refusal())
    return connection


def build_session(lesson: Lesson, setup: Setup) -> LessonSession:
    lesson = lesson.for_place(Place.here(sandbox=setup.sandbox))  # unchanged when the CLI chose already
    variables = setup.variables(lesson)
    profile = variables["profile"]
    trusted, trust_note = _trust(lesson, setup)

    context_name = target_context(lesson, setup.context, profile)
    connection = open_connection(setup, context_name)
    executor = ShExecutor(env=setup.env, policy=ClusterCommands(connection, profile=profile))
    runner = ProcessRunner(executor, terminal=setup.terminal)
    context = SessionContext(runner, executor)
    checks = ClusterChecks(connection, context, profile=profile, untrusted=None if trusted else trust_note)
    info = connection.info
    sandbox = setup.sandbox or (info is not None and info.is_sandbox)
    if info is not None:
        cluster = f"sandbox-{info.name}" if setup.sandbox and not info.is_sandbox else info.identity
    else:
        name = context_name or "current-context"
        cluster = f"sandbox-{name}" if setup.sandbox else name
    store = ProgressStore() if setup.save_progress else None
    session = LessonSession(
        lesson,
        variables=variables,
        checks=checks,
        runner=runner,
        cluster=cluster,
        sandbox=sandbox,
        store=store,
        untrusted=None if trusted else trust_note,
        notices=(trust_note,) if trusted and trust_note else (),
        provisional=info is None,
        shell=shell_setup(setup, info, context_name),
    )
    context.session = session
    session.on_processes_changed = checks.engine.refresh
    if info is None:

        def identify(status: ConnectionStatus) -> None:
            found = connection.info
            if found is not None and status.state not in ("no_cluster", "refused"):
                session.adopt_identity(f"sandbox-{found.name}" if setup.sandbox else found.identity)

        connection.add_listener(identify)
    return session


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
