"""One cluster, reached through a kubeconfig context: the API client, the guard, the status.

The connection owns the `ApiClient` every watch shares. It is built from the kubeconfig
as kubectl reads it (`kubeconfig.load`), only after the context guard allowed it, and
rebuilt when the kubeconfig changes under it: `minikube start` may move the API server
to another port and rewrite the file, and a cluster that did not exist yet ("no cluster
yet: run the first step") appears the same way. So whenever a request fails to connect,
or while there is no usable context, the kubeconfig is read again (at most once a second).

Status (`ConnectionStatus`) goes connecting -> connected -> reconnecting (since the first
failure) -> unreachable (after UNREACHABLE_AFTER seconds of failures) -> connected; or
no_cluster / refused while the kubeconfig gives nothing the tutor may use; or rejected
while the server answers but not as a Kubernetes API server that accepts the kubeconfig's
credentials would (401, 403 to everything, an HTML page, garbage). Listeners are called on
every change, from the thread that reported it.

The connection stays on one context. A context named by the learner (or the lesson's
profile) is the only one it ever reads; with none named, the current context it first
finds usable becomes the one, so that `kubectl config use-context` in another terminal
does not move it. Each time it reads the kubeconfig again, the guard decides again: a
local context whose server moved (minikube restarted on another port) is followed, a
context repointed to a server off this machine is refused, and a non-local context the
learner confirmed stays confirmed only for the server they confirmed.

With `pin=True` it keeps the session kubeconfig (`pin.SessionKubeconfig`) in step with
what it decided, for the commands the session runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tutor.cluster import kubeconfig, objects
from tutor.cluster.api_kinds import list_call
from tutor.cluster.guard import GuardDecision, decide
from tutor.cluster.kubeconfig import ContextInfo, KubeconfigProblem, Loaded, Source
from tutor.cluster.objects import Obj
from tutor.cluster.pin import SessionKubeconfig
from tutor.cluster.status import ConnectionStatus, State

UNREACHABLE_AFTER = 5.0
"""Seconds of failed requests before "reconnecting" becomes "unreachable"."""
RELOAD_EVERY = 1.0
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
POOL_SIZE = 32
"""Connections kept per host: one per open watch plus a few for lists; urllib3 drops
(rather than blocks on) connections beyond it, so it only needs to cover the usual case."""

StatusListener = Callable[[ConnectionStatus], None]


class ClusterConnection:
    def __init__(
        self,
        source: Source,
        *,
        explicit: bool | None = None,
        on_status: StatusListener | None = None,
        pin: bool = False,
    ) -> None:
        self.source = source
        self.explicit = source.context is not None if explicit is None else explicit
        self._confirmed_server: str | None = None
        self.pin: SessionKubeconfig | None = SessionKubeconfig() if pin else None
        """The session kubeconfig the session's commands use (KUBECONFIG)."""
        self._lock = threading.RLock()
        self._listeners: list[StatusListener] = [on_status] if on_status else []
        self._loaded: Loaded | None = None
        self._fingerprint: str | None = None
        self._client: Any = None
        self._retired: list[Any] = []
        self._decision: GuardDecision | None = None
        self._status = ConnectionStatus("connecting", time.time())
        self._failing_since: float | None = None
        self._answered = False
        """A request on the current client succeeded: a later 403 is about one kind, not the cluster."""
        self._last_reload = 0.0
        self._closed = False

    # --- what the session reads ----------------------------------------------------------

    @property
    def status(self) -> ConnectionStatus:
        with self._lock:
            return self._status

    @property
    def info(self) -> ContextInfo | None:
        with self._lock:
            return self._loaded.info if self._loaded else None

    @property
    def decision(self) -> GuardDecision | None:
        with self._lock:
            return self._decision

    def add_listener(self, listener: StatusListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def open(self) -> ConnectionStatus:
        """Read the kubeconfig, ask the guard, build the client (no request is sent yet)."""
        with self._lock:
            self._reload(force=True)
            return self._status

    def confirm(self) -> ConnectionStatus:
        """The learner agreed to use the non-local context they named, at the server it has now."""
        with self._lock:
            if self._loaded is not None:
                self._confirmed_server = self._loaded.info.server
            return self.open()

    def refresh(self) -> ConnectionStatus:
        """Read the kubeconfig again now (before a command runs: it may have just created the context)."""
        with self._lock:
            self._reload(force=True)
            return self._status

    # --- what the watches use -----------------------------------------------------------

    def client(self) -> Any | None:
        """The current ApiClient, or None while there is no cluster the tutor may use.

        Re-reads the kubeconfig first when there is none, so that a cluster started after
        the tutor (or a context switched to a local one) is picked up.
        """
        with self._lock:
            if self._closed:
                return None
            if self._client is None:
                self._reload()
            return self._client

    def report_success(self) -> None:
        with self._lock:
            self._failing_since = None
            self._answered = True
            if self._status.state != "connected":
                self._set("connected")

    def report_alive(self) -> None:
        """The server answers the liveness request: over a failure, but proof of nothing more."""
        with self._lock:
            if self._status.state in ("reconnecting", "unreachable"):
                self._failing_since = None
                self._set("connected" if self._answered else "connecting")

    def report_forbidden(self, error: str) -> None:
        """403: a cluster that refuses the tutor, unless something else was allowed before."""
        with self._lock:
            if not self._answered:
                self.report_rejected(error)

    def report_rejected(self, error: str) -> None:
        """The server answered, but not as an API server that accepts these credentials would."""
        with self._lock:
            if self._closed or self._client is None:
                return
            if self._status.state != "rejected" or self._status.last_error != error:
                self._set("rejected", message=error, last_error=error)

    def report_failure(self, error: str, *, connectivity: bool = True) -> None:
        """A request failed. `connectivity`: it did not reach the API (refused, dropped,
        timed out), so the kubeconfig is read again in case the server moved."""
        with self._lock:
            if self._closed:
                return
            now = time.time()
            if connectivity:
                self._reload()
            if self._client is None:
                return
            if self._failing_since is None:
                self._failing_since = now
            state: State = "unreachable" if now - self._failing_since >= UNREACHABLE_AFTER else "reconnecting"
            if state != self._status.state or error != self._status.last_error:
                since = self._failing_since if state == "reconnecting" else self._failing_since + UNREACHABLE_AFTER
                if state == self._status.state:
                    since = self._status.since
                self._set(state, last_error=error, since=since)

    def node_ip(self, node_name: str | None = None) -> str | None:
        """The InternalIP of node `node_name` (else of the first node): `{node_ip}` in lessons.

        One list request; None when the cluster cannot say (no node, unreachable).
        """
        api_client = self.client()
        if api_client is None:
            return None
        from kubernetes import client

        try:
            response: Any = client.CoreV1Api(api_client).list_node(
                _preload_content=False, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
            items = json.loads(response.data).get("items") or []
        except Exception:  # any failure means "unknown", which the caller shows
            return None
        chosen = [node for node in items if objects.name(node) == node_name] or items
        for node in chosen:
            address = objects.node_internal_ip(node)
            if address:
                return address
        return None

    def read_now(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """`kind/name` as the server has it now (a list by name: one request, any kind);
        None when it is not there or the server cannot say (`ClusterView.read_now`)."""
        api_client = self.client()
        if api_client is None:
            return None
        try:
            func, args = list_call(api_client, kind, namespace)
            response: Any = func(
                *args,
                field_selector=f"metadata.name={name}",
                _preload_content=False,
                _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
            items = json.loads(response.data).get("items") or []
        except Exception:  # any failure means "cannot say", which the caller treats as not there
            return None
        found = [item for item in items if isinstance(item, dict) and objects.name(item) == name]
        return found[0] if found else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            clients = [self._client, *self._retired]
            self._client = None
            self._retired = []
            if self.pin is not None:
                self.pin.close()
        for item in clients:
            if item is not None:
                item.close()

    # --- inside -----------------------------------------------------------------------------

    def _set(
        self, state: State, *, message: str = "", last_error: str | None = None, since: float | None = None
    ) -> None:
        info = self._loaded.info if self._loaded else None
        self._status = ConnectionStatus(
            state,
            since if since is not None else time.time(),
            message,
            last_error,
            server=info.server if info else None,
            context=info.name if info else None,
        )
        status = self._status
        for listener in list(self._listeners):
            listener(status)

    def _reload(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._closed or (not force and now - self._last_reload < RELOAD_EVERY):
            return
        self._last_reload = now
        try:
            loaded = kubeconfig.load(self.source)
        except KubeconfigProblem as err:
            self._loaded = None
            self._unpin()
            self._replace_client(None, None)
            if self._status.state != "no_cluster" or self._status.message != str(err):
                self._set("no_cluster", message=str(err))
            return
        self._loaded = loaded
        confirmed = self._confirmed_server is not None and self._confirmed_server == loaded.info.server
        decision = decide(loaded.info, explicit=self.explicit, confirmed=confirmed)
        self._decision = decision
        if not decision.allowed:
            self._unpin()
            self._replace_client(None, None)
            if self._status.state != "refused" or self._status.message != decision.message:
                self._set("refused", message=decision.message)
            return
        if self.source.context is None:
            # From now on this context, whatever the current context becomes.
            self.source = self.source.with_context(loaded.info.name)
        if self.pin is not None:
            self.pin.write(loaded, loaded.info.locality.pin)
        fingerprint = _fingerprint(loaded)
        if fingerprint == self._fingerprint and self._client is not None:
            return
        try:
            built = _build_client(loaded)
        except Exception as err:  # the loader raises many kinds; all mean "cannot use it"
            self._unpin()
            self._replace_client(None, None)
            self._set("no_cluster", message=f"cannot use context {loaded.info.name!r}: {_first_line(err)}")
            return
        self._replace_client(built, fingerprint)
        self._failing_since = None
        self._set("connecting")

    def _unpin(self) -> None:
        if self.pin is not None:
            self.pin.clear()

    def _replace_client(self, new: Any, fingerprint: str | None) -> None:
        if self._client is not None:
            # Watches may still hold the old client mid-request: close it with the connection.
            self._retired.append(self._client)
        self._client = new
        self._fingerprint = fingerprint
        self._answered = False


def _fingerprint(loaded: Loaded) -> str:
    """What identifies the endpoint and credentials of the chosen context."""
    return json.dumps(loaded.entries(), sort_keys=True, default=str)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def _build_client(loaded: Loaded) -> Any:
    from kubernetes import client, config

    from tutor.cluster import inflight
    from tutor.cluster.pin import pinned_cluster

    configuration = client.Configuration()
    entries = loaded.config
    pin = loaded.info.locality.pin
    if pin is not None:
        # Connect to the address the guard decided on, not to whatever the name resolves to.
        _, cluster, _ = loaded.entries()
        pinned = {**cluster, "cluster": pinned_cluster(dict(cluster["cluster"]), pin)}
        entries = {
            **loaded.config,
            "clusters": [pinned if item is cluster else item for item in loaded.config["clusters"]],
        }
    config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
        entries,
        context=loaded.info.name,
        client_configuration=configuration,
        persist_config=False,
    )
    _, _, user = loaded.entries()
    credentials = (user or {}).get("user")
    if not isinstance(credentials, dict) or not {"exec", "auth-provider"} & credentials.keys():
        # A fixed token (the sandbox's, a service account's) never changes, yet the client
        # re-applies the whole kubeconfig before every request to "refresh" it: a tenth of a
        # millisecond per request for nothing. Tokens that expire (exec, auth-provider) keep it.
        configuration.refresh_api_key_hook = None
    configuration.connection_pool_maxsize = POOL_SIZE
    # The watches retry with their own backoff; urllib3's silent retries would only hide failures.
    configuration.retries = False
    if loaded.info.is_local and not loaded.info.proxy:
        # A proxy must not carry requests for this machine elsewhere (kubectl, in Go, never
        # proxies loopback either).
        configuration.proxy = None
    api_client = client.ApiClient(configuration)
    inflight.track(api_client.rest_client.pool_manager)
    return api_client
