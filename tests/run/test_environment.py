"""The environment and executable lookup a child gets: plain output, the sandbox's PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tutor.run import CommandRefused, Prepared, ShExecutor
from tutor.run.environment import child_environment
from tutor.run.errors import MissingExecutable, locate, preflight, which

from .helpers import script


def test_plain_output_defaults_sit_between_os_environ_and_overrides() -> None:
    env = child_environment({"TERM": "xterm", "KUBECONFIG": "/k"}, base={"TERM": "vt100", "HOME": "/h"})
    assert env == {
        "HOME": "/h",
        "NO_COLOR": "1",
        "MINIKUBE_IN_STYLE": "false",
        "TERM": "xterm",
        "KUBECONFIG": "/k",
    }


def test_the_terminal_keeps_its_own_term_and_colours() -> None:
    env = child_environment(None, plain=False, base={"TERM": "xterm-256color"})
    assert env == {"TERM": "xterm-256color"}


def test_path_prefix_goes_first() -> None:
    env = child_environment(None, path_prefix=["/shims", Path("/more")], base={"PATH": "/usr/bin"})
    assert env["PATH"] == os.pathsep.join(["/shims", "/more", "/usr/bin"])


def test_lookup_uses_the_childs_path_not_the_tutors(tmp_path: Path) -> None:
    fake = script(tmp_path, "minikube", "echo simulated\n")
    assert which("minikube", child_environment(path_prefix=[tmp_path])) == str(fake)
    assert which("minikube", {"PATH": "/nonexistent"}) is None


@pytest.mark.parametrize(
    ("program", "advice"),
    [
        ("minikube", "https://minikube.sigs.k8s.io/docs/start/"),
        ("kubectl", "https://kubernetes.io/docs/tasks/tools/"),
        ("curl", "package manager"),
    ],
)
def test_a_missing_tool_is_named_with_how_to_install_it(program: str, advice: str) -> None:
    with pytest.raises(MissingExecutable) as caught:
        locate(program, {"PATH": "/nonexistent"})
    assert caught.value.program == program
    assert str(caught.value).startswith(f"{program}: command not found")
    assert advice in str(caught.value)


def test_preflight_reports_each_tool(tmp_path: Path) -> None:
    script(tmp_path, "kubectl", "true\n")
    checks = preflight(["kubectl", "minikube"], {"PATH": str(tmp_path)})
    assert [(check.program, check.found) for check in checks] == [
        ("kubectl", True),
        ("minikube", False),
    ]
    assert "https://minikube.sigs.k8s.io/docs/start/" in checks[1].describe()


def test_a_relative_path_is_resolved_against_the_working_directory(tmp_path: Path) -> None:
    fake = script(tmp_path, "tool", "true\n")
    assert locate("./tool", {}, str(tmp_path)) == str(fake)
    with pytest.raises(MissingExecutable):
        locate("./tool", {}, "/")


class TestCommandPolicy:
    """The policy sees each command first: it may rewrite it, pin its environment, or stop it."""

    class Pinning:
        def __init__(self, folder: Path) -> None:
            self.folder = folder
            self.seen: list[tuple[str, ...]] = []

        def prepare(self, argv: tuple[str, ...]) -> Prepared:
            self.seen.append(argv)
            if "--elsewhere" in argv:
                raise CommandRefused(f"{argv[0]} was not run: --elsewhere")
            return Prepared((argv[0], "--pinned", *argv[1:]), {"KUBECONFIG": "/session"}, (str(self.folder),))

    def test_the_policy_rewrites_argv_and_its_environment_wins(self, tmp_path: Path) -> None:
        script(tmp_path, "tool", 'echo "args: $*"\necho "kubeconfig: $KUBECONFIG"\n')
        policy = self.Pinning(tmp_path)
        executor = ShExecutor(env={"KUBECONFIG": "/learner"}, policy=policy)
        lines: list[str] = []
        try:
            result = executor.run(
                ["tool", "get", "pods"], lambda line: lines.append(line.text), env={"KUBECONFIG": "/x"}
            )
        finally:
            executor.close()
        assert result.exit_code == 0
        assert lines == ["args: --pinned get pods", "kubeconfig: /session"]
        assert policy.seen == [("tool", "get", "pods")]

    def test_a_refused_command_never_starts(self, tmp_path: Path) -> None:
        marker = tmp_path / "ran"
        script(tmp_path, "tool", f"touch {marker}\n")
        executor = ShExecutor(policy=self.Pinning(tmp_path))
        try:
            with pytest.raises(CommandRefused, match="--elsewhere"):
                executor.run(["tool", "--elsewhere"])
            with pytest.raises(CommandRefused):
                executor.start_background("bg", ["tool", "--elsewhere"])
        finally:
            executor.close()
        assert not marker.exists()
