"""The workshop server's HTTP side: the API (`/api/v1/...`), the board's files, the join page.

Who may do what:
- anyone: the board's page and files (they hold no data), the join page (with the code);
- the join code: join (`POST /api/v1/join/{code}`), the room's anonymous totals;
- a learner's secret: its own record only (snapshot, name, notices), and the totals;
- the instructor token: everything else (the room, a learner's detail, the live feed,
  messages and "everyone, step N").

Secrets travel only in `Authorization: Bearer ...` headers, never in a URL, so no log
line and no browser history holds one. Every refusal is JSON with a stable `code`
(clients decide on it, never on the wording) and nothing is stored from a refused request.
"""

from __future__ import annotations

import asyncio
import html
import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, NoReturn, TypeVar

from aiohttp import web

from tutor.workshop.notices import message_text
from tutor.workshop.server.room import (
    Feed,
    learner_json,
    presence_json,
    room_json,
    sse,
    totals_json,
)
from tutor.workshop.server.store import Learner, RoomFull, Store
from tutor.workshop.snapshot import MAX_BODY_BYTES, Snapshot, SnapshotError, check_id, display_name

SMALL_BODY = 2048
"""Join, rename, message and "everyone, step N" bodies are a few dozen bytes."""
MAX_WAIT = 30
"""The longest a learner's request for notices is held open, in seconds."""
KEEPALIVE = 15.0
PRESENCE_EVERY = 10.0

T = TypeVar("T")

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Settings:
    lesson: str = "day55"
    """The lesson the join page names (the server itself knows no lessons)."""
    public_url: str = "http://127.0.0.1:8055"
    """How learners reach this server, for the join page."""


STORE = web.AppKey("store", Store)
FEED = web.AppKey("feed", Feed)
SETTINGS = web.AppKey("settings", Settings)


class Refused(Exception):
    """A request refused: its status, a stable code, and a message for people."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def response(self) -> web.Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return web.json_response({"error": error}, status=self.status)


def refuse(status: int, code: str, message: str, field: str | None = None) -> NoReturn:
    raise Refused(status, code, message, field)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except Refused as refused:
        response = refused.response()
    except web.HTTPRequestEntityTooLarge:
        response = Refused(413, "too_large", "the body is too large").response()
    except sqlite3.Error as err:
        # A full disk, say: the learner's tutor retries (5xx), and nothing half-written is kept.
        print(f"k8s-tutor workshop: cannot write the workshop's database: {err}", file=sys.stderr, flush=True)
        response = Refused(503, "storage_failed", "the workshop's database cannot be written just now").response()
    except web.HTTPException as http:
        if http.status < 400:
            raise
        response = Refused(http.status, "not_found" if http.status == 404 else "http_error", http.reason).response()
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        refuse(401, "unauthenticated", "send the token or secret as 'Authorization: Bearer ...'")
    return value.strip()


def instructor(request: web.Request) -> None:
    if not request.app[STORE].is_instructor(bearer(request)):
        refuse(403, "wrong_token", "that is not this workshop's instructor token")


def own_record(request: web.Request) -> Learner:
    """The learner named in the path, if the request carries that learner's own secret."""
    store = request.app[STORE]
    secret = bearer(request)
    learner_id = request.match_info["learner"]
    learner = store.authenticate(learner_id, secret)
    if learner is not None:
        return learner
    if store.holder_of(secret) is not None:
        refuse(403, "not_your_record", "a learner may write only its own record")
    refuse(403, "unknown_secret", "this workshop does not know that secret: join again")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key appears twice")
    return dict(pairs)


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: web.Request, limit: int) -> Any:
    """The request's JSON body, refused unless it is JSON, UTF-8, well formed and within `limit` bytes."""
    if request.content_type != "application/json":
        refuse(415, "unsupported_media_type", f"send 'Content-Type: application/json', not {request.content_type!r}")
    if request.content_length is not None and request.content_length > limit:
        refuse(413, "too_large", f"the body is {request.content_length} bytes; at most {limit}")
    body = bytearray()
    while len(body) <= limit:
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        refuse(413, "too_large", f"the body is over {limit} bytes")
    try:
        return json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        refuse(400, "malformed_json", f"the body is not valid JSON: {str(err)[:120]}")


