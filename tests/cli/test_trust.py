"""A lesson from elsewhere is code: it runs nothing until the learner trusts it, as it is."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, run_tutor
from tests.lesson.helpers import MARK
from tests.ui.pty_terminal import Terminal


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "lessons" / "mark.md").write_text(MARK)
    return tmp_path


def tutor(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "K8S_TUTOR_STATE_DIR": str(home / "state"),
        "KUBECONFIG": str(home / "no-kubeconfig"),
        "K8S_TUTOR_LESSONS": str(home / "lessons"),
    }
    return run_tutor(*args, cwd=home / "work", env=env, timeout=90)


def ran(home: Path) -> list[str]:
    return sorted(path.name for path in (home / "work").iterdir())


def test_an_untrusted_lesson_runs_nothing_and_says_how_to_trust_it(home: Path) -> None:
    result = tutor(home, "mark", "--plain", "--autoplay")
    assert result.returncode == 1
    assert ran(home) == []
    assert "lesson mark is from elsewhere and not trusted, so it runs no command" in result.stdout
    assert f"k8s-tutor trust {home / 'lessons' / 'mark.md'}" in result.stdout
    assert "$ touch" in result.stdout  # still readable


def test_trust_for_one_run_with_the_flag(home: Path) -> None:
    result = tutor(home, "mark", "--plain", "--autoplay", "--trust")
    assert result.returncode == 0, result.stdout[-2000:]
    assert ran(home) == ["ran-a-check", "ran-a-command"]
    assert tutor(home, "trust").stdout.startswith("You trust no lesson from elsewhere")


def test_trust_is_remembered_per_content_and_can_be_revoked(home: Path) -> None:
    lesson = home / "lessons" / "mark.md"
    listed = tutor(home, "trust", str(lesson), "--yes")
    assert listed.returncode == 0, listed.stderr
    assert "Programs it runs: touch, echo, true" in listed.stdout
    assert "Trusted mark as it is now" in listed.stdout
    records = json.loads(tutor(home, "trust", "--json").stdout)["trusted"]
    assert [(r["lesson"], r["path"]) for r in records] == [("mark", str(lesson))]
    assert tutor(home, "mark", "--plain", "--autoplay").returncode == 0
    assert ran(home) == ["ran-a-check", "ran-a-command"]

    for name in ran(home):
        (home / "work" / name).unlink()
    lesson.write_text(MARK.replace("Touch it.", "Touch it, please."))  # an edit asks again
    assert tutor(home, "mark", "--plain", "--autoplay").returncode == 1
    assert ran(home) == []

    assert tutor(home, "trust", "mark", "--yes").returncode == 0
    revoked = tutor(home, "trust", "--revoke", "mark")
    assert revoked.returncode == 0 and f"No longer trusted: mark ({lesson})" in revoked.stdout
    assert tutor(home, "mark", "--plain", "--autoplay").returncode == 1
    assert ran(home) == []


def test_a_changed_manifest_asks_again(home: Path) -> None:
    manifests = home / "manifests"
    manifests.mkdir()
    (manifests / "app.yaml").write_text("kind: ConfigMap\n")
    lesson = home / "lessons" / "mark.md"
    lesson.write_text(MARK.replace("echo nothing more", "kubectl apply -f {manifests}/app.yaml"))
    assert tutor(home, "trust", str(lesson), "--yes").returncode == 0
    assert tutor(home, "check", "mark", "--step", "touch").returncode == 0
    (manifests / "app.yaml").write_text("kind: Secret\n")
    assert tutor(home, "check", "mark", "--step", "touch").returncode == 1


def test_check_reports_command_checks_of_an_untrusted_lesson_as_not_run(home: Path) -> None:
    result = tutor(home, "check", "mark", "--json")
    assert result.returncode == 1
    assert ran(home) == []
    report = json.loads(result.stdout)
    first = report["steps"][0]["checks"][0]
    assert first["status"] == "fail"
    assert first["reason"].startswith("not run: lesson mark is from elsewhere and not trusted")
    assert tutor(home, "check", "mark", "--step", "touch", "--trust").returncode == 0
    assert ran(home) == ["ran-a-check"]


def test_reset_runs_no_cleanup_of_an_untrusted_lesson_even_with_yes(home: Path) -> None:
    kubeconfig = home / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
        "clusters: [{name: local, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: local, context: {cluster: local, user: me}}]\nusers: [{name: me, user: {}}]\n"
    )
    result = tutor(home, "reset", "mark", "--cluster", "--yes", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 2, result.stdout + result.stderr
    assert ran(home) == []
    assert "k8s-tutor reset: lesson mark is from elsewhere and not trusted" in result.stderr
    result = tutor(home, "reset", "mark", "--cluster", "--yes", "--trust", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ran(home) == ["ran-a-cleanup"]


def test_an_extra_lesson_never_replaces_a_shipped_one(home: Path) -> None:
    shadow = home / "lessons" / "day55.md"
    shadow.write_text(MARK.replace("id: mark", "id: day55"))
    result = tutor(home, "day55", "--plain", "--autoplay")
    assert result.returncode == 2
    assert str(shadow) in result.stderr
    assert str(REPO / "lessons" / "day55.md") in result.stderr
    assert "a lesson shipped with k8s-tutor" in result.stderr
    assert ran(home) == []


def test_two_extra_lessons_with_one_id_are_an_error_naming_both(home: Path) -> None:
    other = home / "more"
    other.mkdir()
    (other / "again.md").write_text(MARK)
    result = run_tutor("list", "--lessons", str(home / "lessons"), "--lessons", str(other))
    assert result.returncode == 2
    assert f"{other / 'again.md'}: lesson id 'mark' is also the id of {home / 'lessons' / 'mark.md'}" in (result.stderr)


def test_the_plain_view_asks_once_and_no_is_the_default(home: Path) -> None:
    args = ["mark", "--plain", "--lessons", str(home / "lessons")]
    env = {"K8S_TUTOR_STATE_DIR": str(home / "state"), "KUBECONFIG": str(home / "no-kubeconfig")}
    term = Terminal(args, home / "work", env=env)
    try:
        term.wait_for(lambda: term.shows("Trust it and let it run its commands? [y/N]"), what="the question")
        assert term.shows("Programs it runs: touch, echo, true")
        term.type("\r")  # Enter: no
        term.wait_for(lambda: term.shows("not trusted, so it runs no command"), what="the refusal")
        term.type("\r")  # Enter at the lesson: run the step's commands
        term.wait_for(lambda: term.shows("Warning: lesson mark is from elsewhere"), what="the warning")
        term.type("q\r")
        assert term.ended() == 0
    finally:
        term.close()
    assert ran(home) == []
    term = Terminal(args, home / "work", env=env)
    try:
        term.wait_for(lambda: term.shows("[y/N]"), what="the question")
        term.type("y\r")
        term.wait_for(lambda: term.shows("Step 1 of 2"), what="the lesson")
        term.type("q\r")
        term.ended()
    finally:
        term.close()
    assert json.loads((home / "state" / "trust" / "lessons.json").read_text())["lessons"][0]["lesson"] == "mark"


def test_trusting_asks_at_a_terminal_or_takes_yes(home: Path) -> None:
    result = tutor(home, "trust", "mark")
    assert result.returncode == 2
    assert "trusting a lesson asks you at a terminal; to trust it without asking, add --yes" in result.stderr
    assert "Programs it runs: touch, echo, true" in result.stdout  # shown all the same
    assert tutor(home, "trust", "day55").stdout == "day55 is shipped with k8s-tutor: it needs no trust.\n"
    assert tutor(home, "trust", "--revoke", "mark").returncode == 1
    assert tutor(home, "trust", "--revoke").returncode == 2
