"""The learner's sender against a server that is there, down, hung or restarting: the caller
is never held up, the connection state is said once per change, and the last state arrives."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.polling import wait_until
from tutor.workshop.client import Backoff, ClientOptions, ConnectionChange, ConnectionState, WorkshopClient
from tutor.workshop.http import WorkshopUrl
from tutor.workshop.identity import IdentityStore
from tutor.workshop.notices import GoToStep, Notice, RoomMessage
from tutor.workshop.server.serve import ServerThread

from .helpers import Gate, free_port, send_json, snapshot

QUICK = Backoff(first=0.05, most=0.3, jitter=0.1)


class Recorder:
    def __init__(self) -> None:
        self.changes: list[ConnectionChange] = []
        self.notices: list[Notice] = []

    def states(self) -> list[ConnectionState]:
        return [change.state for change in self.changes]


@pytest.fixture
def identities(tmp_path: Path) -> IdentityStore:
    return IdentityStore(tmp_path / "state" / "workshops")


@pytest.fixture
def make_client(identities: IdentityStore) -> Iterator[Callable[..., tuple[WorkshopClient, Recorder]]]:
    made: list[WorkshopClient] = []

    def make(port: int, code: str, name: str = "Ana", **options: object) -> tuple[WorkshopClient, Recorder]:
        recorder = Recorder()
        settings = {"backoff": QUICK, "timeout": 5.0, "poll_wait": 2, "identities": identities, **options}
        client = WorkshopClient(
            ClientOptions(url=WorkshopUrl.parse(f"http://127.0.0.1:{port}/{code}", join=True), name=name, **settings),  # type: ignore[arg-type]
            on_state=recorder.changes.append,
            on_notice=recorder.notices.append,
        )
        made.append(client)
        client.start()
        return client, recorder

    yield make
    for client in made:
        assert client.close() == [], "the client's threads did not stop"


def latest_seq(server: ServerThread) -> int | None:
    def look(store: object) -> int | None:
        snaps = [each.snapshot for each in store.learners.values()]  # type: ignore[attr-defined]
        return snaps[0].seq if len(snaps) == 1 and snaps[0] is not None else None

    return server.inspect(look)


def test_a_learner_joins_sends_and_is_said_connected_once(
    server: ServerThread, make_client: Callable[..., tuple[WorkshopClient, Recorder]]
) -> None:
    client, recorder = make_client(server.port, server.join_code)
    for seq in range(20):
        client.submit(snapshot(seq))
    wait_until(lambda: latest_seq(server) == 19, what="the last snapshot")
    wait_until(lambda: recorder.changes, what="the client to hear the answer")
    assert recorder.states() == [ConnectionState.CONNECTED]
    assert recorder.changes[0].previous is None
    assert server.inspect(lambda store: [each.name for each in store.learners.values()]) == ["Ana"]


def test_a_server_that_is_down_does_not_slow_the_lesson_and_gets_the_last_state_when_up(
    tmp_path: Path,
    server_factory: Callable[..., ServerThread],
    make_client: Callable[..., tuple[WorkshopClient, Recorder]],
) -> None:
    # Learn the join code, then take the server away before the learner starts.
    port = free_port()
    first = server_factory(port=port)
    code = first.join_code
    first.stop()
    client, recorder = make_client(port, code)
    for seq in range(50):
        client.submit(snapshot(seq))
    wait_until(lambda: ConnectionState.UNREACHABLE in recorder.states(), what="unreachable")
    for seq in range(50, 100):
        client.submit(snapshot(seq))
    assert recorder.states() == [ConnectionState.UNREACHABLE], "said once, however many retries"
    assert "connection refused" in recorder.changes[0].detail
    second = server_factory(db=first.db, port=port)
    wait_until(lambda: latest_seq(second) == 99, what="the last snapshot after the server came up")
    wait_until(lambda: len(recorder.changes) == 2, what="the client to hear the answer")
    assert recorder.states() == [ConnectionState.UNREACHABLE, ConnectionState.CONNECTED]
    assert recorder.changes[1].previous == ConnectionState.UNREACHABLE


@pytest.fixture
def hung(
    server: ServerThread, make_client: Callable[..., tuple[WorkshopClient, Recorder]]
) -> Iterator[tuple[WorkshopClient, Gate]]:
    """A client whose sender is stuck in a request to a server that has stopped answering."""
    gate = Gate(server.port).start()
    try:
        client, _ = make_client(gate.port, server.join_code)
        client.submit(snapshot(0))
        wait_until(lambda: latest_seq(server) == 0, what="the first snapshot")
        gate.hold()
        client.submit(snapshot(1))
        assert gate.held_data.wait(10), "the sender's request reached the hung server"
        yield client, gate
    finally:
        gate.close()


def test_submit_never_waits_for_a_hung_server(server: ServerThread, hung: tuple[WorkshopClient, Gate]) -> None:
    client, gate = hung
    # The sender is stuck in a request the server will not answer. The lesson goes on:
    submitted = threading.Event()

    def lesson() -> None:
        for seq in range(2, 500):
            client.submit(snapshot(seq))
        submitted.set()

    threading.Thread(target=lesson, daemon=True).start()
    assert submitted.wait(10), "submit() blocked while the server hung"
    assert gate.held_data.is_set() and latest_seq(server) == 0, "the server was still hung throughout"
    gate.release()
    wait_until(lambda: latest_seq(server) == 499, what="the last state once the server answers")


def test_closing_does_not_wait_for_a_hung_server(hung: tuple[WorkshopClient, Gate]) -> None:
    client, _ = hung
    assert client.close(timeout=0.5) == []


def test_a_server_restart_keeps_the_learner_and_the_last_state_arrives(
    server_factory: Callable[..., ServerThread], make_client: Callable[..., tuple[WorkshopClient, Recorder]]
) -> None:
    port = free_port()
    first = server_factory(port=port)
    client, recorder = make_client(port, first.join_code)
    client.submit(snapshot(0))
    wait_until(lambda: latest_seq(first) == 0, what="the first snapshot")
    learner = client.learner_id
    first.stop()
    client.submit(snapshot(1))
    client.submit(snapshot(2, done=1))
    wait_until(lambda: ConnectionState.UNREACHABLE in recorder.states(), what="unreachable")
    second = server_factory(db=first.db, port=port)
    wait_until(lambda: latest_seq(second) == 2, what="the state sent while the server was away")
    assert second.inspect(lambda store: list(store.learners)) == [learner]
    wait_until(lambda: len(recorder.changes) == 3, what="the client to hear the answer")
    assert recorder.states() == [ConnectionState.CONNECTED, ConnectionState.UNREACHABLE, ConnectionState.CONNECTED]


def test_a_restarted_tutor_rejoins_as_the_same_learner(
    server: ServerThread, make_client: Callable[..., tuple[WorkshopClient, Recorder]], identities: IdentityStore
) -> None:
    first, _ = make_client(server.port, server.join_code, name="asdf")
    first.submit(snapshot(0))
    wait_until(lambda: latest_seq(server) == 0)
    learner = first.learner_id
    assert first.close() == []
    saved = identities.path(f"http://127.0.0.1:{server.port}", server.join_code)
    assert saved.stat().st_mode & 0o777 == 0o600
    assert saved.parent.stat().st_mode & 0o777 == 0o700
    second, _ = make_client(server.port, server.join_code, name="Ana")
    second.submit(snapshot(1))
    wait_until(lambda: latest_seq(server) == 1)
    assert second.learner_id == learner
    assert server.inspect(lambda store: [(each.id, each.name) for each in store.learners.values()]) == [
        (learner, "Ana")
    ]


@pytest.mark.parametrize("problem", ["readable by others", "a link"])
def test_an_identity_file_others_could_read_is_not_used(
    server: ServerThread,
    make_client: Callable[..., tuple[WorkshopClient, Recorder]],
    identities: IdentityStore,
    tmp_path: Path,
    problem: str,
) -> None:
    first, _ = make_client(server.port, server.join_code)
    first.submit(snapshot(0))
    wait_until(lambda: latest_seq(server) == 0)
    old = first.learner_id
    first.close()
    saved = identities.path(f"http://127.0.0.1:{server.port}", server.join_code)
    if problem == "a link":
        elsewhere = tmp_path / "elsewhere.json"
        saved.rename(elsewhere)
        saved.symlink_to(elsewhere)
    else:
        saved.chmod(0o644)
    second, recorder = make_client(server.port, server.join_code)
    second.submit(snapshot(1))
    wait_until(lambda: recorder.changes, what="a connection state")
    assert second.learner_id != old
    assert recorder.changes[0].warning and "joining as a new learner" in recorder.changes[0].warning
    assert not saved.is_symlink() and saved.stat().st_mode & 0o777 == 0o600


def test_a_wrong_join_code_is_refused_once_and_the_lesson_goes_on(
    server: ServerThread, make_client: Callable[..., tuple[WorkshopClient, Recorder]]
) -> None:
    client, recorder = make_client(server.port, "wrong-code0")
    client.submit(snapshot(0))
    wait_until(lambda: recorder.changes, what="the refusal")
    for seq in range(1, 100):
        client.submit(snapshot(seq))
    assert recorder.states() == [ConnectionState.REFUSED]
    assert "join code" in recorder.changes[0].detail
    assert server.inspect(lambda store: len(store.learners)) == 0


def test_a_server_that_forgot_the_learner_gets_a_new_record_with_the_latest_state(
    server_factory: Callable[..., ServerThread],
    make_client: Callable[..., tuple[WorkshopClient, Recorder]],
    tmp_path: Path,
) -> None:
    port = free_port()
    first = server_factory(port=port)
    client, _ = make_client(port, first.join_code)
    client.submit(snapshot(7, done=2))
    wait_until(lambda: latest_seq(first) == 7)
    first.stop()
    # A new database that happens to have the same join code: the old secret means nothing there.
    fresh = tmp_path / "fresh.sqlite3"
    server_factory(db=fresh).stop()
    with sqlite3.connect(fresh) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'join_code'", (first.join_code,))
    second = server_factory(db=fresh, port=port)
    wait_until(lambda: latest_seq(second) == 7, what="the latest state under a new record")
    assert second.inspect(lambda store: len(store.learners)) == 1


def test_the_room_notices_arrive_once_each_in_order(
    server: ServerThread, make_client: Callable[..., tuple[WorkshopClient, Recorder]]
) -> None:
    client, recorder = make_client(server.port, server.join_code)
    client.submit(snapshot(0))
    wait_until(lambda: latest_seq(server) == 0)
    # The first poll only learns where the room's notices stand; wait for the one after it.
    learner = client.learner_id
    assert learner is not None
    seen = server.inspect(lambda store: store.learners[learner].last_seen)
    wait_until(lambda: server.inspect(lambda store: store.learners[learner].last_seen) > seen, what="a poll")
    token = server.instructor_token
    send_json(server.port, "POST", "/api/v1/messages", {"text": "Break until 11:00"}, token=token)
    send_json(server.port, "POST", "/api/v1/goto", {"lesson": "day55", "step": "deploy"}, token=token)
    wait_until(lambda: len(recorder.notices) >= 2, what="both notices")
    send_json(server.port, "POST", "/api/v1/messages", {"text": "Back to work"}, token=token)
    wait_until(lambda: len(recorder.notices) >= 3, what="the third notice")
    assert [type(n) for n in recorder.notices] == [RoomMessage, GoToStep, RoomMessage]
    assert [n.id for n in recorder.notices] == [1, 2, 3]
    assert recorder.notices[1] == GoToStep(2, recorder.notices[1].at, "day55", "deploy")


def test_a_callback_that_raises_does_not_stop_the_client(server: ServerThread, identities: IdentityStore) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("a view's bug")

    client = WorkshopClient(
        ClientOptions(
            url=WorkshopUrl.parse(f"http://127.0.0.1:{server.port}/{server.join_code}", join=True),
            name="Ana",
            backoff=QUICK,
            poll_wait=1,
            identities=identities,
        ),
        on_state=broken,
        on_notice=broken,
    )
    client.start()
    try:
        client.submit(snapshot(0))
        wait_until(lambda: latest_seq(server) == 0)
        send_json(server.port, "POST", "/api/v1/messages", {"text": "hi"}, token=server.instructor_token)
        client.submit(snapshot(1))
        wait_until(lambda: latest_seq(server) == 1)
    finally:
        assert client.close() == []


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:8055",
        "http://127.0.0.1:8055/",
        "ftp://127.0.0.1/abc",
        "http://user:pw@127.0.0.1:8055/abc",
        "http://127.0.0.1:99999/abc",
        "http://127.0.0.1:8055/abc?x=1",
        "http://127.0.0.1:8055/a/b",
        "127.0.0.1:8055/abc",
        "",
    ],
)
def test_a_bad_workshop_url_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="workshop URL"):
        WorkshopUrl.parse(text, join=True)


def test_a_workshop_url_is_read_as_a_learner_types_it() -> None:
    url = WorkshopUrl.parse("http://192.168.1.20:8055/k7m2p-x9qrt", join=True)
    assert (url.base, url.code) == ("http://192.168.1.20:8055", "k7m2p-x9qrt")
    assert WorkshopUrl.parse("https://[::1]/abc", join=True).base == "https://[::1]:443"
    assert WorkshopUrl.parse("http://127.0.0.1:8055/board#token=x", join=False).base == "http://127.0.0.1:8055"


def test_news_of_a_failure_older_than_an_answer_does_not_flap_the_state() -> None:
    import time

    from tutor.workshop.client import _Tracker

    changes: list[ConnectionChange] = []
    tracker = _Tracker(changes.append)
    began = time.monotonic()
    tracker.failed("refused", began)
    tracker.ok("back")
    # One thread's request failed before the server came back, and says so only now.
    tracker.failed("refused", began)
    assert [c.state for c in changes] == [ConnectionState.UNREACHABLE, ConnectionState.CONNECTED]
    # A request begun after the answer, failing, is news.
    tracker.failed("reset", time.monotonic())
    assert [c.state for c in changes][-1] == ConnectionState.UNREACHABLE
