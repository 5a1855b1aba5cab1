"""Parsed lessons kept on disk, so opening a lesson does not parse it again.

Parsing a lesson (Markdown, YAML front matter and checks, every check validated) and
importing what parses it cost the TUI's start about 45 ms of its first paint; parsing
its prose as the TUI draws it (`tutor.lesson.prose`), ~35 ms more. A parsed lesson and
the documents of its prose (with the lesson's own variables) are kept, pickled, in the
user's cache folder (`K8S_TUTOR_CACHE_DIR` overrides it), and used again only while all
of this is unchanged: the lesson file (its size and modification time), the existence
of every other file or folder its parse looked at (the manifests it names: a lesson
whose manifest went missing must fail again), this k8s-tutor's version and the code of
its lesson layer, and Python's version. Anything else (a missing, unreadable or foreign
entry, a read-only folder) means: parse the file, as without a cache. Only k8s-tutor
writes there, in a folder only the user can read; a lesson that does not parse is not
kept.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path

from tutor import __version__
from tutor.lesson import prose
from tutor.lesson.model import Lesson
from tutor.lesson.paths import path_kind

FORMAT = 1


def cache_dir() -> Path:
    override = os.environ.get("K8S_TUTOR_CACHE_DIR")
    if override:
        return Path(override).expanduser() / "lessons"
    import platformdirs

    return Path(platformdirs.user_cache_dir("k8s-tutor", appauthor=False)) / "lessons"


def _code_stamp() -> tuple[object, ...]:
    """What the pickled lesson's shape depends on: the lesson layer's code."""
    folder = Path(__file__).parent / "lesson"
    stamps: list[object] = [FORMAT, __version__, sys.version]
    for path in sorted(folder.glob("*.py")):
        stat = path.stat()
        stamps.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def _file_stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _entry(path: Path) -> Path:
    # Two paths with one name and checksum share an entry: the stamp holds the path, so they
    # only take turns (zlib, not hashlib: a millisecond less to import on the way to a lesson).
    return cache_dir() / f"{path.stem}-{zlib.crc32(str(path).encode()):08x}.pickle"


def load(path: Path) -> Lesson:
    """The lesson in `path`, from the cache when it still holds; raises LessonError as `parser.load`."""
    path = path.resolve()
    try:
        stamp = (_code_stamp(), str(path), _file_stamp(path))
    except OSError:
        stamp = None
    if stamp is not None:
        kept = _read(_entry(path), stamp)
        if kept is not None:
            return kept
    from tutor.lesson.parser import load_traced

    lesson, looked_at = load_traced(path)
    if stamp is not None:
        _write(_entry(path), stamp, lesson, looked_at, prose.documents_for(lesson))
    return lesson


def _read(entry: Path, stamp: tuple[object, ...]) -> Lesson | None:
    try:
        with entry.open("rb") as handle:
            kept_stamp, looked_at, lesson, documents = pickle.load(handle)
    except Exception:  # missing, unreadable, or written by another version: parse instead
        return None
    if kept_stamp != stamp or not isinstance(lesson, Lesson):
        return None
    if any(path_kind(other) != kind for other, kind in looked_at.items()):
        return None
    prose.remember(documents)
    return lesson


def _write(
    entry: Path,
    stamp: tuple[object, ...],
    lesson: Lesson,
    looked_at: Mapping[Path, str],
    documents: Mapping[str, prose.Document | None],
) -> None:
    import tempfile  # only when writing: not on the way to a cached lesson

    with contextlib.suppress(OSError, pickle.PicklingError):
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".lesson-", suffix=".tmp", dir=entry.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump((stamp, dict(looked_at), lesson, dict(documents)), out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, entry)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
