"""The workshop server's API over real HTTP on 127.0.0.1: many learners, and everything it
must refuse (with a clear status code, and nothing stored)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.polling import wait_until
from tutor.workshop.server.serve import ServerThread
from tutor.workshop.snapshot import MAX_BODY_BYTES

from .helpers import Feed, join, put_snapshot, raw, room, send_json, snapshot


def stored(server: ServerThread) -> dict[str, Any]:
    """What the server holds, read on its own thread: learners' names and snapshots, notices."""
    return server.inspect(
        lambda store: {
            "learners": {each.id: (each.name, each.snapshot) for each in store.learners.values()},
            "notices": list(store.notices),
        }
    )


def test_many_learners_join_and_each_sees_its_own_record(server: ServerThread) -> None:
    count = 40
    results: dict[int, tuple[str, str]] = {}

    def learner(index: int) -> None:
        learner_id, secret = join(server.port, server.join_code, f"learner {index:02d}")
        assert put_snapshot(server.port, learner_id, secret, snapshot(index, done=index % 4)).status == 204
        results[index] = (learner_id, secret)

    threads = [threading.Thread(target=learner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == count
    assert len({learner_id for learner_id, _ in results.values()}) == count
    data = room(server.port, server.instructor_token)
    assert data["api"] == 1
    by_name = {row["name"]: row for row in data["learners"]}
    assert len(by_name) == count
    for index in range(count):
        row = by_name[f"learner {index:02d}"]
        assert row["snapshot"]["seq"] == index
        assert row["status"] == ("done" if index % 4 == 3 else "working")
    totals = data["totals"]
    assert totals["learners"] == count
    assert totals["done"] == 10
    (lesson,) = totals["lessons"]
    assert [step["done"] for step in lesson["steps"]] == [30, 20, 10]


def test_a_snapshot_is_stored_as_parsed_and_the_room_shows_who_is_stuck(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana")
    assert put_snapshot(server.port, learner_id, secret, snapshot(1, done=2, stuck=True)).status == 204
    (row,) = room(server.port, server.instructor_token)["learners"]
    assert row["status"] == "stuck"
    assert row["snapshot"]["stuck"]["headline"] == "mongo-0: 0/1 ready, PVC Pending"
    assert row["stuck_since"] == pytest.approx(row["received_at"] - 270)
    assert set(row["done_at"]) == {"start", "default-storageclass"}
    detail = raw(server.port, "GET", f"/api/v1/learners/{learner_id}", token=server.instructor_token)
    assert detail.status == 200
    assert detail.json["learner"]["name"] == "Ana"


def test_a_wrong_join_code_is_refused_and_nothing_is_stored(server: ServerThread) -> None:
    for code in ("wrong-code1", server.join_code.upper(), server.join_code + "x"):
        answer = send_json(server.port, "POST", f"/api/v1/join/{code}", {"name": "Eve"})
        assert answer.status == 404
        assert answer.code == "unknown_join_code"
    assert raw(server.port, "GET", "/nope-nope").status == 404
    assert stored(server)["learners"] == {}


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "x" * 41}, {"name": "two\nlines"}, {"name": 7}, {"name": "Ana", "admin": True}, {}, []],
)
def test_a_bad_name_is_refused(server: ServerThread, body: Any) -> None:
    answer = send_json(server.port, "POST", f"/api/v1/join/{server.join_code}", body)
    assert answer.status == 422
    assert answer.code == "invalid"
    assert stored(server)["learners"] == {}


