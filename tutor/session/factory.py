"""Build a LessonSession for a lesson and a cluster: the wiring of the layers.

The CLI decides where the cluster is (a kubeconfig and context, or the sandbox it
started) and which view runs; this module connects the cluster layer, the run layer
and the progress store behind the session's two protocols.
"""

from __future__ import annotations

import shlex

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import ContextInfo, Source
from tutor.lesson.model import Lesson
from tutor.progress import ProgressStore
from tutor.run import ShExecutor
from tutor.session.check_context import SessionContext
from tutor.session.cluster_checks import ClusterChecks
from tutor.session.events import ShellSetup
from tutor.session.process_runner import ProcessRunner
from tutor.session.session import LessonSession
from tutor.session.setup import SessionRefused, Setup, target_context

__all__ = ["SessionRefused", "Setup", "build_session", "target_context"]


def build_session(lesson: Lesson, setup: Setup) -> LessonSession:
    variables = setup.variables(lesson)
    profile = variables["profile"]

    context_name = target_context(lesson, setup.context, profile)
    source = Source.resolve(setup.kubeconfig, context_name)
    connection = ClusterConnection(source, explicit=bool(setup.context))
    status = connection.open()
    decision = connection.decision
    if status.state == "refused" and decision is not None:
        if decision.needs_confirmation and setup.confirm is not None and setup.confirm(decision.message):
            connection.confirm()
        else:
            connection.close()
            raise SessionRefused(decision.message)

    executor = ShExecutor(env=setup.env)
    runner = ProcessRunner(executor, terminal=setup.terminal)
    context = SessionContext(runner, executor)
    checks = ClusterChecks(connection, context, profile=profile)
    info = connection.info
    cluster = info.name if info is not None else (context_name or "current-context")
    if setup.sandbox or (info is not None and info.is_sandbox):
        cluster = f"sandbox-{cluster}"
    store = ProgressStore() if setup.save_progress else None
    session = LessonSession(
        lesson,
        variables=variables,
        checks=checks,
        runner=runner,
        cluster=cluster,
        sandbox=setup.sandbox or (info is not None and info.is_sandbox),
        store=store,
        shell=shell_setup(setup, info, context_name),
    )
    context.session = session
    session.on_processes_changed = checks.engine.refresh
    return session


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
