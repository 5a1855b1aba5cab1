"""Prose, hints, commands and questions for one backend or platform: parsed, linted, chosen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.lesson.helpers import MINIMAL, write_lesson
from tutor import lesson_cache
from tutor.lesson.model import CommandBlock, Lesson, Prose
from tutor.lesson.parser import load, parse_file
from tutor.lesson.place import ALWAYS, BACKENDS, PLATFORMS, Place, When

WHERE = """\
---
id: where
title: Where you are
---

::: step {#one title="One"}
Everywhere.

::: only {backend=sandbox}
Only on the sandbox.
:::

::: only {backend=real}
Only on a real cluster.

::: only {platform=wsl2}
Only in WSL2, on a real cluster.
:::
:::

```sh {platform=macos,windows}
echo desktop
```

```sh
echo everywhere
```

> [!TIP]
> A hint for all.

> [!TIP] {backend=sandbox}
> A hint for the sandbox.

```yaml {checks}
- kind: command
  run: "true"
```
:::
"""


def errors_of(path: Path) -> list[str]:
    _, problems = parse_file(path)
    return [f"{p.line}: {p.message}" for p in problems if p.severity == "error"]


def seen(lesson: Lesson, place: Place) -> tuple[list[str], list[str], list[str]]:
    """What a learner in `place` reads, runs and may ask for, in order."""
    step = lesson.for_place(place).steps[0]
    prose = [block.markdown for block in step.blocks if isinstance(block, Prose)]
    commands = [command.text for command in step.commands]
    hints = [hint.markdown for hint in step.hints]
    return prose, commands, hints


def test_each_place_reads_and_runs_only_what_is_written_for_it(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, WHERE))
    assert seen(lesson, Place("sandbox", "linux")) == (
        ["Everywhere.", "Only on the sandbox."],
        ["echo everywhere"],
        ["A hint for all.", "A hint for the sandbox."],
    )
    assert seen(lesson, Place("sandbox", "macos"))[1] == ["echo desktop", "echo everywhere"]
    assert seen(lesson, Place("real", "linux")) == (
        ["Everywhere.", "Only on a real cluster."],
        ["echo everywhere"],
        ["A hint for all."],
    )
    assert seen(lesson, Place("real", "wsl2"))[0] == [
        "Everywhere.",
        "Only on a real cluster.",
        "Only in WSL2, on a real cluster.",
    ]
    assert seen(lesson, Place("real", "windows"))[1] == ["echo desktop", "echo everywhere"]


def test_the_lesson_as_written_keeps_every_variant_with_its_condition(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, WHERE))
    step = lesson.steps[0]
    assert lesson.place is None
    assert [block.when for block in step.blocks if isinstance(block, Prose)] == [
        ALWAYS,
        When(("sandbox",)),
        When(("real",)),
        When(("real",), ("wsl2",)),
    ]
    assert [block.when for block in step.blocks if isinstance(block, CommandBlock)] == [
        When((), ("macos", "windows")),
        ALWAYS,
    ]
    assert [hint.when for hint in step.hints] == [ALWAYS, When(("sandbox",))]


def test_a_chosen_lesson_is_chosen_once(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, WHERE))
    sandbox = lesson.for_place(Place("sandbox", "linux"))
    assert sandbox.place == Place("sandbox", "linux")
    assert all(block.when == ALWAYS for block in sandbox.steps[0].blocks)
    # What was left out stays out: the views and the session see one lesson.
    assert sandbox.for_place(Place("real", "wsl2")) is sandbox


def test_every_place_gets_a_lesson(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, WHERE))
    for backend in BACKENDS:
        for platform in PLATFORMS:
            chosen = lesson.for_place(Place(backend, platform))
            assert chosen.steps[0].checks == lesson.steps[0].checks
            assert "Everywhere." in chosen.steps[0].prose


def test_a_conditional_lesson_survives_the_lesson_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_TUTOR_CACHE_DIR", str(tmp_path / "cache"))
    path = write_lesson(tmp_path, WHERE)
    first = lesson_cache.load(path)
    (entry,) = lesson_cache.cache_dir().glob("*.json")
    assert '"When"' in entry.read_text()
    again = lesson_cache.load(path)
    assert again == first
    assert json.loads(entry.read_text())["lesson"]["@"] == "Lesson"


def test_a_marker_inside_example_code_closes_nothing(tmp_path: Path) -> None:
    text = MINIMAL.replace("Run this:", "A step looks like this:\n\n```markdown\n::: step {#x}\n:::\n```\n\nRun this:")
    lesson = load(write_lesson(tmp_path, text))
    assert len(lesson.steps) == 1
    assert lesson.steps[0].checks, "the step went on past the example"
    assert "::: step {#x}" in lesson.steps[0].prose


def test_an_unknown_block_inside_a_step_does_not_end_the_step(tmp_path: Path) -> None:
    text = MINIMAL.replace("Run this:", "::: warning\nCareful.\n:::\n\nRun this:")
    found = errors_of(write_lesson(tmp_path, text))
    assert "12: unknown block '::: warning'; the blocks are '::: step' and '::: only'" in found
    assert not any("has no checks" in message for message in found), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("{backend=sandbox}\nOnly", "{backend=minikube}\nOnly"), "9: unknown backend 'minikube'"),
        (lambda t: t.replace("{platform=wsl2}", "{platform=wsl}"), "16: unknown platform 'wsl'; known: linux, macos"),
        (lambda t: t.replace("sh {platform=macos,windows}", "sh {platform=macos,darwin}"), "21: unknown platform"),
        (lambda t: t.replace("[!TIP] {backend=sandbox}", "[!TIP] {backend=sandbx}"), "32: unknown backend 'sandbx'"),
        (lambda t: t.replace("[!TIP] {backend=sandbox}", "[!TIP] {os=linux}"), "32: unknown hint attribute 'os'"),
        (lambda t: t.replace("{backend=sandbox}\nOnly", "{os=linux}\nOnly"), "9: unknown '::: only' attribute 'os'"),
        (lambda t: t.replace("::: only {backend=sandbox}", "::: only"), "9: '::: only' needs a condition"),
        (
            lambda t: t.replace("{platform=wsl2}", "{backend=sandbox}"),
            "16: this applies nowhere: it is inside a block for backend=real",
        ),
        (
            lambda t: t.replace("Only on the sandbox.", "```yaml {checks}\n- kind: command\n  run: 'true'\n```"),
            "10: checks apply everywhere: keep the checks block outside '::: only'",
        ),
        (
            lambda t: t.replace("```sh\necho everywhere", "```sh {cleanup backend=real}\necho everywhere"),
            "25: cleanup runs wherever the lesson is reset",
        ),
        (
            lambda t: t.replace("---\n\n::: step", "---\n\n::: only {backend=real}\nIntro.\n:::\n\n::: step"),
            "6: '::: only' belongs inside a step",
        ),
        (
            lambda t: t.replace("Everywhere.", "- a list\n\n  ::: only {backend=real}\n  inside\n  :::"),
            "9: '::: only' starts a line of its own in a step",
        ),
        (
            lambda t: t.replace(
                "```sh\necho everywhere\n```", "```sh {background id=fwd platform=linux}\nsleep 99\n```"
            ).replace('- kind: command\n  run: "true"', "- kind: process_alive\n  process: fwd"),
            "37: background command 'fwd' runs only with platform=linux, but checks apply everywhere",
        ),
    ],
)
def test_each_conditional_problem_is_reported_on_its_line(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    found = errors_of(write_lesson(tmp_path, change(WHERE)))
    assert any(message.startswith(expected) for message in found), found


def test_node_ip_is_for_checks_only(tmp_path: Path) -> None:
    text = MINIMAL.replace("kubectl get pods -n {namespace}", "curl http://{node_ip}/")
    found = errors_of(write_lesson(tmp_path, text))
    assert any(m.startswith("15: '{node_ip}' is read from the cluster for checks only") for m in found), found
    in_check = MINIMAL.replace("kind: exists\n  object: deployment/web", "kind: http\n  url: http://{node_ip}/")
    assert errors_of(write_lesson(tmp_path, in_check)) == []
