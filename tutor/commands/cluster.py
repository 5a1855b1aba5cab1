"""The lesson's cluster, reached by a command as a lesson session reaches it.

`check` and `reset --cluster` act on the cluster a session of the same lesson would use:
the context named (`--context`), else the lesson's minikube profile, else the current one;
through the same guard, whose question is asked on a terminal (`session.asking`) and
refused everywhere else (`session.guarded`); with the same variables (`Setup.variables`).
A refusal ends the command as bad usage: it cannot run as asked.
"""

from __future__ import annotations

from tutor.cluster.connection import ClusterConnection
from tutor.commands.exit_codes import UsageError
from tutor.lesson.model import Lesson
from tutor.session.guarded import open_connection
from tutor.session.setup import SessionRefused, Setup, target_context


def connect(lesson: Lesson, setup: Setup) -> tuple[ClusterConnection, dict[str, str]]:
    """The connection (the caller closes it), and the lesson's variables on that cluster."""
    context = target_context(lesson, setup.context, setup.variables(lesson)["profile"])
    try:
        connection = open_connection(setup, context)
    except SessionRefused as err:
        raise UsageError(str(err)) from None
    info = connection.info
    return connection, setup.variables(lesson, info.variables if info is not None else None)
