"""The guard at the command line: `check`, `doctor` and `reset` on contexts it will not use unasked,
on kubeconfigs that name programs, and on kubeconfigs that are not kubeconfigs.

Nothing here connects anywhere but loopback (the autouse socket guard in conftest fails a
test that tries), and nothing from a kubeconfig is run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port
from tutor.cli import main


def write(path: Path, name: str, server: str, *, user: dict[str, object] | None = None, **cluster: object) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": name,
                "clusters": [{"name": name, "cluster": {"server": server, **cluster}}],
                "contexts": [{"name": name, "context": {"cluster": name, "user": "u"}}],
                "users": [{"name": "u", "user": user or {"token": "t"}}],
            }
        )
    )
    return path


def trap(folder: Path, name: str) -> Path:
    """A program that leaves a mark if it is ever run."""
    folder.mkdir(parents=True, exist_ok=True)
    mark = folder / f"{name}-ran"
    program = folder / name
    program.write_text(f"#!/bin/sh\ntouch {mark}\n")
    program.chmod(0o700)
    return mark


class TestNonLocalNeedsATypedConfirmation:
    @pytest.mark.parametrize(
        "command",
        [
            ["reset", "day55", "--cluster", "--yes"],
            ["check", "day55"],
            ["check", "day55", "--json"],
        ],
    )
    def test_without_a_terminal_it_is_refused_and_says_what_is_needed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
    ) -> None:
        path = write(tmp_path / "c", "prod", "https://10.0.0.1:6443")
        code = main([*command, "--kubeconfig", str(path), "--context", "prod"])
        err = capsys.readouterr().err
        assert code == 2
        assert "not a cluster on this machine" in err
        assert "by typing the context's name (prod) when asked; --yes does not confirm it" in err

    def test_doctor_reports_it_as_a_failure(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path / "c", "prod", "https://10.0.0.1:6443")
        code = main(["doctor", "day55", "--kubeconfig", str(path), "--context", "prod"])
        out = capsys.readouterr().out
        assert code == 1
        assert "[fail] cluster: Context 'prod' points at https://10.0.0.1:6443" in out

    def test_a_typed_name_confirms_and_anything_else_does_not(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from tutor.cluster.guard import GuardDecision
        from tutor.session import asking

        decision = GuardDecision(False, True, "Context 'prod' points at https://10.0.0.1:6443.", "prod")
        monkeypatch.setattr(asking, "on_terminal", lambda stream=None: True)
        for typed, confirmed in (("prod", True), ("y", False), ("", False), ("yes", False), (" prod ", True)):
            monkeypatch.setattr("builtins.input", lambda prompt, typed=typed: typed)
            assert asking.confirm_cluster(decision) is confirmed, typed
        monkeypatch.setattr("builtins.input", lambda prompt: (_ for _ in ()).throw(EOFError))
        assert asking.confirm_cluster(decision) is False


class TestProgramsNamedInAKubeconfig:
    def test_a_credential_plugin_is_never_run_for_a_local_context(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        mark = trap(tmp_path / "bin", "get-token")
        user = {
            "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(tmp_path / "bin" / "get-token")}
        }
        path = write(tmp_path / "c", "mc-demo", "https://127.0.0.1:6443", user=user)
        assert main(["check", "day55", "--kubeconfig", str(path)]) == 2
        assert "to log in it runs the credential plugin" in capsys.readouterr().err
        assert main(["reset", "day55", "--cluster", "--yes", "--kubeconfig", str(path)]) == 2
        assert not mark.exists()

    def test_a_foreign_sandbox_bin_is_never_run(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A kubeconfig that claims to be a sandbox's and names a folder of its own for minikube.
        bin_dir = tmp_path / "evil"
        minikube_ran = trap(bin_dir, "minikube")
        kubectl_ran = trap(bin_dir, "kubectl")
        extension = [{"name": "k8s-tutor-sandbox", "extension": {"profile": "mc-demo", "bin": str(bin_dir)}}]
        path = write(tmp_path / "c", "mc-demo", f"http://127.0.0.1:{free_port()}", extensions=extension)
        # minikube and kubectl as the learner has them: never the kubeconfig's.
        monkeypatch.setenv("PATH", os.defpath)
        code = main(["reset", "day55", "--cluster", "--yes", "--kubeconfig", str(path)])
        out = capsys.readouterr().out
        assert code == 1
        assert "minikube was not run" in out and "carries no proof that k8s-tutor made it" in out
        assert not minikube_ran.exists() and not kubectl_ran.exists()


class TestBadKubeconfigs:
    @pytest.mark.parametrize(
        "content",
        [
            b"\xff\xfe not utf-8",
            b"clusters: [\n",
            b"clusters: a string\n",
            b"current-context: c\ncontexts: [{name: c, context: {cluster: c}}]\n"
            b"clusters: [{name: c, cluster: {server: 1}}]\n",
            b"a: &a [*a]\n",
        ],
    )
    @pytest.mark.parametrize(
        "command",
        [
            ["check", "day55", "--json"],
            ["doctor", "day55"],
            ["reset", "day55", "--cluster", "--yes"],
            ["reset", "day55", "--yes"],
        ],
    )
    def test_each_command_says_so_without_a_traceback(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, command: list[str]
    ) -> None:
        path = tmp_path / "config"
        path.write_bytes(content)
        code = main([*command, "--kubeconfig", str(path)])
        out, err = capsys.readouterr()
        assert code != 0
        assert "Traceback" not in out + err
        assert str(path) in out + err or "kubeconfig" in out + err
