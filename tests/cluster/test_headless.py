"""`k8s-tutor check` when it cannot run as asked, or the cluster is not there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import free_port
from tests.cluster.kubeconfigs import kubeconfig
from tests.lesson.helpers import MINIMAL, write_lesson
from tutor.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "day55", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_sandbox_flag_is_refused_with_the_way_to_check_a_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--sandbox")
    assert code == 2
    assert "k8s-tutor sandbox --kubeconfig-out PATH" in err


def test_a_remote_context_is_refused_without_connecting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The lesson's own context (its minikube profile), repointed to a server off this machine.
    path = kubeconfig(tmp_path / "c", ("mc-demo", "https://10.0.0.1:6443"), current="mc-demo")
    code, out, err = run(capsys, "--kubeconfig", str(path), "--json")
    assert code == 2 and out == ""
    assert "k8s-tutor only acts on clusters on this machine" in err
    assert "--context mc-demo" in err


def test_a_named_remote_context_is_not_used_without_a_yes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = kubeconfig(tmp_path / "c", ("prod", "https://10.0.0.1:6443"))
    code, _, err = run(capsys, "--kubeconfig", str(path), "--context", "prod")
    assert code == 2
    assert "not a cluster on this machine" in err
    assert "by typing the context's name (prod) when asked; --yes does not confirm it" in err


def test_bad_set_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--set", "nonsense=1", "--kubeconfig", str(tmp_path / "none"))
    assert code == 2 and "has no variable 'nonsense'" in err


def test_unreachable_cluster_is_a_failing_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # bound and released: nothing listens there
    path = kubeconfig(tmp_path / "c", ("kind-x", f"https://127.0.0.1:{port}"), current="kind-x")
    code, out, _ = run(capsys, "--kubeconfig", str(path), "--context", "kind-x", "--json", "--step", "deploy")
    report: dict[str, Any] = json.loads(out)
    assert code == 1
    assert report["version"] == 1
    assert report["connection"]["state"] == "unreachable"
    assert [step["id"] for step in report["steps"]] == ["deploy"]
    checks = report["steps"][0]["checks"]
    assert all(c["status"] == "waiting" and c["reason"].startswith("cluster unreachable since") for c in checks)
    assert all(any(f["rule"] == "api_unreachable" for f in c["findings"]) for c in checks)


def test_table_shows_reasons_and_findings(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--kubeconfig", str(sandbox.kubeconfig), "--step", "default-storageclass")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "day55: State and Ingress in Kubernetes"
    assert lines[1].startswith("cluster: context mc-demo: the k8s-tutor sandbox (simulated) at https://127.0.0.1:")
    assert "default-storageclass  WAIT  csi-hostpath-sc is the only default StorageClass" in lines
    assert any(line.strip() == "StorageClass csi-hostpath-sc does not exist yet" for line in lines)
    assert lines[-1] == "0/1 checks pass, 1 waiting"


def test_no_cluster_yet_says_so_once_and_claims_nothing_about_its_objects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--kubeconfig", str(tmp_path / "none"))
    assert code == 1
    connection = next(line for line in out.splitlines() if line.startswith("connection:"))
    assert connection.startswith("connection: no cluster yet: run the first step (minikube start)")
    assert connection.count("no cluster yet") == 1
    # Nothing could be read, so nothing is said of StorageClasses, pods or claims.
    assert "no StorageClass is marked as the default" not in out
    assert "see: kubectl" not in out


def test_titles_show_the_lessons_variables_filled_in(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "--kubeconfig", str(sandbox.kubeconfig), "--profile", "mc-demo", "--set", "local_port=18080"
    )
    assert code == 1
    assert "WAIT  the node mc-demo is registered" in out or "PASS  the node mc-demo is registered" in out
    assert "the game answers on localhost:18080" in out
    # Every check of day55 can be judged from outside the tutor: the port-forward's asks
    # whether the game answers there, not whether the tutor's own process runs.
    assert "/18 checks pass" in out.splitlines()[-1] and "not counted" not in out.splitlines()[-1]
    assert "{" not in "".join(line for line in out.splitlines() if "  PASS  " in line or "  WAIT  " in line)


def test_a_process_alive_check_is_shown_but_counted_apart(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MINIMAL.replace(
        "```sh\nkubectl get pods -n {namespace}\n```", "```sh {background id=fwd}\nkubectl port-forward svc/x 1:1\n```"
    ).replace(
        "kind: exists\n  object: deployment/web",
        "kind: process_alive\n  process: fwd\n- kind: exists\n  object: namespace/default",
    )
    lessons = write_lesson(tmp_path, text).parent
    code = main(["check", "demo", "--lessons", str(lessons), "--kubeconfig", str(sandbox.kubeconfig)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[-1].endswith("(1 more not counted here)")
