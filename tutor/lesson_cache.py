"""Parsed lessons kept on disk, as plain data, so opening a lesson does not parse it again.

Parsing a lesson (Markdown, YAML front matter and checks, every check validated) and
importing what parses it cost the TUI's start about 45 ms of its first paint; parsing
its prose as the TUI draws it (`tutor.lesson.prose`), ~35 ms more. A parsed lesson and
the documents of its prose (with the lesson's own variables) are kept as JSON in the
user's cache folder (`K8S_TUTOR_CACHE_DIR` overrides it), and used again only while all
of this is unchanged: the lesson file (its size and modification time), the existence
of every other file or folder its parse looked at (the manifests it names: a lesson
whose manifest went missing must fail again), this k8s-tutor's version and the code of
its lesson layer, and Python's version.

An entry is data, never code: JSON whose objects can only become the lesson model's own
dataclasses (`_CLASSES`). It is read only from a folder the tutor made (0700, this
user's, writable by no one else) and only if the file is this user's and no one else
may write it (`tutor.private_files`). Anything else (a missing, unreadable, foreign or
damaged entry, a folder that is not private or not writable) means: parse the file, as
without a cache. A lesson that does not parse is not kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import zlib
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from tutor import __version__
from tutor.lesson import prose
from tutor.lesson.model import CheckSpec, Choice, Command, CommandBlock, Hint, Lesson, Prose, Question, Step
from tutor.lesson.paths import path_kind
from tutor.lesson.place import Place, When
from tutor.private_files import private_dir, read_private, write_private

FORMAT = 2
"""1 was pickled; 2 is JSON."""

_CLASSES: Mapping[str, type] = {
    cls.__name__: cls
    for cls in (Lesson, Step, Prose, CommandBlock, CheckSpec, Hint, Command, Question, Choice, When, Place)
}


def cache_dir() -> Path:
    override = os.environ.get("K8S_TUTOR_CACHE_DIR")
    if override:
        return Path(override).expanduser() / "lessons"
    import platformdirs

    return Path(platformdirs.user_cache_dir("k8s-tutor", appauthor=False)) / "lessons"


def _code_stamp() -> list[object]:
    """What the kept lesson's shape depends on: the lesson layer's code."""
    folder = Path(__file__).parent / "lesson"
    stamps: list[object] = [FORMAT, __version__, sys.version]
    for path in sorted(folder.glob("*.py")):
        stat = path.stat()
        stamps.append([path.name, stat.st_size, stat.st_mtime_ns])
    return stamps


def _file_stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _entry(path: Path) -> Path:
    # Two paths with one name and checksum share an entry: the stamp holds the path, so they
    # only take turns (zlib, not hashlib: a millisecond less to import on the way to a lesson).
    return cache_dir() / f"{path.stem}-{zlib.crc32(str(path).encode()):08x}.json"


def load(path: Path) -> Lesson:
    """The lesson in `path`, from the cache when it still holds; raises LessonError as `parser.load`."""
    stamp: list[object] | None
    try:
        path = path.resolve()
        stamp = [_code_stamp(), str(path), _file_stamp(path)]
    except (OSError, RuntimeError):  # missing, unreadable, a symlink loop: the parser says which
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


def _read(entry: Path, stamp: list[object]) -> Lesson | None:
    try:
        private_dir(entry.parent, create=False)
        kept = json.loads(read_private(entry))
        if kept["stamp"] != stamp:
            return None
        looked_at = kept["looked_at"]
        lesson = _decode(kept["lesson"])
        documents = {text: _document(document) for text, document in kept["documents"].items()}
    except Exception:  # missing, foreign, damaged, or written by another version: parse instead
        return None
    if not isinstance(lesson, Lesson):
        return None
    if any(path_kind(Path(other)) != kind for other, kind in looked_at):
        return None
    prose.remember(documents)
    return lesson


def _write(
    entry: Path,
    stamp: list[object],
    lesson: Lesson,
    looked_at: Mapping[Path, str],
    documents: Mapping[str, prose.Document | None],
) -> None:
    with contextlib.suppress(OSError, TypeError, ValueError):
        encoded = _encode(lesson)
        if _decode(json.loads(json.dumps(encoded))) != lesson:
            return  # a value JSON cannot hold as it is (a YAML date in a check): not kept
        data = {
            "stamp": stamp,
            "looked_at": [[str(other), kind] for other, kind in looked_at.items()],
            "lesson": encoded,
            "documents": dict(documents),
        }
        private_dir(entry.parent)
        write_private(entry, json.dumps(data, separators=(",", ":")).encode("utf-8"))


# --- the model as JSON ------------------------------------------------------------------
# Tagged objects: {"@": class name, ...fields} for the model's dataclasses, {"@t": [...]}
# for a tuple, {"@p": "..."} for a path, {"@d": {...}} for any other mapping.


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _CLASSES.get(name) is not type(value):
            raise TypeError(f"not a lesson model class: {name}")
        return {"@": name, **{item.name: _encode(getattr(value, item.name)) for item in fields(value)}}
    if isinstance(value, tuple):
        return {"@t": [_encode(item) for item in value]}
    if isinstance(value, Path):
        return {"@p": str(value)}
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("a mapping with keys that are not text")
        return {"@d": {key: _encode(item) for key, item in value.items()}}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "@t" in value:
        return tuple(_decode(item) for item in value["@t"])
    if "@p" in value:
        return Path(value["@p"])
    if "@d" in value:
        return {key: _decode(item) for key, item in value["@d"].items()}
    cls = _CLASSES[value["@"]]  # KeyError for anything else: the entry is not used
    return cls(**{key: _decode(item) for key, item in value.items() if key != "@"})


def _document(value: Any) -> prose.Document | None:
    if value is None:
        return None
    return tuple(
        (int(level), str(text), tuple((int(a), int(b), str(style), str(link)) for a, b, style, link in spans))
        for level, text, spans in value
    )
