"""The one way to the lesson's cluster: open the connection, ask the learner what the guard
asks about, refuse the rest in the guard's own words.

A lesson session, `check`, `reset --cluster` and `doctor` all come through here, so a
context the guard refuses is refused the same way everywhere, and a non-local context is
used only after the learner typed its name (`Setup.confirm`, see `asking.confirm_cluster`).
"""

from __future__ import annotations

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import Source
from tutor.session.setup import SessionRefused, Setup


def open_guarded(setup: Setup, context: str | None) -> ClusterConnection:
    """The connection to `context`, confirmed if the guard asked and the learner agreed;
    it may still be refused (`refusal` says why). The caller closes it."""
    connection = ClusterConnection(Source.resolve(setup.kubeconfig, context), explicit=bool(setup.context), pin=True)
    status = connection.open()
    decision = connection.decision
    asked = status.state == "refused" and decision is not None and decision.needs_confirmation
    if asked and decision is not None and setup.confirm is not None and setup.confirm(decision):
        connection.confirm()
    return connection


def refusal(connection: ClusterConnection) -> str | None:
    """Why the guard does not let the tutor act on this connection's cluster; None: it does."""
    decision = connection.decision
    if connection.status.state == "refused" and decision is not None:
        return decision.refusal()
    return None


def open_connection(setup: Setup, context: str | None) -> ClusterConnection:
    """The connection to the session's cluster, once the guard (and the learner) allowed it;
    SessionRefused otherwise."""
    connection = open_guarded(setup, context)
    why = refusal(connection)
    if why is not None:
        connection.close()
        raise SessionRefused(why)
    return connection
