"""A workshop's state in one SQLite file: the room's codes, every learner, every notice.

The file is created 0600 (in a 0700 folder when the folder is ours to make), and one
that exists must be a regular file of this user; it is tightened to 0600 if it is not.
Learners' secrets are kept only as SHA-256 digests; the instructor token and the join
code are kept as they are, so that a restart prints the same ones.

Everything is read once at start and kept in memory; each change is written through
at once (WAL, one transaction each), so a restart, or a crash, loses nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import pathname2url

from tutor.workshop.notices import GoToStep, Notice, RoomMessage, parse_notice
from tutor.workshop.snapshot import Snapshot, SnapshotError

FORMAT = 1
MAX_LEARNERS = 1000
"""A room larger than this is someone scripting joins with a leaked code."""
TOUCH_EVERY = 10.0
"""Seconds between two writes of a learner's `last_seen` that no snapshot carries."""

_JOIN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i: a join code is read off a projector and typed."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS learners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    joined_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    snapshot TEXT,
    received_at REAL
);
CREATE TABLE IF NOT EXISTS steps_done (
    learner TEXT NOT NULL,
    lesson TEXT NOT NULL,
    step TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (learner, lesson, step)
);
CREATE TABLE IF NOT EXISTS notices (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
"""


class StoreError(Exception):
    """The workshop's database cannot be used; the message says why and what to do."""


class RoomFull(Exception):
    pass


def new_join_code() -> str:
    """Ten characters in two halves (`k7m2p-x9qrt`): about 49 bits, easy to read and type."""
    chars = [secrets.choice(_JOIN_ALPHABET) for _ in range(10)]
    return "".join(chars[:5]) + "-" + "".join(chars[5:])


def new_token() -> str:
    """A URL-safe secret that never starts with '-': it is typed as `--token TOKEN`, where a
    leading dash would read as an option (about one token in 64 otherwise)."""
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


@dataclass
class Learner:
    id: str
    name: str
    secret_sha256: str = field(repr=False)
    joined_at: float
    last_seen: float
    snapshot: Snapshot | None = None
    received_at: float | None = None
    done_at: dict[tuple[str, str], float] = field(default_factory=dict)
    """(lesson, step) -> when a snapshot first said the step was done."""
    touched_at: float = 0.0


def data_root() -> Path:
    override = os.environ.get("K8S_TUTOR_DATA_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("k8s-tutor", appauthor=False))


def default_db(name: str) -> Path:
    """Where `--name NAME` keeps its workshop: the user's data folder."""
    return data_root() / "workshops" / f"{name}.sqlite3"


def prepare(path: Path, *, private_folder: bool) -> list[str]:
    """Make sure `path` is a database file only this user can read; returns what it changed.

    `private_folder`: the folder is the workshops' own (created 0700); otherwise it is the
    instructor's choice (`--db`), created if missing but not changed if it exists.
    """
    said: list[str] = []
    posix = hasattr(os, "getuid")
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True, mode=0o700)
        except OSError as err:
            raise StoreError(f"cannot create {folder}: {err.strerror or err}") from None
    elif private_folder and posix:
        info = folder.stat()
        if info.st_uid != os.getuid():
            raise StoreError(f"{folder} belongs to another user; choose another place with --db")
        if stat.S_IMODE(info.st_mode) & 0o077:
            folder.chmod(0o700)
            said.append(f"tightened {folder} to 0700")
    try:
        info = path.lstat()
    except FileNotFoundError:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as err:
            raise StoreError(f"cannot create {path}: {err.strerror or err}") from None
        os.close(fd)
        return said
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path} is not a regular file (a link or a folder?); choose another --db")
    if not posix:
        return said
    if info.st_uid != os.getuid():
        raise StoreError(f"{path} belongs to another user; refusing to use it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o600)
        said.append(f"tightened {path} to 0600 (it was readable by others)")
    return said


class Store:
    """The workshop's state. Not thread-safe: the server uses it from its event loop only."""

    def __init__(self, db: sqlite3.Connection, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.path = path
        self.clock = clock
        self._meta: dict[str, str] = dict(db.execute("SELECT key, value FROM meta").fetchall())
        self.learners: dict[str, Learner] = {}
        self._by_digest: dict[str, Learner] = {}
        columns = "id, name, secret_sha256, joined_at, last_seen, snapshot, received_at"
        for row in db.execute(f"SELECT {columns} FROM learners ORDER BY joined_at"):
            learner = Learner(row[0], row[1], row[2], row[3], row[4], _snapshot(row[5]), row[6])
            self.learners[learner.id] = learner
            self._by_digest[learner.secret_sha256] = learner
        for learner_id, lesson, step, at in db.execute("SELECT learner, lesson, step, at FROM steps_done"):
            if learner_id in self.learners:
                self.learners[learner_id].done_at[(lesson, step)] = at
        self.notices: list[Notice] = [
            parse_notice(json.loads(body)) for (body,) in db.execute("SELECT body FROM notices ORDER BY id")
        ]

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        name: str,
        private_folder: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> tuple[Store, list[str]]:
        """Open (or create) the workshop at `path`; returns the store and what was changed on disk."""
        said = prepare(path, private_folder=private_folder)
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with _transaction(db):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
                if not meta:
                    fresh = {
                        "format": str(FORMAT),
                        "name": name,
                        "created_at": repr(clock()),
                        "instructor_token": new_token(),
                        "join_code": new_join_code(),
                    }
                    db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", fresh.items())
                elif meta.get("format") != str(FORMAT):
                    raise StoreError(
                        f"{path} is a workshop database of format {meta.get('format')!r}; this k8s-tutor reads {FORMAT}"
                    )
            return cls(db, path, clock=clock), said
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{path} is not a workshop database ({err})") from None

    @classmethod
    def open_readonly(cls, path: Path) -> Store:
        """For `workshop export`: never writes, never creates."""
        if not path.is_file():
            raise StoreError(f"no workshop database at {path}")
        try:
            db = sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != str(FORMAT):
                raise StoreError(f"{path} is not a workshop database this k8s-tutor reads")
            return cls(db, path)
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{path} is not a workshop database ({err})") from None

    def close(self) -> None:
        self._db.close()

    # --- the room's codes -------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._meta["name"]

    @property
    def created_at(self) -> float:
        return float(self._meta["created_at"])

    @property
    def instructor_token(self) -> str:
        return self._meta["instructor_token"]

    @property
    def join_code(self) -> str:
        return self._meta["join_code"]

    def rotate_token(self) -> str:
        token = new_token()
        with _transaction(self._db):
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'instructor_token'", (token,))
        self._meta["instructor_token"] = token
        return token

    def is_instructor(self, token: str) -> bool:
        return same(token, self.instructor_token)

    def is_join_code(self, code: str) -> bool:
        return same(code, self.join_code)

    # --- learners ---------------------------------------------------------------------

    def join(self, name: str) -> tuple[Learner, str]:
        """A new learner and its secret (shown once: only its digest is kept)."""
        if len(self.learners) >= MAX_LEARNERS:
            raise RoomFull
        now = self.clock()
        learner_id = secrets.token_urlsafe(9)
        while learner_id in self.learners:
            learner_id = secrets.token_urlsafe(9)
        secret = secrets.token_urlsafe(32)
        learner = Learner(learner_id, name, digest(secret), now, now, touched_at=now)
        with _transaction(self._db):
            self._db.execute(
                "INSERT INTO learners (id, name, secret_sha256, joined_at, last_seen) VALUES (?, ?, ?, ?, ?)",
                (learner.id, learner.name, learner.secret_sha256, now, now),
            )
        self.learners[learner.id] = learner
        self._by_digest[learner.secret_sha256] = learner
        return learner, secret

    def authenticate(self, learner_id: str, secret: str) -> Learner | None:
        """The learner `learner_id` if `secret` is its own; None for any other secret."""
        learner = self.learners.get(learner_id)
        given = digest(secret)
        if learner is None:
            # Same work either way: the answer's timing does not say which ids exist.
            same(given, given)
            return None
        return learner if same(given, learner.secret_sha256) else None

    def holder_of(self, secret: str) -> Learner | None:
        """The learner whose secret this is (digests are looked up, never compared by prefix)."""
        return self._by_digest.get(digest(secret))

    def rename(self, learner: Learner, name: str) -> None:
        with _transaction(self._db):
            self._db.execute("UPDATE learners SET name = ? WHERE id = ?", (name, learner.id))
        learner.name = name

    def record(self, learner: Learner, snapshot: Snapshot) -> None:
        """Keep `snapshot` as the learner's latest state; note steps it says are newly done."""
        now = self.clock()
        newly = [
            (snapshot.lesson, step.id)
            for step in snapshot.steps
            if step.done and (snapshot.lesson, step.id) not in learner.done_at
        ]
        with _transaction(self._db):
            self._db.execute(
                "UPDATE learners SET snapshot = ?, received_at = ?, last_seen = ? WHERE id = ?",
                (json.dumps(snapshot.to_json(), separators=(",", ":")), now, now, learner.id),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO steps_done (learner, lesson, step, at) VALUES (?, ?, ?, ?)",
                [(learner.id, lesson, step, now) for lesson, step in newly],
            )
        learner.snapshot = snapshot
        learner.received_at = now
        learner.last_seen = learner.touched_at = now
        for key in newly:
            learner.done_at[key] = now

    def touch(self, learner: Learner) -> None:
        """The learner's tutor is there (it asked for notices); written at most every 10 s."""
        now = self.clock()
        learner.last_seen = now
        if now - learner.touched_at >= TOUCH_EVERY:
            learner.touched_at = now
            with _transaction(self._db):
                self._db.execute("UPDATE learners SET last_seen = ? WHERE id = ?", (now, learner.id))

    # --- notices ----------------------------------------------------------------------

    def post_message(self, text: str) -> RoomMessage:
        notice = RoomMessage(self._next_notice_id(), self.clock(), text)
        self._save_notice(notice)
        return notice

    def post_goto(self, lesson: str | None, step: str) -> GoToStep:
        notice = GoToStep(self._next_notice_id(), self.clock(), lesson, step)
        self._save_notice(notice)
        return notice

    @property
    def last_notice_id(self) -> int:
        return self.notices[-1].id if self.notices else 0

    def notices_after(self, cursor: int) -> list[Notice]:
        return [notice for notice in self.notices if notice.id > cursor]

    def _next_notice_id(self) -> int:
        return self.last_notice_id + 1

    def _save_notice(self, notice: Notice) -> None:
        with _transaction(self._db):
            self._db.execute(
                "INSERT INTO notices (id, body) VALUES (?, ?)",
                (notice.id, json.dumps(notice.to_json(), separators=(",", ":"))),
            )
        self.notices.append(notice)


def _snapshot(text: str | None) -> Snapshot | None:
    if text is None:
        return None
    try:
        return Snapshot.from_json(json.loads(text))
    except (ValueError, SnapshotError):
        # Written by this server, so it parsed once; a newer schema's row is shown as none.
        return None


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
