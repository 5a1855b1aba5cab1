"""The lesson parser: what an author writes becomes the steps, commands and checks the tutor runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.lesson.helpers import MINIMAL, write_lesson
from tutor.lesson.model import CommandBlock, Prose
from tutor.lesson.parser import load, parse_file


def errors_of(path: Path) -> list[str]:
    _, problems = parse_file(path)
    return [f"{p.line}: {p.message}" for p in problems if p.severity == "error"]


def test_day55_lesson_has_every_step_of_the_lesson() -> None:
    lesson = load(REPO / "lessons" / "day55.md")
    assert lesson.id == "day55"
    assert lesson.profile == "mc-demo"
    assert lesson.namespace == "pacman"
    assert [step.id for step in lesson.steps] == [
        "start",
        "default-storageclass",
        "deploy",
        "volumes",
        "port-forward",
        "high-score",
        "mongo-restart",
        "scale",
        "ingress-addon",
        "ingress",
        "tunnel",
    ]
    for step in lesson.steps:
        assert step.checks, step.id
        assert step.hints, step.id


def test_day55_commands_are_argv_with_variables_filled_in() -> None:
    lesson = load(REPO / "lessons" / "day55.md")
    values = lesson.defaults()
    patch = lesson.step("default-storageclass").runnable[1]
    argv = [arg for arg in patch.argv]
    assert argv[:4] == ["kubectl", "patch", "storageclass", "csi-hostpath-sc"]
    # The JSON body stays one argument, braces untouched: no shell, no escaping.
    assert argv[5] == '{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}'
    start = lesson.step("start").runnable[0]
    assert start.display(values).startswith("minikube start -p mc-demo --kubernetes-version=v1.31.0")
    create = lesson.step("deploy").runnable[1]
    manifest = Path(create.display(values).split()[-1])
    assert manifest.is_file() and manifest.name == "pacman-stateful.yaml"


def test_day55_background_commands_and_cleanup() -> None:
    lesson = load(REPO / "lessons" / "day55.md")
    forward = lesson.step("port-forward").commands[0]
    assert forward.background and forward.id == "pacman-forward"
    assert forward.ready == "Forwarding from"
    tunnel = lesson.step("tunnel").commands[0]
    assert tunnel.background and tunnel.id == "tunnel"
    addon_cleanup = lesson.step("ingress-addon").cleanup
    assert addon_cleanup[0].argv[-2:] == ("disable", "ingress")
    assert addon_cleanup[0].ask
    assert lesson.step("deploy").cleanup[0].argv[:3] == ("kubectl", "delete", "-f")


def test_checks_keep_author_values_and_resolve_variables_late() -> None:
    lesson = load(REPO / "lessons" / "day55.md")
    scale = lesson.step("scale")
    rollout = scale.checks[0]
    assert rollout.kind == "rollout_complete"
    assert rollout.fields["replicas"] == "{replicas}"
    assert rollout.resolved(lesson.defaults(replicas="7"))["replicas"] == "7"
    survives = lesson.step("mongo-restart").checks[1]
    assert survives.kind == "data_survives"
    assert survives.title == "the high score survived mongo-0's replacement"


def test_prose_commands_and_hints_are_separated_in_order(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, MINIMAL))
    step = lesson.steps[0]
    assert isinstance(step.blocks[0], Prose) and step.blocks[0].markdown == "Run this:"
    assert isinstance(step.blocks[1], CommandBlock)
    assert step.commands[0].argv == ("kubectl", "get", "pods", "-n", "{namespace}")
    assert step.commands[0].line == 15
    assert [hint.markdown for hint in step.hints] == ["Look at the pods."]
    assert "[!TIP]" not in step.prose
    assert lesson.intro == "Intro text."


def test_step_title_may_come_from_its_first_heading(tmp_path: Path) -> None:
    text = MINIMAL.replace('{#first title="First step"}', "{#first}").replace(
        "Run this:", "## Look around\n\nRun this:"
    )
    lesson = load(write_lesson(tmp_path, text))
    assert lesson.steps[0].title == "Look around"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda t: t.replace("```yaml {checks}\n- kind: exists\n  object: deployment/web\n```\n:::\n", ""),
            "11: this step is never closed with ':::'",
        ),
        (lambda t: t.replace("kind: exists", "kind: exist"), "22: unknown check kind 'exist'"),
        (
            lambda t: t.replace("object: deployment/web", "object: deploymnt/web"),
            "23: check 'exists', field 'object': unknown kind 'deploymnt'",
        ),
        (
            lambda t: t.replace("object: deployment/web", "objekt: deployment/web"),
            "23: check 'exists' has no field",
        ),
        (
            lambda t: t.replace("  object: deployment/web\n", ""),
            "22: check 'exists' needs 'object'",
        ),
        (
            lambda t: t.replace("-n {namespace}", "-n {namspace}"),
            "15: unknown variable '{namspace}'",
        ),
        (lambda t: t.replace("Run this:", "Run {this}:"), "12: unknown variable '{this}'"),
        (
            lambda t: t.replace("kubectl get pods", "kubectl get pods | grep web"),
            "15: `kubectl get pods | grep",
        ),
        (lambda t: t.replace("kubectl get pods", "kubectl get 'pods"), "15: cannot split command"),
        (
            lambda t: t.replace("```sh\n", "```sh {backgroud}\n"),
            "14: unknown command attribute 'backgroud'",
        ),
        (
            lambda t: t.replace('title="First step"}', 'title="First step}'),
            "11: bad step attributes",
        ),
        (lambda t: t.replace("{#first ", "{"), "11: the step has no id"),
        (lambda t: t.replace('title="First step"}', 'title="First step" timeout=-1}'), "11: step timeout"),
        (lambda t: t.replace("```sh\n", "```sh {timeout=soon}\n"), "14: command timeout"),
        (
            lambda t: t.replace("id: demo", "id: Demo Lesson"),
            "2: lesson id 'Demo Lesson' must be lower-case",
        ),
        (lambda t: t.replace("id: demo", "id: list"), "2: lesson id 'list' is a k8s-tutor command"),
        (
            lambda t: t.replace("title: Demo lesson\n", "title: Demo lesson\nauthor: me\n"),
            "4: unknown front matter key",
        ),
        (lambda t: t.replace("  port: 8080", "  port: [8080"), "6: front matter is not valid YAML"),
        (
            lambda t: t.replace("---\n\nIntro", "\nIntro"),
            "1: the front matter starting here is never closed",
        ),
        (
            lambda t: t.replace("Intro text.", "```sh\nkubectl get ns\n```"),
            "9: commands, checks and questions belong inside a step",
        ),
        (lambda t: t.replace("Intro text.", ":::"), "9: ':::' here closes no step"),
        (lambda t: t.replace("Run this:", "::: hint\nRun this:"), "12: unknown block '::: hint'"),
        (
            lambda t: t.replace("- kind: exists\n  object: deployment/web", "- kind: exists\n  object: [x"),
            "24: checks are not valid YAML",
        ),
        (
            lambda t: t.replace("- kind: exists\n  object: deployment/web", "kind: exists"),
            "22: a checks block is a YAML list",
        ),
        (
            lambda t: t.replace("  object: deployment/web", "  object: deployment/web\n  namespace: {namespace}"),
            "24: check 'exists', field 'namespace': must be text, not a mapping "
            "(if you meant a {variable}, put it in quotes)",
        ),
        (
            lambda t: t.replace("kind: exists\n  object: deployment/web", "kind: process_alive\n  process: forward"),
            "23: no background command with id 'forward'",
        ),
        (
            lambda t: t.replace(
                "kind: exists\n  object: deployment/web",
                "kind: data_survives\n  url: http://127.0.0.1:{port}/\n  remembered: scores\n  replaced: pod/db-0",
            ),
            "24: no earlier check remembers 'scores'",
        ),
        (
            lambda t: t.replace("kind: exists\n  object: deployment/web", "kind: pods_ready\n  selector: name in ()"),
            "23: check 'pods_ready', field 'selector': 'name in ()' lists no values",
        ),
        (
            lambda t: t.replace("kind: exists\n  object: deployment/web", "kind: http\n  url: ftp://x"),
            "23: check 'http', field 'url': 'ftp://x' is not an http:// or https:// URL",
        ),
        (
            lambda t: t.replace("kubectl get pods -n {namespace}", "kubectl apply -f {manifests}/missing.yaml"),
            "15: manifest '{manifests}/missing.yaml' not found",
        ),
    ],
)
def test_each_problem_is_reported_on_its_line(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = write_lesson(tmp_path, change(MINIMAL))
    found = errors_of(path)
    assert any(message.startswith(expected) for message in found), found


def test_nested_step_says_the_outer_one_is_unclosed(tmp_path: Path) -> None:
    text = MINIMAL.replace(":::\n", "") + MINIMAL[MINIMAL.index("::: step") :].replace("#first", "#second")
    found = errors_of(write_lesson(tmp_path, text))
    assert any("a step starts inside step 'first' (line 11)" in message for message in found), found


def test_unreadable_step_attributes_are_one_error_not_a_cascade(tmp_path: Path) -> None:
    text = MINIMAL.replace('title="First step"}', 'title="First step"')
    found = errors_of(write_lesson(tmp_path, text))
    assert found == ["11: bad step attributes: attributes '{#first title=\"First step\"' are not closed with '}'"]


def test_duplicate_step_ids(tmp_path: Path) -> None:
    text = MINIMAL + MINIMAL[MINIMAL.index("::: step") :]
    found = errors_of(write_lesson(tmp_path, text))
    assert any(message.startswith("26: duplicate step id 'first' (first used on line 11)") for message in found)


def test_step_without_checks_is_an_error_and_without_hints_a_warning(tmp_path: Path) -> None:
    text = MINIMAL.replace("> [!TIP]\n> Look at the pods.\n", "")
    _, problems = parse_file(write_lesson(tmp_path, text))
    assert [(p.severity, p.line) for p in problems] == [("warning", 11)]
    text = MINIMAL.replace("```yaml {checks}\n- kind: exists\n  object: deployment/web\n```\n", "")
    assert "11: step 'first' has no checks" in errors_of(write_lesson(tmp_path, text))[0]


def test_background_block_attributes(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "```sh\nkubectl get pods -n {namespace}\n```",
        '```sh {background id=fwd ready="Forwarding from"}\nkubectl port-forward svc/web {port}:80\n```',
    ).replace("kind: exists\n  object: deployment/web", "kind: process_alive\n  process: fwd")
    lesson = load(write_lesson(tmp_path, text))
    command = lesson.steps[0].commands[0]
    assert command.background and command.id == "fwd" and command.ready == "Forwarding from"
    assert command.display(lesson.defaults()) == "kubectl port-forward svc/web 8080:80"


def with_forward(attributes: str, command: str = "kubectl port-forward svc/web {port}:80") -> str:
    return MINIMAL.replace("```sh\nkubectl get pods -n {namespace}\n```", f"```sh {{{attributes}}}\n{command}\n```")


def test_a_background_command_names_the_port_it_listens_on(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, with_forward('background id=fwd port="{port}"')))
    command = lesson.steps[0].commands[0]
    assert command.port == "{port}" and command.port_variable == "port"
    # A fixed port, or a variable the command does not use, cannot be moved by changing a variable.
    fixed = load(write_lesson(tmp_path, with_forward("background port=8080", "kubectl port-forward svc/web 8080:80")))
    assert fixed.steps[0].commands[0].port == "8080" and fixed.steps[0].commands[0].port_variable is None
    tunnel = load(write_lesson(tmp_path, with_forward('background port="{port}"', "minikube tunnel")))
    assert tunnel.steps[0].commands[0].port_variable is None


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ('background port="{nope}"', "14: unknown variable '{nope}'"),
        ("background port=http", "14: 'port' must be a port number (1-65535) or a variable that holds one, not 'http'"),
        ("background port=70000", "14: 'port' must be a port number (1-65535)"),
        ('port="{port}"', "14: 'port' is for background commands ({background port=...})"),
    ],
)
def test_a_bad_port_is_reported_on_its_line(tmp_path: Path, attributes: str, expected: str) -> None:
    assert any(message.startswith(expected) for message in errors_of(write_lesson(tmp_path, with_forward(attributes))))


def test_background_block_with_two_commands_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "```sh\nkubectl get pods -n {namespace}\n```",
        "```sh {background}\nkubectl port-forward svc/web 1:1\nkubectl port-forward svc/web 2:2\n```",
    )
    assert any("exactly one command" in message for message in errors_of(write_lesson(tmp_path, text)))


def test_not_utf8_and_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(b"---\nid: x\n---\n\xff\xfe")
    assert errors_of(path) == ["4: the lesson file is not UTF-8 text"]
    path.write_bytes(b"---\nid: x\ntitle: y\n---\n\x00")
    assert errors_of(path) == ["5: the lesson file contains a NUL byte"]


def test_a_missing_file_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    found = errors_of(tmp_path / "nope.md")
    assert found and found[0].startswith("0: cannot read the lesson file")


def test_the_introductions_paragraphs_stay_apart(tmp_path: Path) -> None:
    text = MINIMAL.replace("Intro text.", "# Demo\n\nFirst paragraph,\nstill the first.\n\nSecond paragraph.")
    lesson = load(write_lesson(tmp_path, text + "\nOutro one.\n\nOutro two.\n"))
    assert lesson.intro == "# Demo\n\nFirst paragraph,\nstill the first.\n\nSecond paragraph."
    assert lesson.outro == "Outro one.\n\nOutro two."