def test_secrets_are_checked_and_a_learner_writes_only_its_own_record(server: ServerThread) -> None:
    ana, ana_secret = join(server.port, server.join_code, "Ana")
    bob, bob_secret = join(server.port, server.join_code, "Bob")
    assert put_snapshot(server.port, bob, bob_secret, snapshot(1)).status == 204
    body = json.dumps(snapshot(99, done=3).to_json()).encode()
    path = f"/api/v1/learners/{bob}/snapshot"
    cases: list[tuple[str | None, dict[str, str] | None, int, str]] = [
        (None, None, 401, "unauthenticated"),
        (None, {"Authorization": f"Basic {bob_secret}"}, 401, "unauthenticated"),
        ("not-a-secret", None, 403, "unknown_secret"),
        (ana_secret, None, 403, "not_your_record"),
        (server.instructor_token, None, 403, "unknown_secret"),
        (server.join_code, None, 403, "unknown_secret"),
        (bob_secret[:-1], None, 403, "unknown_secret"),
    ]
    for token, headers, status, code in cases:
        answer = raw(server.port, "PUT", path, body, token=token, headers=headers)
        assert (answer.status, answer.code) == (status, code), token
    # Another learner's secret on its own id, or an id that does not exist.
    assert raw(server.port, "PUT", f"/api/v1/learners/{ana}/snapshot", body, token=bob_secret).code == "not_your_record"
    assert raw(server.port, "PUT", "/api/v1/learners/nobody/snapshot", body, token=bob_secret).code == "not_your_record"
    assert (
        send_json(server.port, "PATCH", f"/api/v1/learners/{bob}", {"name": "Mallory"}, token=ana_secret).status == 403
    )
    learners = stored(server)["learners"]
    assert learners[bob] == ("Bob", snapshot(1, sent_at=learners[bob][1].sent_at))
    assert learners[ana] == ("Ana", None)


