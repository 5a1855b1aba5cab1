"""The command line a learner and an instructor type: messages, exit statuses, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.lesson.helpers import MINIMAL, write_lesson
from tutor import __version__
from tutor.cli import SUBCOMMANDS, main
from tutor.lesson.front_matter import RESERVED_IDS
from tutor.progress import Progress, ProgressStore


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"k8s-tutor {__version__}"


def test_list_json_shows_day55_with_all_steps_and_progress(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = ProgressStore()
    store.save(Progress("day55", "mc-demo", completed=["start", "default-storageclass"]))
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (day55,) = [lesson for lesson in data["lessons"] if lesson["id"] == "day55"]
    assert len(day55["steps"]) == 11
    assert day55["steps"][0] == {"id": "start", "title": "Start minikube with the storage addons"}
    assert day55["progress"] == [
        {
            "cluster": "mc-demo",
            "completed": ["start", "default-storageclass"],
            "current": None,
            "updated": day55["progress"][0]["updated"],
        }
    ]


def test_list_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    ProgressStore().save(Progress("day55", "mc-demo", completed=["start"]))
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "day55  State and Ingress in Kubernetes  (11 steps)  mc-demo: 1/11 done" in out
    assert "11. tunnel: Reach the game through the Ingress" in out


def test_lessons_folder_adds_an_instructors_lesson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_lesson(tmp_path, MINIMAL)
    assert main(["list", "--json", "--lessons", str(tmp_path / "lessons")]) == 0
    ids = [lesson["id"] for lesson in json.loads(capsys.readouterr().out)["lessons"]]
    assert ids == ["day55", "demo"]


def test_broken_lesson_in_a_folder_is_skipped_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_lesson(tmp_path, MINIMAL.replace("kind: exists", "kind: nope"))
    assert main(["list", "--lessons", str(tmp_path / "lessons")]) == 0
    err = capsys.readouterr().err
    assert "skipped a broken lesson" in err and "demo.md:22: unknown check kind 'nope'" in err


def test_lint_shipped_lessons_pass() -> None:
    result = run("lint", str(REPO / "lessons"))
    assert result.returncode == 0, result.stdout
    assert "1 lesson file checked: 0 errors" in result.stderr


def test_lint_errors_are_file_line_message_and_exit_1(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, MINIMAL.replace("kind: exists", "kind: exist").replace("{namespace}", "{ns}"))
    result = run("lint", str(tmp_path / "lessons"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:15: unknown variable '{{ns}}'; known: lesson_dir, manifests, namespace, node_ip, port, profile",
        f"{path}:22: unknown check kind 'exist'; known kinds: exists, absent, field_equals, default_storageclass, "
        "pods_ready, pvc_bound, rollout_complete, addon_enabled, ingress_address, http, process_alive, "
        "data_survives, command",
    ]
    assert "2 errors" in result.stderr


def test_lint_duplicate_lesson_ids_and_missing_paths(tmp_path: Path) -> None:
    write_lesson(tmp_path, MINIMAL, "a.md")
    write_lesson(tmp_path, MINIMAL, "b.md")
    result = run("lint", str(tmp_path / "lessons"), str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "lesson id 'demo' is also used by" in result.stdout
    assert f"{tmp_path / 'nope'}: no such file or folder" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["day56"], "no lesson 'day56'; lessons: day55"),
        (
            ["day55", "--step", "nope"],
            "lesson day55 has no step 'nope'; its steps: start, default-storageclass",
        ),
        (["check", "day55", "--step", "nope"], "lesson day55 has no step 'nope'"),
        (["reset", "day99"], "no lesson 'day99'"),
        (["day55", "--set", "colour=red"], "lesson day55 has no variable 'colour'"),
        (["day55", "--set", "oops"], "--set takes NAME=VALUE"),
        (["list", "--lessons", "/does/not/exist"], "lesson folder /does/not/exist does not exist"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["list", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_reset_forgets_progress_without_touching_other_lessons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = ProgressStore()
    store.save(Progress("day55", "mc-demo", completed=["start"]))
    store.save(Progress("other", "mc-demo", completed=["x"]))
    assert main(["reset", "day55", "--yes"]) == 0
    assert "Forgot progress on day55 (1 cluster)" in capsys.readouterr().out
    assert store.all_for("day55") == []
    assert store.all_for("other")[0].completed == ["x"]
    assert main(["reset", "day55", "--yes"]) == 0
    assert "nothing to forget" in capsys.readouterr().out


def test_fast_commands_do_not_load_the_cluster_client_or_textual() -> None:
    code = (
        "import sys, tutor.cli\n"
        "for args in (['list', '--json'], ['lint']):\n"
        "    tutor.cli.main(args)\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "heavy = sorted(roots & {'kubernetes', 'textual', 'sh', 'aiohttp'})\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stderr


def test_reserved_lesson_ids_match_the_cli_commands() -> None:
    assert set(SUBCOMMANDS) == RESERVED_IDS


def test_the_tui_starts_without_garbage_collection_until_its_first_paint(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from tutor.commands import lesson
    from tutor.ui import app

    seen: list[str] = []
    monkeypatch.setattr(lesson, "tui_possible", lambda: True)
    monkeypatch.setattr(lesson, "_install_exit_handlers", lambda: seen.append("exit handlers"))
    monkeypatch.setattr(gc, "freeze", lambda: seen.append("freeze"))

    def run_tui(*args: object, prepare: Callable[[], object], **options: object) -> int:
        seen.append(f"collecting before the first paint: {gc.isenabled()}")
        prepare()  # what the lesson screen does once it is on screen
        seen.append(f"collecting after: {gc.isenabled()}")
        gc.disable()  # as if the app went on without: main must still leave it on
        return 0

    monkeypatch.setattr(app, "run_tui", run_tui)
    assert gc.isenabled()
    assert main(["day55"]) == 0
    assert seen == ["collecting before the first paint: False", "freeze", "exit handlers", "collecting after: True"]
    assert gc.isenabled()


def test_a_command_named_after_options_is_told_to_come_first() -> None:
    result = run("--lessons", str(REPO / "lessons"), "list")
    assert result.returncode == 2
    assert "k8s-tutor: list is a command: name it first (k8s-tutor list [options])" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [c for c in SUBCOMMANDS if c != "workshop"])
def test_every_command_explains_itself_under_its_own_name(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: k8s-tutor {command} ")


def test_the_sandbox_and_workshop_commands_get_the_rest_of_the_line_as_typed() -> None:
    bad_port = run("sandbox", "--port", "http")
    assert bad_port.returncode == 2
    assert "k8s-tutor sandbox: error: argument --port: not a port number: 'http'" in bad_port.stderr
    unknown = run("workshop", "status", "--frobnicate")
    assert unknown.returncode == 2 and "k8s-tutor workshop" in unknown.stderr
    assert "Traceback" not in bad_port.stderr + unknown.stderr
