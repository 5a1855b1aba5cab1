"""The Kubernetes-compatible HTTP API, on aiohttp, over the store.

One catch-all route parses Kubernetes paths itself (``/api/v1/namespaces/x/pods/y/status``,
``/apis/apps/v1/deployments``...) because the set of resources changes at run time
(custom resources). Plain HTTP on 127.0.0.1, answering only the sandbox's own clients
(:mod:`tutor.sandbox.access`: its Host, no browser, its bearer token); an authenticated
caller may do everything (no RBAC).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import web

from tutor.sandbox import access, bodies, discovery, errors, openapi, protobuf, refusals, reviews, tables
from tutor.sandbox.errors import ApiError
from tutor.sandbox.identity import Credentials, User
from tutor.sandbox.listener import Listener, listen_socket
from tutor.sandbox.objects import Obj
from tutor.sandbox.patch import apply_patch
from tutor.sandbox.resources import CREATE_ONLY, ResourceType
from tutor.sandbox.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from tutor.sandbox.store import Store, WatchEvent

if TYPE_CHECKING:
    from tutor.sandbox.faults import Faults
    from tutor.sandbox.podlogs import PodLogs
    from tutor.sandbox.requestlog import RequestLog

log = logging.getLogger(__name__)

LOG_TEXT = "k8s-tutor sandbox: this container is simulated and writes no logs\n"

LogProvider = Callable[[Obj, str], str]


@dataclass
class ParsedPath:
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    #: What follows a proxy subresource in the path.
    tail: str = ""


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


def _error(err: ApiError) -> web.Response:
    return _json(err.status(), err.code)


def _accepts_json(accept: str) -> bool:
    """Whether an Accept header allows a JSON answer (kubectl's typed clients list protobuf
    first, then JSON; a client that takes protobuf only cannot be served)."""
    kinds = [part.split(";", 1)[0].strip().lower() for part in accept.split(",") if part.strip()]
    return not kinds or any(not kind.startswith(protobuf.MEDIA_TYPE) for kind in kinds)


def _wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def _ends_session(request: web.Request) -> bool:
    """Whether a refused streaming request ends its client's session: kubectl 1.30 and newer
    try a WebSocket first and, refused, the same request over SPDY, so their session ends
    with that last attempt; older kubectl and other clients make one attempt."""
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    return not (websocket and request.headers.get("User-Agent", "").startswith("kubectl/"))


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


class ApiServer:
    """The HTTP front of one cluster. Runs on the sandbox's event loop."""

    def __init__(
        self,
        store: Store,
        *,
        kubernetes_version: str,
        request_log: RequestLog,
        credentials: Credentials,
        faults: Faults | None = None,
        bookmark_interval: float = 10.0,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.registry = store.registry
        self.kubernetes_version = kubernetes_version
        self.request_log = request_log
        self.faults = faults
        self.bookmark_interval = bookmark_interval
        self.log_provider: LogProvider | None = None
        #: Told (namespace, pod, container) when an attach with stdin is refused: for the
        #: kubelet, a session that ended at once, after which a container with stdinOnce
        #: reads end of file (the sandbox wires it to Kubelet.attach_ended).
        self.on_attach_ended: Callable[[str, str, str], None] | None = None
        #: The pod log subresource's answers (the sandbox sets it; see podlogs.py).
        self.pod_logs: PodLogs | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._listener: Listener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._changed = asyncio.Event()
        self._signal_pending = False
        self._signal_lock = threading.Lock()
        self._watches: set[web.StreamResponse] = set()
        self._closing = False
        self._resumed: asyncio.Event | None = None
        self._unsubscribe = store.subscribe(self._on_store_event)

    # ---- lifecycle ---------------------------------------------------------------

    async def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> int:
        """Listen on 127.0.0.1 (only), over TLS with ``tls``; returns the port."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._changed = asyncio.Event()
        if self._resumed is None:
            self._resumed = asyncio.Event()
            self._resumed.set()
        self._closing = False
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        sock = listen_socket(port)  # OSError when the port is taken: the caller picks another
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        try:
            await runner.setup()
        except BaseException:
            sock.close()
            raise
        assert runner.server is not None
        self._listener = Listener(sock, runner.server, tls=tls)
        self.port = self._listener.port
        self._runner = runner
        return self.port

    async def stop(self) -> None:
        """Stop listening and close every connection, watches included."""
        self._closing = True
        self._wake()
        for resp in list(self._watches):
            transport = resp._req.transport if resp._req is not None else None
            if transport is not None:
                transport.abort()
        self._watches.clear()
        if self._resumed is not None:
            self._resumed.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            listener, self._listener = self._listener, None
            if listener is not None:
                await listener.close(runner.cleanup)
            else:
                await runner.cleanup()

    def close(self) -> None:
        self._unsubscribe()

    @property
    def listening(self) -> bool:
        return self._runner is not None

    def drop_watches(self) -> int:
        """Abort every open watch connection, as a network failure would. Loop thread only."""
        dropped = 0
        for resp in list(self._watches):
            transport = resp._req.transport if resp._req is not None else None
            if transport is not None:
                transport.abort()
                dropped += 1
        self._watches.clear()
        self._wake()
        return dropped

    def pause(self) -> None:
        if self._resumed is not None:
            self._resumed.clear()

    def resume(self) -> None:
        if self._resumed is not None:
            self._resumed.set()

    # ---- change notification -----------------------------------------------------

    def _on_store_event(self, _event: WatchEvent) -> None:
        if self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake()
            return
        with self._signal_lock:
            if self._signal_pending:
                return
            self._signal_pending = True
        # A closed loop raises RuntimeError: then nobody is watching any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        with self._signal_lock:
            self._signal_pending = False
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # ---- middleware --------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        is_watch = _flag(request.query.get("watch")) or "/watch/" in request.path
        record = self.request_log.record(request.method, request.path, request.query_string, is_watch)
        refused = self._refusal(request)
        if refused is not None:
            record.status = refused.code
            return _error(refused)
        if self._resumed is not None and not self._resumed.is_set():
            await self._resumed.wait()
        if self.faults is not None:
            injected = self.faults.match_request(request.method, request.path)
            if injected is not None:
                record.status = injected.code
                return _error(injected)
        try:
            response = await handler(request)
        except ApiError as err:
            response = _error(err)
        except web.HTTPException:
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug in the sandbox must not look like a hung cluster
            log.exception("sandbox API failed on %s %s", request.method, request.path)
            response = _error(ApiError(500, "InternalError", f"Internal error occurred: {exc!r}"))
        record.status = response.status
        return response

    def _refusal(self, request: web.Request) -> ApiError | None:
        """Why the request is refused (a stranger's, a web page's, no credential), or None."""
        refused = access.refusal(request.headers, self.port)
        if refused is not None:
            return ApiError(refused.status, refused.reason, refused.message)
        if self.user(request) is None:
            return ApiError(401, "Unauthorized", "Unauthorized")
        return None

    def user(self, request: web.Request) -> User | None:
        """Who made the request, by its bearer token; None: nobody the sandbox knows."""
        return self.credentials.authenticate(access.bearer_token(request.headers), self._account_uid)

    def _account_uid(self, namespace: str, name: str) -> str | None:
        account = self.store.peek("serviceaccounts", namespace, name)
        return None if account is None else str(account["metadata"].get("uid", ""))

    # ---- routing -------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            return web.Response(text="ok")
        if path == "/version":
            return _json(discovery.version_info(self.kubernetes_version))
        if path.startswith("/openapi/"):
            return self._openapi(request, path)
        if path in ("/metrics", "/logs") or path.startswith(("/debug/", "/logs/", "/metrics/")):
            raise refusals.refusal("internals", path, path)
        if path == "/api":
            return _json(discovery.api_versions(f"127.0.0.1:{self.port}"))
        if path == "/apis":
            return _json(discovery.api_group_list(self.registry))
        parts = [p for p in path.split("/") if p]
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 2:
            if len(parts) == 2:
                doc = discovery.api_group(self.registry, parts[1])
                if doc is None:
                    raise errors.page_not_found()
                return _json(doc)
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise errors.page_not_found()
        if not rest:
            doc = discovery.resource_list(self.registry, group, version)
            if doc is None:
                raise errors.page_not_found()
            return _json(doc)
        if not _accepts_json(request.headers.get("Accept", "")):
            raise ApiError(
                406,
                "NotAcceptable",
                "the k8s-tutor sandbox answers in JSON only: accept application/json "
                f"(asked for {request.headers.get('Accept')})",
            )
        watch_prefix = rest[0] == "watch"
        if watch_prefix:
            rest = rest[1:]
        parsed = self._parse(group, version, rest)
        return await self._serve(request, parsed, watch_prefix)

    def _openapi(self, request: web.Request, path: str) -> web.Response:
        if path == "/openapi/v2":
            if openapi.V2_PROTOBUF in request.headers.get("Accept", ""):
                # kubectl reads only this form; Go's mime parser refuses the '@' of its name.
                return web.Response(body=openapi.v2_protobuf(self.registry), content_type="application/octet-stream")
            return web.Response(body=openapi.v2_json(self.registry), content_type="application/json")
        if path == "/openapi/v3":
            return _json(openapi.v3_root(self.registry))
        where = path.removeprefix("/openapi/v3/").split("/")
        body = None
        if where[0] == "api" and len(where) == 2:
            body = openapi.v3_document(self.registry, "", where[1])
        elif where[0] == "apis" and len(where) == 3:
            body = openapi.v3_document(self.registry, where[1], where[2])
        if body is None:
            raise errors.page_not_found()
        # The URL carries the document's hash: a client may keep it for good.
        headers = {"Cache-Control": "public, immutable", "Expires": "Mon, 01 Jan 2100 00:00:00 GMT"}
        return web.Response(body=body, content_type="application/json", headers=headers)

    def _parse(self, group: str, version: str, rest: list[str]) -> ParsedPath:
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        detail = ""
        if len(rest) > 3 and rest[2] == "proxy":
            # pods/NAME/proxy/any/path: the path is the proxied request's
            rest, detail = rest[:3], "/" + "/".join(rest[3:])
        if not rest or len(rest) > 3:
            raise errors.page_not_found()
        rt = self.registry.by_path(group, version, rest[0])
        if rt is None:
            raise errors.page_not_found()
        if namespace is not None and not rt.namespaced:
            raise errors.page_not_found()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None:
            allowed = (
                (("status",) if rt.has_status else ()) + (("scale",) if rt.has_scale else ()) + rt.extra_subresources
            )
            if sub not in allowed:
                raise errors.page_not_found()
        return ParsedPath(rt, namespace, name, sub, detail)

    async def _serve(self, request: web.Request, p: ParsedPath, watch_prefix: bool) -> web.StreamResponse:
        method = request.method
        rt = p.rt
        if rt.namespaced and p.name is not None and p.namespace is None:
            raise errors.page_not_found()
        dry_run = "All" in request.query.getall("dryRun", [])
        if rt.refusal == "unmodelled":
            raise refusals.refusal(rt.refusal, rt.key, rt.kind)
        if rt.refusal:
            scope = f"{rt.kind} in namespace {p.namespace}" if p.namespace else rt.kind
            raise refusals.refusal(rt.refusal, p.name or rt.plural, scope)
        if p.subresource in refusals.KINDS:
            self._refuse_stream(request, p)
        if rt.verbs == CREATE_ONLY:
            return await self._review(request, p)
        if p.name is None:
            if method == "GET":
                if watch_prefix or _flag(request.query.get("watch")):
                    return await self._watch(request, p)
                return self._list(request, p)
            if method == "POST":
                return await self._create(request, p, dry_run)
            if method == "DELETE":
                return await self._delete_collection(request, p, dry_run)
            raise errors.method_not_allowed(method.lower(), rt.plural, rt.group)
        namespace = p.namespace or ""
        if p.subresource == "scale":
            return await self._scale(request, p, dry_run)
        if p.subresource == "token":
            return await self._token(request, p)
        if p.subresource == "ephemeralcontainers":
            pod = self.store.read(rt.key, namespace, p.name)  # a missing pod is a real 404
            if method == "GET":
                return self._respond(request, rt, pod)
            raise refusals.refusal("debug", p.name)
        if p.subresource == "log":
            pod = self.store.read(rt.key, namespace, p.name)
            if self.log_provider is None and self.pod_logs is not None:
                # What the containers printed, from the kubelet (podlogs.py).
                return await self.pod_logs.serve(request, pod, lambda: self._closing)
            container = request.query.get("container") or (
                ((pod.get("spec") or {}).get("containers") or [{}])[0].get("name", "")
            )
            text = self.log_provider(pod, container) if self.log_provider else LOG_TEXT
            return web.Response(text=text, content_type="text/plain")
        if p.subresource == "eviction":
            self.store.delete(rt.key, namespace, p.name, dry_run=dry_run)
            return _json(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "code": 201,
                },
                201,
            )
        if p.subresource == "binding":
            body = await self._body(request)
            target = (body.get("target") or {}).get("name", "")
            self.store.patch(rt.key, namespace, p.name, {"spec": {"nodeName": target}})
            return _json(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "code": 201,
                },
                201,
            )
        if method == "GET":
            return self._respond(request, rt, self.store.read(rt.key, namespace, p.name))
        if method == "PUT":
            return await self._update(request, p, dry_run)
        if method == "PATCH":
            return await self._patch(request, p, dry_run)
        if method == "DELETE":
            return await self._delete(request, p, dry_run)
        raise errors.method_not_allowed(method.lower(), rt.plural, rt.group)

    # ---- bodies and responses ---------------------------------------------------------

    async def _read(self, request: web.Request) -> bodies.Body:
        return bodies.read(request.headers.get("Content-Type", "application/json"), await request.read())

    async def _body(self, request: web.Request) -> Any:
        return (await self._read(request)).value

    def _respond(
        self, request: web.Request, rt: ResourceType, obj: Obj, status: int = 200, warnings: list[str] | None = None
    ) -> web.Response:
        if _wants_table(request):
            include = request.query.get("includeObject", "Metadata")
            response = _json(
                tables.table(
                    rt.key,
                    [obj],
                    obj["metadata"].get("resourceVersion", ""),
                    now=self.store.clock(),
                    include_object=include,
                    custom=self._custom_columns(rt),
                ),
                status,
            )
        else:
            response = _json(obj, status)
        for warning in warnings or []:
            response.headers.add("Warning", bodies.warning_header(warning))
        return response

    def _custom_columns(self, rt: ResourceType) -> list[tables.Column] | None:
        """A custom resource's printer columns, from its CRD; None for built-in kinds."""
        if not rt.custom:
            return None
        crd = self.store.peek("customresourcedefinitions.apiextensions.k8s.io", "", f"{rt.plural}.{rt.group}")
        return tables.crd_columns(crd or {}, rt.version)

    # ---- verbs ---------------------------------------------------------------------------

    def _selectors(self, request: web.Request, rt: ResourceType) -> tuple[LabelSelector, FieldSelector]:
        labels = parse_label_selector(request.query.get("labelSelector"))
        fields = parse_field_selector(request.query.get("fieldSelector"), rt.key)
        return labels, fields

    def _list(self, request: web.Request, p: ParsedPath) -> web.Response:
        rt = p.rt
        labels, fields = self._selectors(request, rt)
        objs, rv = self.store.list_with_version(rt.key, p.namespace if rt.namespaced else None, labels, fields)
        if _wants_table(request):
            include = request.query.get("includeObject", "Metadata")
            return _json(
                tables.table(
                    rt.key,
                    objs,
                    str(rv),
                    now=self.store.clock(),
                    include_object=include,
                    custom=self._custom_columns(rt),
                )
            )
        return _json(
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(rv)},
                "items": objs,
            }
        )

    def _check_body(self, rt: ResourceType, p: ParsedPath, body: Any, name: str | None) -> Obj:
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if kind and kind != rt.kind:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rt.api_version})"
                if api_version and api_version != rt.api_version
                else f'kind "{kind}" does not match the requested resource "{rt.plural}"'
            )
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and p.namespace and body_ns != p.namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = p.namespace or body_ns or "default"
        if name is not None and meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if name is not None:
            meta["name"] = name
        return body

    async def _create(self, request: web.Request, p: ParsedPath, dry_run: bool) -> web.Response:
        rt = p.rt
        mode = bodies.directive(request.query.get("fieldValidation"), "CreateOptions")
        body = await self._read(request)
        warnings = bodies.checked(rt, body, mode)
        obj = self._check_body(rt, p, body.value, None)
        if (rt.has_status and not rt.custom) or (rt.custom and rt.has_status):
            obj.pop("status", None)
        created = self.store.create(obj, resource=rt.key, dry_run=dry_run)
        return self._respond(request, rt, created, 201, warnings)

    async def _update(self, request: web.Request, p: ParsedPath, dry_run: bool) -> web.Response:
        rt = p.rt
        mode = bodies.directive(request.query.get("fieldValidation"), "UpdateOptions")
        body = await self._read(request)
        warnings = bodies.checked(rt, body, mode)
        obj = self._check_body(rt, p, body.value, p.name)
        if rt.key == "namespaces" and p.subresource == "finalize":
            current = self.store.read(rt.key, "", p.name or "")
            current["spec"] = obj.get("spec") or {}
            current["metadata"].pop("resourceVersion", None)
            # Namespace spec.finalizers is only writable through /finalize.
            updated = self.store.update(current, resource=rt.key, dry_run=dry_run)
            return self._respond(request, rt, updated)
        updated = self.store.update(obj, resource=rt.key, subresource=p.subresource, dry_run=dry_run)
        return self._respond(request, rt, updated, warnings=warnings)

    async def _patch(self, request: web.Request, p: ParsedPath, dry_run: bool) -> web.Response:
        rt = p.rt
        namespace = p.namespace or ""
        name = p.name or ""
        content_type = request.headers.get("Content-Type", "")
        mode = bodies.directive(request.query.get("fieldValidation"), "PatchOptions")
        body = await self._body(request)
        if content_type.startswith("application/apply-patch"):
            return self._apply(request, p, body, dry_run)
        if content_type.startswith("application/json-patch+json"):
            patch_type = "json"
        elif content_type.startswith("application/merge-patch+json"):
            patch_type = "merge"
        elif content_type.startswith("application/strategic-merge-patch+json"):
            if rt.custom:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: "
                    "application/json-patch+json, application/merge-patch+json, "
                    "application/apply-patch+yaml",
                )
            patch_type = "strategic"
        else:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f"application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml, application/strategic-merge-patch+json (got "
                f"{content_type})",
            )
        warnings: list[str] = []

        def check(patched: Obj) -> None:
            # What the patch makes, checked as the server decodes it, before anything is stored.
            warnings.extend(bodies.checked_patch(rt, body, patch_type, patched, mode))

        patched = self.store.patch(
            rt.key,
            namespace,
            name,
            body,
            patch_type=patch_type,
            subresource=p.subresource,
            dry_run=dry_run,
            check=check,
        )
        return self._respond(request, rt, patched, warnings=warnings)

    def _apply(self, request: web.Request, p: ParsedPath, body: Any, dry_run: bool) -> web.Response:
        """Server-side apply, approximated: create, or strategic-merge the applied fields."""
        rt = p.rt
        obj = self._check_body(rt, p, body, p.name)
        bodies.checked_apply(rt, obj, p.namespace or "", p.name or "")
        current = self.store.get(rt.key, p.namespace or "", p.name or "")
        if current is None:
            if p.subresource:
                raise errors.not_found(rt.plural, rt.group, p.name or "")
            obj.pop("status", None) if rt.has_status else None
            created = self.store.create(obj, resource=rt.key, dry_run=dry_run)
            return self._respond(request, rt, created, 201)
        obj["metadata"].pop("resourceVersion", None)
        patched = self.store.patch(
            rt.key,
            p.namespace or "",
            p.name or "",
            obj,
            patch_type="merge" if rt.custom else "strategic",
            subresource=p.subresource,
            dry_run=dry_run,
        )
        return self._respond(request, rt, patched)

    async def _delete_options(self, request: web.Request) -> Obj:
        options: Obj = {}
        if request.can_read_body:
            raw = await request.read()
            content_type = request.headers.get("Content-Type", "application/json")
            if raw.strip():
                parsed = bodies.read(content_type, raw).value
                if isinstance(parsed, dict):
                    options = parsed
        query = request.query
        if "propagationPolicy" in query:
            options["propagationPolicy"] = query["propagationPolicy"]
        if "gracePeriodSeconds" in query:
            options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
        if "orphanDependents" in query and _flag(query["orphanDependents"]):
            options["propagationPolicy"] = "Orphan"
        if options.get("orphanDependents") is True:
            options["propagationPolicy"] = "Orphan"
        return options

    async def _delete(self, request: web.Request, p: ParsedPath, dry_run: bool) -> web.Response:
        options = await self._delete_options(request)
        preconditions = options.get("preconditions") or {}
        dry_run = dry_run or "All" in (options.get("dryRun") or [])
        deleted = self.store.delete(
            p.rt.key,
            p.namespace or "",
            p.name or "",
            propagation=options.get("propagationPolicy"),
            grace_period=options.get("gracePeriodSeconds"),
            uid=preconditions.get("uid"),
            resource_version=preconditions.get("resourceVersion"),
            dry_run=dry_run,
        )
        return self._respond(request, p.rt, deleted)

    async def _delete_collection(self, request: web.Request, p: ParsedPath, dry_run: bool) -> web.Response:
        rt = p.rt
        options = await self._delete_options(request)
        labels, fields = self._selectors(request, rt)
        objs, _rv = self.store.list_with_version(rt.key, p.namespace if rt.namespaced else None, labels, fields)
        deleted = []
        for obj in objs:
            try:
                deleted.append(
                    self.store.delete(
                        rt.key,
                        obj["metadata"].get("namespace", ""),
                        obj["metadata"]["name"],
                        propagation=options.get("propagationPolicy"),
                        grace_period=options.get("gracePeriodSeconds"),
                        dry_run=dry_run,
                    )
                )
            except ApiError as err:
                if err.code != 404:
                    raise
        return _json(
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": deleted,
            }
        )

    def _refuse_stream(self, request: web.Request, p: ParsedPath) -> NoReturn:
        """exec, attach, port-forward, proxy: refused, once the object is known to exist."""
        name = p.name or ""
        if p.subresource == "proxy" and ":" in name:
            parts = name.split(":")  # NAME:PORT or SCHEME:NAME:PORT
            name = parts[1] if len(parts) == 3 else parts[0]
        obj = self.store.read(p.rt.key, p.namespace or "", name)  # a missing object is a real 404
        sub = p.subresource or ""
        detail = {
            "exec": '"' + " ".join(request.query.getall("command", [])) + '"',
            "proxy": p.tail or "/",
        }.get(sub, "")
        if sub == "attach" and _flag(request.query.get("stdin")) and _ends_session(request):
            containers = (obj.get("spec") or {}).get("containers") or [{}]
            container = request.query.get("container") or str(containers[0].get("name", ""))
            if self.on_attach_ended is not None:
                self.on_attach_ended(p.namespace or "", name, container)
        raise refusals.refusal(sub, f"{p.rt.singular} {name}" if sub == "proxy" else name, detail)

    # ---- reviews and tokens ------------------------------------------------------------

    async def _review(self, request: web.Request, p: ParsedPath) -> web.Response:
        if request.method != "POST" or p.name is not None:
            raise errors.method_not_allowed(request.method.lower(), p.rt.plural, p.rt.group)
        body = self._check_body(p.rt, p, await self._body(request), None)
        user = self.user(request)
        assert user is not None  # the middleware let only known callers through
        body.setdefault("apiVersion", p.rt.api_version)
        body.setdefault("kind", p.rt.kind)
        return _json(reviews.review(body, user, self.credentials, self._account_uid), 201)

    async def _token(self, request: web.Request, p: ParsedPath) -> web.Response:
        if request.method != "POST":
            raise errors.method_not_allowed(request.method.lower(), "serviceaccounts/token", "")
        namespace, name = p.namespace or "", p.name or ""
        account = self.store.read("serviceaccounts", namespace, name)
        body = await self._body(request)
        if not isinstance(body, dict) or body.get("kind") not in (None, "TokenRequest"):
            raise errors.bad_request("the body of serviceaccounts/token must be a TokenRequest")

        def bound(kind: str, object_name: str) -> Obj | None:
            resource = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}[kind]
            return self.store.get(resource, "" if kind == "Node" else namespace, object_name)

        return _json(reviews.token_request(body, account, self.credentials, bound), 201)

    # ---- scale subresource -----------------------------------------------------------

    @staticmethod
    def _scale_of(obj: Obj) -> Obj:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        selector = spec.get("selector")
        selector_text = ""
        if isinstance(selector, dict):
            from tutor.sandbox.selectors import selector_from_object

            selector_text = str(selector_from_object(selector))
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta["uid"],
                "resourceVersion": meta["resourceVersion"],
                "creationTimestamp": meta["creationTimestamp"],
            },
            "spec": {"replicas": int(spec.get("replicas", 0))},
            "status": {"replicas": int(status.get("replicas", 0)), "selector": selector_text},
        }

    async def _scale(self, request: web.Request, p: ParsedPath, dry_run: bool) -> web.Response:
        rt = p.rt
        namespace, name = p.namespace or "", p.name or ""
        current = self.store.read(rt.key, namespace, name)
        scale = self._scale_of(current)
        if request.method == "GET":
            return _json(scale)
        body = await self._body(request)
        if request.method == "PUT":
            wanted = body
            rv = (body.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.plural, rt.group, name)
        elif request.method == "PATCH":
            content_type = request.headers.get("Content-Type", "")
            kind = "json" if "json-patch" in content_type else "merge"
            wanted = apply_patch(scale, body, kind)
        else:
            raise errors.method_not_allowed(request.method.lower(), rt.plural, rt.group)
        replicas = (wanted.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(
                "Scale",
                "autoscaling",
                name,
                [
                    (
                        "spec.replicas",
                        f"Invalid value: {replicas}: must be greater than or equal to 0",
                    )
                ],
            )
        updated = self.store.patch(rt.key, namespace, name, {"spec": {"replicas": replicas}}, dry_run=dry_run)
        return _json(self._scale_of(updated))

    # ---- watch ---------------------------------------------------------------------------

    async def _watch(self, request: web.Request, p: ParsedPath) -> web.StreamResponse:
        rt = p.rt
        labels, fields = self._selectors(request, rt)
        namespace = p.namespace if rt.namespaced else None
        rv_param = request.query.get("resourceVersion", "")
        timeout = float(request.query.get("timeoutSeconds") or 1800)
        bookmarks = _flag(request.query.get("allowWatchBookmarks"))
        send_initial = _flag(request.query.get("sendInitialEvents"))
        as_table = _wants_table(request)
        include = request.query.get("includeObject", "Metadata")
        deadline = time.monotonic() + timeout

        initial: list[Obj] = []
        expired: ApiError | None = None
        if rv_param in ("", "0") or send_initial:
            initial, cursor = self.store.list_with_version(rt.key, namespace, labels, fields)
        else:
            try:
                cursor = int(rv_param)
            except ValueError:
                raise errors.bad_request(f'invalid resource version "{rv_param}"') from None
            try:
                self.store.events_since(cursor)
            except ApiError as err:
                expired = err

        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        first = True

        custom = self._custom_columns(rt) if as_table else None

        def encode(kind: str, obj: Obj) -> bytes:
            nonlocal first
            if as_table and kind != "BOOKMARK" and kind != "ERROR":
                payload: Obj = tables.table(
                    rt.key,
                    [obj],
                    obj["metadata"].get("resourceVersion", ""),
                    now=self.store.clock(),
                    include_object=include,
                    with_columns=first,
                    custom=custom,
                )
                first = False
            else:
                payload = obj
            return (json.dumps({"type": kind, "object": payload}, separators=(",", ":")) + "\n").encode()

        def bookmark(rv: int, initial_end: bool = False) -> bytes:
            meta: Obj = {"resourceVersion": str(rv)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return encode("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta})

        try:
            # Inside the try: the client may have gone while the request waited (a pause, a
            # busy loop); aiohttp then drops the unprepared response quietly.
            await resp.prepare(request)
            self._watches.add(resp)
            if expired is not None:
                await resp.write(encode("ERROR", expired.status()))
                return resp
            if initial:
                await resp.write(b"".join(encode("ADDED", o) for o in initial))
            if send_initial and bookmarks:
                await resp.write(bookmark(cursor, initial_end=True))
            last_bookmark = time.monotonic()
            while not self._closing:
                changed = self._changed
                try:
                    events = self.store.events_since(cursor)
                except ApiError as err:
                    await resp.write(encode("ERROR", err.status()))
                    break
                chunks = []
                for ev in events:
                    cursor = ev.rv
                    kind = self._filter(ev, rt, namespace, labels, fields)
                    if kind is not None:
                        chunks.append(encode(kind, ev.obj))
                if chunks:
                    await resp.write(b"".join(chunks))
                now = time.monotonic()
                if now >= deadline:
                    break
                if bookmarks and not as_table and now - last_bookmark >= self.bookmark_interval:
                    await resp.write(bookmark(cursor))
                    last_bookmark = now
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                wait = min(deadline - now, 0.5)
                if bookmarks:
                    wait = min(wait, max(0.01, self.bookmark_interval - (now - last_bookmark)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=wait)
        except (ConnectionResetError, ConnectionError, RuntimeError):
            pass
        finally:
            self._watches.discard(resp)
        return resp

    @staticmethod
    def _filter(
        ev: WatchEvent,
        rt: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
    ) -> str | None:
        """The event type a watcher with these selectors sees, or None."""
        if ev.resource != rt.key:
            return None
        if namespace is not None and ev.namespace != namespace:
            return None
        if labels.empty and fields.empty:
            return ev.type

        def matches(obj: Obj | None) -> bool:
            if obj is None:
                return False
            return labels.matches(obj["metadata"].get("labels")) and fields.matches(obj)

        now, before = matches(ev.obj), matches(ev.old)
        if ev.type == "DELETED":
            return "DELETED" if before or now else None
        if now and before:
            return "MODIFIED"
        if now:
            return "ADDED"
        if before:
            return "DELETED"
        return None