BAD_BODIES: list[tuple[str, bytes, str | None, bool, int, str]] = [
    ("not JSON", b"{not json", "application/json", False, 400, "malformed_json"),
    ("not UTF-8", b'{"schema": "\xff"}', "application/json", False, 400, "malformed_json"),
    ("a key twice", b'{"seq": 1, "seq": 2}', "application/json", False, 400, "malformed_json"),
    ("NaN", b'{"sent_at": NaN}', "application/json", False, 400, "malformed_json"),
    ("deep nesting", b"[" * 50_000 + b"]" * 50_000, "application/json", False, 413, "too_large"),
    ("deep but small", b"[" * 20_000 + b"]" * 20_000, "application/json", False, 400, "malformed_json"),
    ("too large", b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}', "application/json", False, 413, "too_large"),
    ("too large, chunked", b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}', "application/json", True, 413, "too_large"),
    ("huge, chunked", b"x" * (MAX_BODY_BYTES * 8), "application/json", True, 413, "too_large"),
    ("text/plain", b"{}", "text/plain", False, 415, "unsupported_media_type"),
    ("a form", b"seq=1", "application/x-www-form-urlencoded", False, 415, "unsupported_media_type"),
    ("no content type", b"{}", None, False, 415, "unsupported_media_type"),
    ("empty", b"", "application/json", False, 400, "malformed_json"),
    ("a list", b"[]", "application/json", False, 422, "invalid"),
    ("schema 2", json.dumps(dict(snapshot().to_json(), schema=2)).encode(), "application/json", False, 422, "invalid"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "chunked", "status", "code"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_a_bad_snapshot_body_is_refused_and_nothing_is_stored(
    server: ServerThread, body: bytes, content_type: str | None, chunked: bool, status: int, code: str
) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana")
    answer = raw(
        server.port,
        "PUT",
        f"/api/v1/learners/{learner_id}/snapshot",
        body,
        token=secret,
        content_type=content_type,
        chunked=chunked,
    )
    assert (answer.status, answer.code) == (status, code)
    assert answer.json["error"]["message"]
    assert stored(server)["learners"][learner_id] == ("Ana", None)


def test_a_schema_error_names_the_field(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana")
    data = snapshot().to_json()
    data["steps"][1]["title"] = "\x1b]52;c;secret\x07"
    answer = send_json(server.port, "PUT", f"/api/v1/learners/{learner_id}/snapshot", data, token=secret)
    assert answer.status == 422
    assert answer.json["error"]["field"] == "steps[1].title"


def test_the_instructor_views_need_the_instructor_token(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana")
    for method, path, body in (
        ("GET", "/api/v1/room", None),
        ("GET", "/api/v1/events", None),
        ("GET", f"/api/v1/learners/{learner_id}", None),
        ("POST", "/api/v1/messages", b'{"text": "hi"}'),
        ("POST", "/api/v1/goto", b'{"step": "deploy"}'),
    ):
        assert raw(server.port, method, path, body).status == 401
        for wrong in (secret, server.join_code, "x" * 32, server.instructor_token[:-1]):
            answer = raw(server.port, method, path, body, token=wrong)
            assert (answer.status, answer.code) == (403, "wrong_token"), (path, wrong)
    assert stored(server)["notices"] == []


def test_learners_see_only_anonymous_totals(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana Secretname")
    put_snapshot(server.port, learner_id, secret, snapshot(1, done=1, stuck=True))
    for credential in (secret, server.join_code):
        answer = raw(server.port, "GET", "/api/v1/totals", token=credential)
        assert answer.status == 200
        assert answer.json["totals"]["learners"] == 1
        assert answer.json["totals"]["stuck"] == 1
        text = answer.body.decode()
        assert "Secretname" not in text
        assert learner_id not in text
        assert "PVC Pending" not in text
    assert raw(server.port, "GET", "/api/v1/totals", token="guess").status == 403
    assert raw(server.port, "GET", "/api/v1/totals").status == 401


def test_messages_and_goto_reach_learners_once_each(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana")
    first = raw(server.port, "GET", f"/api/v1/learners/{learner_id}/notices", token=secret)
    assert first.json == {"cursor": 0, "notices": []}
    token = server.instructor_token
    said = send_json(server.port, "POST", "/api/v1/messages", {"text": "Break until 11:00"}, token=token)
    assert said.status == 201
    offered = send_json(server.port, "POST", "/api/v1/goto", {"lesson": "day55", "step": "deploy"}, token=token)
    assert offered.status == 201
    answer = raw(server.port, "GET", f"/api/v1/learners/{learner_id}/notices?after=0", token=secret)
    assert [notice["kind"] for notice in answer.json["notices"]] == ["message", "goto"]
    assert answer.json["notices"][0]["text"] == "Break until 11:00"
    assert answer.json["notices"][1] == {
        "id": 2,
        "kind": "goto",
        "at": answer.json["notices"][1]["at"],
        "lesson": "day55",
        "step": "deploy",
    }
    cursor = answer.json["cursor"]
    assert (
        raw(server.port, "GET", f"/api/v1/learners/{learner_id}/notices?after={cursor}", token=secret).json["notices"]
        == []
    )
    for bad in ({"text": "x" * 281}, {"text": ""}, {"text": "a\nb"}, {"text": "hi", "to": "Ana"}):
        assert send_json(server.port, "POST", "/api/v1/messages", bad, token=token).status == 422
    assert send_json(server.port, "POST", "/api/v1/goto", {"step": "../x"}, token=token).status == 422
    beyond = raw(server.port, "GET", f"/api/v1/learners/{learner_id}/notices?after=99", token=secret)
    assert beyond.json == {"cursor": 2, "notices": []}, "a cursor from another database comes back to this one's"
    assert raw(server.port, "GET", f"/api/v1/learners/{learner_id}/notices?after=-1", token=secret).status == 400
    assert raw(server.port, "GET", f"/api/v1/learners/{learner_id}/notices?wait=999", token=secret).status == 400
    assert len(stored(server)["notices"]) == 2


def test_a_waiting_learner_hears_a_message_as_soon_as_it_is_posted(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana")
    answers: list[Any] = []
    poll = threading.Thread(
        target=lambda: answers.append(
            raw(server.port, "GET", f"/api/v1/learners/{learner_id}/notices?after=0&wait=30", token=secret)
        )
    )
    poll.start()
    # The poll has reached the server (it notes the learner as seen, then waits).
    wait_until(
        lambda: server.inspect(
            lambda store: store.learners[learner_id].last_seen > store.learners[learner_id].joined_at
        ),
        what="the poll to arrive",
    )
    assert not answers, "with nothing to say, the server holds the poll open"
    send_json(server.port, "POST", "/api/v1/messages", {"text": "Look up"}, token=server.instructor_token)
    poll.join(30)
    assert answers and answers[0].json["notices"][0]["text"] == "Look up"


def test_the_board_feed_streams_the_room_then_each_change(server: ServerThread) -> None:
    feed = Feed(server.port, server.instructor_token)
    try:
        assert feed.status == 200
        wait_until(lambda: feed.of("room"), what="the room event")
        learner_id, secret = join(server.port, server.join_code, "Ana")
        put_snapshot(server.port, learner_id, secret, snapshot(5, done=1))
        update = wait_until(lambda: [e for e in feed.of("learner") if e["snapshot"]], what="the snapshot event")
        assert update[-1]["id"] == learner_id
        assert update[-1]["snapshot"]["seq"] == 5
        send_json(server.port, "POST", "/api/v1/messages", {"text": "hello room"}, token=server.instructor_token)
        assert wait_until(lambda: feed.of("notice"), what="the notice event")[0]["text"] == "hello room"
    finally:
        feed.close()


def test_a_learner_may_rename_itself(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "asdf")
    answer = send_json(server.port, "PATCH", f"/api/v1/learners/{learner_id}", {"name": "Ana"}, token=secret)
    assert answer.status == 200
    assert stored(server)["learners"][learner_id][0] == "Ana"


def test_a_restart_keeps_every_learner_the_codes_and_the_notices(server_factory: Callable[..., ServerThread]) -> None:
    first = server_factory()
    learners = {}
    for index in range(12):
        learner_id, secret = join(first.port, first.join_code, f"learner {index}")
        put_snapshot(first.port, learner_id, secret, snapshot(index, done=index % 3))
        learners[learner_id] = secret
    send_json(first.port, "POST", "/api/v1/messages", {"text": "before the restart"}, token=first.instructor_token)
    before = room(first.port, first.instructor_token)
    first.stop()
    second = server_factory(db=first.db)
    assert (second.join_code, second.instructor_token) == (first.join_code, first.instructor_token)
    after = room(second.port, second.instructor_token)
    assert [(r["id"], r["name"], r["snapshot"], r["done_at"]) for r in after["learners"]] == [
        (r["id"], r["name"], r["snapshot"], r["done_at"]) for r in before["learners"]
    ]
    assert after["notices"] == before["notices"]
    # Every learner's secret still works, for its own record only.
    for learner_id, secret in learners.items():
        assert put_snapshot(second.port, learner_id, secret, snapshot(100, done=3)).status == 204
    assert room(second.port, second.instructor_token)["totals"]["done"] == 12


def test_pages_carry_no_secret_and_forbid_framing_and_foreign_scripts(server: ServerThread) -> None:
    board = raw(server.port, "GET", "/board")
    assert board.status == 200
    assert "default-src 'none'" in board.headers["content-security-policy"]
    assert board.headers["x-frame-options"] == "DENY"
    assert board.headers["referrer-policy"] == "no-referrer"
    for path in ("/board", "/board/board.js", "/board/board.css"):
        text = raw(server.port, "GET", path).body.decode()
        assert server.instructor_token not in text
        assert server.join_code not in text
        assert "http://" not in text and "https://" not in text, f"{path} must load nothing from elsewhere"
    assert raw(server.port, "GET", "/api/v1/room", token=server.instructor_token).headers["cache-control"] == "no-store"
    join_page = raw(server.port, "GET", f"/{server.join_code}")
    assert join_page.status == 200
    assert f"--workshop http://127.0.0.1:{server.port}/{server.join_code}" in join_page.body.decode()
    assert server.instructor_token not in join_page.body.decode()
    home = raw(server.port, "GET", "/")
    assert (home.status, home.headers["location"]) == (302, "/board")


def test_a_database_that_cannot_be_written_refuses_with_503_and_keeps_nothing_half_done(server: ServerThread) -> None:
    learner_id, secret = join(server.port, server.join_code, "Ana")
    assert put_snapshot(server.port, learner_id, secret, snapshot(1)).status == 204
    # As a full disk would: every write fails until it is fixed.
    server.inspect(lambda store: store._db.execute("PRAGMA query_only = ON"))
    answer = put_snapshot(server.port, learner_id, secret, snapshot(2, done=3))
    assert (answer.status, answer.code) == (503, "storage_failed")
    assert send_json(server.port, "POST", f"/api/v1/join/{server.join_code}", {"name": "Bob"}).status == 503
    assert stored(server)["learners"][learner_id][1].seq == 1
    server.inspect(lambda store: store._db.execute("PRAGMA query_only = OFF"))
    assert put_snapshot(server.port, learner_id, secret, snapshot(2, done=3)).status == 204
    assert room(server.port, server.instructor_token)["learners"][0]["status"] == "done"
