"""Parsed lessons kept on disk: used while they hold, parsed again as soon as anything they rest on changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.lesson.helpers import MINIMAL, write_lesson
from tutor import lesson_cache
from tutor.lesson import parser
from tutor.lesson.catalog import Catalog
from tutor.lesson.parser import LessonError

WITH_MANIFEST = MINIMAL.replace("kubectl get pods -n {namespace}", "kubectl apply -f {manifests}/web.yaml")


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every lesson file the parser reads from here on."""
    seen: list[Path] = []
    real = parser.load_traced

    def counting(path: Path) -> tuple[object, ...]:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(parser, "load_traced", counting)
    return seen


def test_a_lesson_is_parsed_once_then_read_back_equal(tmp_path: Path, parses: list[Path]) -> None:
    path = write_lesson(tmp_path, MINIMAL)
    first = lesson_cache.load(path)
    again = lesson_cache.load(path)
    assert len(parses) == 1
    assert again == first
    assert again.steps[0].commands[0].argv == first.steps[0].commands[0].argv


def test_an_edited_lesson_is_parsed_again(tmp_path: Path, parses: list[Path]) -> None:
    path = write_lesson(tmp_path, MINIMAL)
    lesson_cache.load(path)
    path.write_text(MINIMAL.replace("Demo lesson", "Edited lesson"), encoding="utf-8")
    assert lesson_cache.load(path).title == "Edited lesson"
    assert len(parses) == 2


def test_a_lesson_whose_manifest_went_missing_fails_again(tmp_path: Path, parses: list[Path]) -> None:
    path = write_lesson(tmp_path, WITH_MANIFEST)
    manifest = tmp_path / "manifests" / "web.yaml"
    manifest.write_text("kind: Deployment\n", encoding="utf-8")
    lesson_cache.load(path)
    lesson_cache.load(path)
    assert len(parses) == 1
    manifest.unlink()
    with pytest.raises(LessonError, match=r"web\.yaml' not found"):
        lesson_cache.load(path)
    manifest.write_text("kind: Deployment\n", encoding="utf-8")
    lesson_cache.load(path)  # what was kept holds again; the failed parse kept nothing
    assert len(parses) == 2


def test_a_new_version_of_the_tutor_parses_again(
    tmp_path: Path, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lesson(tmp_path, MINIMAL)
    lesson_cache.load(path)
    monkeypatch.setattr(lesson_cache, "__version__", "99.0")
    lesson_cache.load(path)
    assert len(parses) == 2


def test_a_damaged_entry_or_a_read_only_folder_only_costs_a_parse(
    tmp_path: Path, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lesson(tmp_path, MINIMAL)
    lesson_cache.load(path)
    (entry,) = lesson_cache.cache_dir().glob("*.json")
    entry.write_bytes(b"not JSON")
    assert lesson_cache.load(path).id == "demo"
    assert len(parses) == 2
    monkeypatch.setenv("K8S_TUTOR_CACHE_DIR", str(tmp_path / "file-not-folder"))
    (tmp_path / "file-not-folder").write_text("", encoding="utf-8")
    assert lesson_cache.load(path).id == "demo"
    assert lesson_cache.load(path).id == "demo"
    assert len(parses) == 4


def test_only_the_user_can_read_the_cache(tmp_path: Path) -> None:
    lesson_cache.load(write_lesson(tmp_path, MINIMAL))
    assert os.stat(lesson_cache.cache_dir()).st_mode & 0o077 == 0


def test_the_catalog_through_the_cache_finds_the_same_lessons(parses: list[Path]) -> None:
    plain = Catalog.discover()
    cached = Catalog.discover(loader=lesson_cache.load)
    cached_again = Catalog.discover(loader=lesson_cache.load)
    assert cached.lessons == cached_again.lessons == plain.lessons
    assert len(parses) == 2 * len(plain.lessons)  # the plain discovery and the first cached one


def test_the_lesson_cache_is_plain_json(tmp_path: Path, parses: list[Path]) -> None:
    path = write_lesson(tmp_path, MINIMAL)
    lesson = lesson_cache.load(path)
    (entry,) = lesson_cache.cache_dir().glob("*.json")
    kept = json.loads(entry.read_text())
    assert kept["lesson"]["@"] == "Lesson" and kept["lesson"]["id"] == "demo"
    assert os.stat(entry).st_mode & 0o777 == 0o600
    assert lesson_cache.load(path) == lesson
    assert len(parses) == 1


@pytest.mark.parametrize("damage", ["group-writable entry", "open folder", "symlinked entry", "foreign class"])
def test_a_cache_entry_that_is_not_the_tutors_own_is_ignored_and_rebuilt(
    tmp_path: Path, parses: list[Path], damage: str
) -> None:
    path = write_lesson(tmp_path, MINIMAL)
    lesson_cache.load(path)
    (entry,) = lesson_cache.cache_dir().glob("*.json")
    if damage == "group-writable entry":
        entry.chmod(0o664)
    elif damage == "open folder":
        entry.parent.chmod(0o777)
    elif damage == "symlinked entry":
        planted = tmp_path / "planted.json"
        shutil.copy(entry, planted)
        entry.unlink()
        entry.symlink_to(planted)
    else:
        kept = json.loads(entry.read_text())
        kept["lesson"]["@"] = "Path"  # a class the cache never makes: never constructed
        entry.write_text(json.dumps(kept))
    assert lesson_cache.load(path).id == "demo"
    assert len(parses) == 2
    if damage == "foreign class":  # its own entry, rewritten: read back on the next start
        assert lesson_cache.load(path).id == "demo"
        assert len(parses) == 2
