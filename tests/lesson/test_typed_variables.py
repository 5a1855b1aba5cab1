"""Typed variables: a lesson declares what each of its variables holds, and --set is held to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_tutor
from tests.lesson.helpers import MINIMAL, write_lesson
from tutor.lesson.catalog import Catalog
from tutor.lesson.overrides import BadOverride, parse_overrides
from tutor.lesson.parser import parse_file

TYPED = MINIMAL.replace(
    "variables:\n  port: 8080\n",
    "variables:\n  port: {default: 8080, type: port}\n  replicas: {default: 3, type: count}\n"
    "  app: {default: web, type: name}\n  site: {default: pacman.com, type: host}\n  note: hello\n",
)


def typed(tmp_path: Path):  # type: ignore[no-untyped-def]
    lesson, found = parse_file(write_lesson(tmp_path, TYPED))
    assert lesson is not None, found
    return lesson


def test_day55_declares_the_type_of_each_of_its_variables() -> None:
    day55 = Catalog.discover().get("day55")
    assert day55.variable_types == {
        "kubernetes_version": "string",
        "local_port": "port",
        "player": "name",
        "replicas": "count",
        "ingress_host": "host",
        "ingress_port": "port",
    }


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("port=0", "'0' is not a port"),
        ("port=65536", "is not a port"),
        ("port=80;rm", "is not a port"),
        ("port=８０", "is not a port"),
        ("replicas=-1", "is not a count"),
        ("replicas=lots", "is not a count"),
        ("app=Web_App", "is not a name"),
        ("app=-rf", "is not a name"),
        ("site=evil example", "is not a host"),
        ("site=--proxy=evil", "is not a host"),
        ("note=a\x1b]0;PWNED\x07b", "holds control characters"),
        ("note=two\nlines", "holds control characters"),
        ("namespace=Default", "is not a name"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path, pair: str, says: str) -> None:
    with pytest.raises(BadOverride, match=says):
        parse_overrides(typed(tmp_path), [pair])


@pytest.mark.parametrize(
    "pair",
    ["port=1", "port=65535", "replicas=0", "app=web-2.example", "site=10.0.0.1", "site=::1", "note=a;b $(c) 'd'"],
)
def test_a_value_of_the_right_type_is_taken(tmp_path: Path, pair: str) -> None:
    name, _, value = pair.partition("=")
    assert parse_overrides(typed(tmp_path), [pair]) == {name: value}


def test_the_profile_is_a_name_too(tmp_path: Path) -> None:
    with pytest.raises(BadOverride, match="--profile: '--purge' is not a name"):
        parse_overrides(typed(tmp_path), [], profile="--purge")


def test_lint_checks_the_defaults_and_the_types(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "variables:\n  port: 8080\n",
        "variables:\n  port: {default: 99999, type: port}\n  size: {default: 1, type: big}\n  bare: {type: name}\n",
    )
    _, found = parse_file(write_lesson(tmp_path, text))
    errors = [p.message for p in found if p.severity == "error"]
    assert "variable 'port': its default '99999' is not a port: a port is a whole number from 1 to 65535" in errors
    assert any("variable 'size' has an unknown type 'big'" in error for error in errors)
    assert "variable 'bare' is written {default: VALUE, type: TYPE}" in errors


def test_a_bad_set_on_the_command_line_is_exit_2_with_the_reason() -> None:
    result = run_tutor("day55", "--plain", "--set", "local_port=http")
    assert result.returncode == 2
    assert "k8s-tutor: --set local_port: 'http' is not a port: a port is a whole number from 1 to 65535" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