def _only(data: Any, keys: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        refuse(422, "invalid", "the body must be a JSON object")
    unknown = sorted(set(data) - keys)
    if unknown:
        refuse(422, "invalid", f"unknown field {unknown[0]!r}", unknown[0])
    missing = sorted(required - set(data))
    if missing:
        refuse(422, "invalid", f"field {missing[0]!r} is missing", missing[0])
    return data


def _valid(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except SnapshotError as err:
        refuse(422, "invalid", str(err), err.field)


def _now(request: web.Request) -> float:
    return request.app[STORE].clock()


# --- learners ---------------------------------------------------------------------------


async def join(request: web.Request) -> web.Response:
    store = request.app[STORE]
    if not store.is_join_code(request.match_info["code"]):
        refuse(404, "unknown_join_code", "no workshop here has that join code: check the URL the instructor gave")
    data = _only(await read_json(request, SMALL_BODY), {"name"}, {"name"})
    name = _valid(lambda: display_name(data["name"]))
    try:
        learner, secret = store.join(name)
    except RoomFull:
        refuse(409, "room_full", "this workshop has as many learners as it takes")
    request.app[FEED].publish("learner", learner_json(learner, _now(request)))
    count = len(store.learners)
    print(f"k8s-tutor workshop: {name} joined ({count} learner{'s' if count != 1 else ''})", flush=True)
    return web.json_response(
        {"learner": learner.id, "secret": secret, "name": name, "workshop": store.name, "cursor": store.last_notice_id},
        status=201,
    )


async def rename(request: web.Request) -> web.Response:
    learner = own_record(request)
    data = _only(await read_json(request, SMALL_BODY), {"name"}, {"name"})
    request.app[STORE].rename(learner, _valid(lambda: display_name(data["name"])))
    request.app[FEED].publish("learner", learner_json(learner, _now(request)))
    return web.json_response({"learner": learner.id, "name": learner.name})


async def put_snapshot(request: web.Request) -> web.Response:
    learner = own_record(request)
    body = await read_json(request, MAX_BODY_BYTES)
    snapshot = _valid(lambda: Snapshot.from_json(body))
    request.app[STORE].record(learner, snapshot)
    request.app[FEED].publish("learner", learner_json(learner, _now(request)))
    return web.Response(status=204)


async def notices(request: web.Request) -> web.Response:
    learner = own_record(request)
    store = request.app[STORE]
    store.touch(learner)
    after = _query_int(request, "after", default=None, most=2**53)
    wait = _query_int(request, "wait", default=0, most=MAX_WAIT)
    if after is None:
        # A tutor that just started hears what is said from now on, not the morning's news.
        return web.json_response({"cursor": store.last_notice_id, "notices": []})
    if not store.notices_after(after) and wait:
        await request.app[FEED].wait_for_notice(wait)
        store.touch(learner)
    fresh = store.notices_after(after)
    # A cursor from beyond the last notice (another database's) comes back to this one's.
    cursor = fresh[-1].id if fresh else min(after, store.last_notice_id)
    return web.json_response({"cursor": cursor, "notices": [notice.to_json() for notice in fresh]})


def _query_int(request: web.Request, name: str, *, default: int | None, most: int) -> int | None:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) > most:
        refuse(400, "bad_query", f"{name} must be a whole number from 0 to {most}", name)
    return int(text)


async def totals(request: web.Request) -> web.Response:
    store = request.app[STORE]
    credential = bearer(request)
    if not (store.holder_of(credential) or store.is_join_code(credential) or store.is_instructor(credential)):
        refuse(403, "wrong_token", "send a learner's secret, the join code or the instructor token")
    return web.json_response({"api": 1, "totals": totals_json(store, _now(request))})


# --- the instructor ---------------------------------------------------------------------


async def room(request: web.Request) -> web.Response:
    instructor(request)
    return web.json_response(room_json(request.app[STORE], _now(request)))


async def learner_detail(request: web.Request) -> web.Response:
    instructor(request)
    learner = request.app[STORE].learners.get(request.match_info["learner"])
    if learner is None:
        refuse(404, "no_such_learner", "no learner has that id")
    return web.json_response({"api": 1, "learner": learner_json(learner, _now(request))})


async def post_message(request: web.Request) -> web.Response:
    instructor(request)
    data = _only(await read_json(request, SMALL_BODY), {"text"}, {"text"})
    text = _valid(lambda: message_text(data["text"]))
    notice = request.app[STORE].post_message(text)
    request.app[FEED].notice_posted(notice)
    return web.json_response({"api": 1, "notice": notice.to_json()}, status=201)


async def post_goto(request: web.Request) -> web.Response:
    instructor(request)
    data = _only(await read_json(request, SMALL_BODY), {"lesson", "step"}, {"step"})
    lesson_value = data.get("lesson")
    lesson = None if lesson_value is None else _valid(lambda: check_id(lesson_value, "lesson"))
    step = _valid(lambda: check_id(data["step"], "step"))
    notice = request.app[STORE].post_goto(lesson, step)
    request.app[FEED].notice_posted(notice)
    return web.json_response({"api": 1, "notice": notice.to_json()}, status=201)


async def events(request: web.Request) -> web.StreamResponse:
    """The board's live feed (server-sent events): the room, then each change as it happens."""
    instructor(request)
    store, feed = request.app[STORE], request.app[FEED]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    # Subscribed before the room is read, so that nothing falls between the two.
    subscriber = feed.subscribe()
    try:
        await response.write(sse("room", room_json(store, _now(request))))
        while not subscriber.overflowed:
            try:
                message = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE)
            except TimeoutError:
                message = b": keep-alive\n\n"
            if message is None:
                break
            await response.write(message)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        feed.unsubscribe(subscriber)
    return response


