"""Whatever an author's editor does to a lesson, lint answers with problems, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO
from tutor.lesson.parser import parse_text
from tutor.lesson.place import BACKENDS, PLATFORMS, Place
from tutor.lesson.questions import solution

DAY55 = (REPO / "lessons" / "day55.md").read_text()
LINES = DAY55.splitlines(keepends=True)
NASTY = [
    "---\n",
    ":::\n",
    "::: step {#x}\n",
    "```\n",
    "```yaml {checks}\n",
    "```sh {background}\n",
    "> [!TIP]\n",
    "> [!TIP] {platform=wsl2}\n",
    "::: only {backend=real}\n",
    "::: only {backend=sandbox platform=nope}\n",
    "```yaml {question}\n",
    "```sh {backend=real}\n",
    "choices:\n",
    "  - text: x\n",
    "answer: [\n",
    "- kind: http\n",
    "  url: {nope}\n",
    "{",
    "}",
    '"',
    "'",
    "\\\n",
    "\t",
    "\x00",
    "\ufeff",
    "- [\n",
    "kind:\n",
]

edits = st.lists(
    st.tuples(
        st.sampled_from(["delete", "duplicate", "insert", "truncate", "swap"]),
        st.integers(min_value=0, max_value=len(LINES) - 1),
        st.one_of(st.sampled_from(NASTY), st.text(max_size=12)),
    ),
    min_size=1,
    max_size=6,
)


def mangle(plan: list[tuple[str, int, str]]) -> str:
    lines = list(LINES)
    for action, index, text in plan:
        index %= max(len(lines), 1)
        if not lines:
            lines = [text]
        elif action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "insert":
            lines.insert(index, text)
        elif action == "truncate":
            lines[index] = lines[index][: len(lines[index]) // 2]
        else:
            lines[index], lines[-1 - index] = lines[-1 - index], lines[index]
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits)
def test_mangled_lessons_never_crash_the_parser(plan: list[tuple[str, int, str]]) -> None:
    lesson, problems = parse_text(mangle(plan), REPO / "lessons" / "mangled.md")
    for problem in problems:
        assert problem.line >= 1
        assert problem.message
    if lesson is None:
        assert any(p.severity == "error" for p in problems)
        return
    # Whatever survives lint can be chosen for every place, and its questions answered.
    for backend in BACKENDS:
        for platform in PLATFORMS:
            chosen = lesson.for_place(Place(backend, platform))
            assert [step.id for step in chosen.steps] == [step.id for step in lesson.steps]
    for step in lesson.steps:
        for question in step.questions:
            assert solution(question)[1].correct


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    lesson, problems = parse_text(text, Path("x.md"))
    assert lesson is not None or problems


def test_lint_command_reports_mangled_files_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.md"
    broken.write_text(
        DAY55.replace(":::\n\n::: step {#volumes", "\n::: step {#volumes").replace(
            "kind: pvc_bound", "kind: pvc_boundd"
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "lint", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert all(line.startswith(f"{broken}:") for line in lines), lines
    assert any("a step starts inside step 'deploy'" in line for line in lines)
