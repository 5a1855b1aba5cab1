"""The object map's subjects: what a lesson's checks are about, and its front matter's `map:`,
parsed and linted like the rest of the lesson."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.lesson.helpers import MINIMAL, write_lesson
from tutor import lesson_cache
from tutor.lesson import map_subjects
from tutor.lesson.map_subjects import MapSubject
from tutor.lesson.model import CheckSpec, MapEntry
from tutor.lesson.parser import load, parse_file
from tutor.lesson.schema import CHECK_KINDS


def with_map(entries: str) -> str:
    return MINIMAL.replace("variables:\n", f"map:\n{entries}variables:\n", 1)


def problems_of(path: Path) -> list[str]:
    _, problems = parse_file(path)
    return [f"{p.severity} {p.line}: {p.message}" for p in problems]


def test_day55_starts_from_its_checks_and_its_map() -> None:
    lesson = load(REPO / "lessons" / "day55.md")
    found = map_subjects.subjects(lesson)
    # The front matter's first, as the author said, then what the checks name, step by step.
    assert found[:3] == (
        MapSubject("storageclass", "csi-hostpath-sc", step="start", declared=True),
        MapSubject("service", "mongo", step="deploy", declared=True),
        MapSubject("service", "pacman", step="deploy", declared=True),
    )
    assert MapSubject("statefulset", "mongo", namespace=None, step="deploy") in found
    assert MapSubject("persistentvolumeclaim", "mongo-data-mongo-0", step="volumes") in found
    assert MapSubject("pod", None, "name=mongo", step="mongo-restart") in found
    assert MapSubject("ingress", "pacman-ingress", step="ingress") in found
    assert MapSubject("deployment", "pacman", step="deploy") in found
    # What checks name that the map does not draw (the node, addons) is not a subject.
    assert {subject.kind for subject in found} <= set(map_subjects.MAP_KINDS)


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        ("exists", {"object": "deploy/web"}, [MapSubject("deployment", "web")]),
        ("exists", {"object": "node/{profile}"}, []),
        ("pvc_bound", {"name": "data", "namespace": "db"}, [MapSubject("persistentvolumeclaim", "data", None, "db")]),
        ("pods_ready", {"selector": "app=web"}, [MapSubject("pod", None, "app=web")]),
        ("absent", {"object": "pod/old"}, []),  # what must not exist is not built
        (
            "http",
            {"url": "http://x/", "served_by": {"kind": "deployment", "name": "pacman"}},
            [MapSubject("deployment", "pacman")],
        ),
    ],
)
def test_what_a_check_is_about(kind: str, fields: dict[str, object], expected: list[MapSubject]) -> None:
    assert map_subjects.check_subjects(CheckSpec(kind, fields, line=1)) == expected


def test_every_check_kind_says_what_it_is_about() -> None:
    for kind in CHECK_KINDS:
        map_subjects.check_subjects(CheckSpec(kind, {}, line=1))  # no kind the map does not know


def test_entries_are_read_with_their_lines(tmp_path: Path) -> None:
    path = write_lesson(
        tmp_path, with_map('  - service/web\n  - {object: "pvc/data-{port}", namespace: db, step: first}\n')
    )
    lesson = load(path)
    assert lesson.map == (
        MapEntry("service/web", 6),
        MapEntry("pvc/data-{port}", 7, "db", "first"),
    )
    # The lesson cache keeps them: written on the first load, read back on the second.
    assert lesson_cache.load(path).map == lesson.map
    assert lesson_cache.load(path).map == lesson.map


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ("  service/web\n", "error 5: front matter 'map' must be a list of objects"),
        ("  - 3\n", "error 6: a map entry is KIND/NAME"),
        ("  - {object: service/web, colour: red}\n", "error 6: a map entry has no key 'colour'"),
        ("  - {step: first}\n", "error 6: a map entry needs 'object'"),
        ("  - {object: service/web, step: 2}\n", "error 6: the map entry's 'step' must be text"),
        ("  - service\n", "error 6: map entry: "),
        ("  - configmap/settings\n", "error 6: the map does not draw configmaps"),
        ("  - {object: storageclass/fast, namespace: db}\n", "error 6: storageclasses belong to no namespace"),
        ("  - {object: service/web, step: second}\n", "error 6: the map entry's step 'second' is not a step"),
        ("  - service/x-{nothing}\n", "error 6: unknown variable '{nothing}'"),
        ("  - service/web\n  - svc/web\n", "warning 7: svc/web is in the map already (line 6)"),
    ],
)
def test_each_problem_is_reported_on_its_line(tmp_path: Path, entries: str, expected: str) -> None:
    found = problems_of(write_lesson(tmp_path, with_map(entries)))
    assert any(message.startswith(expected) for message in found), found