async def _presence(app: web.Application) -> Any:
    """Every 10 s, when each learner was last heard from: the board's 'away' needs it."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(PRESENCE_EVERY)
            store = app[STORE]
            app[FEED].publish("presence", presence_json(store, store.clock()))

    task = asyncio.create_task(loop())
    yield
    task.cancel()


async def _close_feed(app: web.Application) -> None:
    app[FEED].close()


# --- pages ------------------------------------------------------------------------------


def _board_file(name: str) -> bytes:
    return (resources.files("tutor.workshop.server") / "board" / name).read_bytes()


def _static(name: str, content_type: str) -> Handler:
    body = _board_file(name)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=body, content_type=content_type, charset="utf-8", headers={"Cache-Control": "no-cache"}
        )

    return handler


async def to_board(request: web.Request) -> web.Response:
    raise web.HTTPFound("/board")


async def join_page(request: web.Request) -> web.Response:
    """A learner who opened the join link in a browser: say what to type instead."""
    store, settings = request.app[STORE], request.app[SETTINGS]
    if not store.is_join_code(request.match_info["code"]):
        raise web.HTTPNotFound
    command = f"k8s-tutor {settings.lesson} --workshop {settings.public_url}/{store.join_code}"
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Join the workshop</title>"
        "<link rel='stylesheet' href='/board/board.css'></head><body><main class='join'>"
        f"<h1>Workshop {html.escape(store.name)}</h1><p>To join, type this in a terminal:</p>"
        f"<pre><code>{html.escape(command)}</code></pre></main></body></html>"
    )
    return web.Response(text=page, content_type="text/html")


def make_app(store: Store, settings: Settings | None = None) -> web.Application:
    app = web.Application(middlewares=[_guard], client_max_size=MAX_BODY_BYTES + 1024)
    app[STORE] = store
    app[FEED] = Feed()
    app[SETTINGS] = settings or Settings()
    app.cleanup_ctx.append(_presence)
    app.on_shutdown.append(_close_feed)
    app.router.add_get("/", to_board)
    app.router.add_get("/board", _static("index.html", "text/html"))
    app.router.add_get("/board/board.js", _static("board.js", "text/javascript"))
    app.router.add_get("/board/board.css", _static("board.css", "text/css"))
    app.router.add_post("/api/v1/join/{code}", join)
    app.router.add_get("/api/v1/totals", totals)
    app.router.add_get("/api/v1/room", room)
    app.router.add_get("/api/v1/events", events)
    app.router.add_post("/api/v1/messages", post_message)
    app.router.add_post("/api/v1/goto", post_goto)
    app.router.add_get("/api/v1/learners/{learner}", learner_detail)
    app.router.add_patch("/api/v1/learners/{learner}", rename)
    app.router.add_put("/api/v1/learners/{learner}/snapshot", put_snapshot)
    app.router.add_get("/api/v1/learners/{learner}/notices", notices)
    app.router.add_get("/{code:[a-z0-9-]{1,64}}", join_page)
    return app
