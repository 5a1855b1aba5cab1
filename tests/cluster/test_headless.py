"""`k8s-tutor check` when it cannot run as asked, or the cluster is not there."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import REPO, free_port
from tests.cluster.kubeconfigs import kubeconfig
from tests.lesson.helpers import MINIMAL, write_lesson
from tests.polling import wait_until
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
    assert report["version"] == 2
    assert report["connection"]["state"] == "unreachable"
    assert report["started"] == []  # nothing a process could change: the cluster is not there
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


def _watching_lesson(tmp_path: Path, command: str = "kubectl get namespaces --watch", ready: str = "default") -> Path:
    """A lesson from elsewhere whose step leaves a background command running, and checks it runs."""
    text = MINIMAL.replace(
        "```sh\nkubectl get pods -n {namespace}\n```", f"```sh {{background id=watcher ready={ready}}}\n{command}\n```"
    ).replace(
        "kind: exists\n  object: deployment/web",
        "kind: process_alive\n  process: watcher\n- kind: exists\n  object: namespace/default",
    )
    return write_lesson(tmp_path, text).parent


def test_a_process_alive_check_is_judged_with_its_command_started_and_stopped(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lessons = _watching_lesson(tmp_path)
    args = ["check", "demo", "--lessons", str(lessons), "--kubeconfig", str(sandbox.kubeconfig), "--trust"]
    code = main([*args, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert [(c["kind"], c["status"], c["counts"]) for c in report["steps"][0]["checks"]] == [
        ("process_alive", "pass", True),
        ("exists", "pass", True),
    ]
    assert report["start"] is True
    assert [(s["id"], s["step"], s["command"], s["ready"]) for s in report["started"]] == [
        ("watcher", "first", "kubectl get namespaces --watch", True)
    ]
    assert _running("kubectl get namespaces --watch") == []
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0
    assert "started for this check, and stopped after it:\n  kubectl get namespaces --watch  (ready)" in out
    assert out.splitlines()[-1] == "2/2 checks pass"


def test_no_start_reports_what_needs_a_background_command_as_not_judged(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lessons = _watching_lesson(tmp_path)
    args = ["check", "demo", "--lessons", str(lessons), "--kubeconfig", str(sandbox.kubeconfig), "--trust"]
    code = main([*args, "--no-start", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0  # not judged is neither pass nor fail
    alive = report["steps"][0]["checks"][0]
    assert (alive["status"], alive["counts"]) == ("not_judged", False)
    assert alive["reason"] == (
        "not judged: it needs `kubectl get namespaces --watch` running, and --no-start starts nothing"
    )
    assert alive["evidence"] == ["seen without it: watcher is not running: start it from this step"]
    assert report["summary"] == {"pass": 1, "waiting": 0, "fail": 0, "not_judged": 1}
    assert (report["start"], report["started"], report["passed"]) == (False, [], True)
    code = main([*args, "--no-start"])
    lines = capsys.readouterr().out.splitlines()
    assert "first  NOT JUDGED  watcher is running" in lines
    assert lines[-1] == "1/1 checks pass; 1 not judged"


def test_nothing_judged_is_no_answer(sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = MINIMAL.replace(
        "```sh\nkubectl get pods -n {namespace}\n```", "```sh {background id=watcher}\nkubectl get pods --watch\n```"
    ).replace("kind: exists\n  object: deployment/web", "kind: process_alive\n  process: watcher")
    lessons = write_lesson(tmp_path, text).parent
    code = main(["check", "demo", "--lessons", str(lessons), "--kubeconfig", str(sandbox.kubeconfig), "--no-start"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[-1] == "0/0 checks pass; 1 not judged: nothing was judged, which is no answer"


def test_a_lesson_from_elsewhere_starts_nothing_until_trusted(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lessons = _watching_lesson(tmp_path)
    code = main(["check", "demo", "--lessons", str(lessons), "--kubeconfig", str(sandbox.kubeconfig), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    alive = report["steps"][0]["checks"][0]
    assert alive["status"] == "not_judged" and report["started"] == []
    assert alive["reason"].startswith(
        "not judged: it needs `kubectl get namespaces --watch` running, which this lesson may not run: "
    )
    assert "--trust" in alive["reason"]


def test_a_command_that_cannot_start_leaves_its_check_judged_and_says_why(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A port-forward to a Service that does not exist: the learner's cluster is not there yet.
    lessons = _watching_lesson(tmp_path, "kubectl port-forward svc/missing 18999:80 -n default")
    args = ["check", "demo", "--lessons", str(lessons), "--kubeconfig", str(sandbox.kubeconfig), "--trust"]
    code = main([*args, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    alive = report["steps"][0]["checks"][0]
    assert alive["status"] == "waiting" and alive["counts"] is True
    note = alive["evidence"][-1]
    assert note.startswith("k8s-tutor check started `kubectl port-forward svc/missing 18999:80 -n default` for it: ")
    assert note.endswith('services "missing" not found')
    assert [s["ready"] for s in report["started"]] == [False]
    assert _running("svc/missing") == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_check_ended_by_a_signal_leaves_nothing_running(sandbox: Any, tmp_path: Path, signum: int) -> None:
    marker = f"k8s-tutor-test={uuid.uuid4().hex}"
    # Never ready (its marker never comes), so the check is still waiting for it when the signal comes.
    lessons = _watching_lesson(tmp_path, f"kubectl get namespaces --watch -l {marker}", ready="never-printed")
    check = subprocess.Popen(
        [
            *(sys.executable, "-m", "tutor", "check", "demo", "--lessons", str(lessons), "--trust"),
            *("--kubeconfig", str(sandbox.kubeconfig)),
        ],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: _running(marker), timeout=30, what="the background command to start")
        check.send_signal(signum)
        check.wait(15)
    finally:
        if check.poll() is None:
            check.kill()
            check.wait()
    assert check.returncode == -signum
    assert check.stderr is not None and b"Traceback" not in check.stderr.read()
    wait_until(lambda: _running(marker) == [], timeout=5, what="the background command to be gone")


def test_a_process_whose_port_is_held_is_not_judged_and_the_port_is_left_alone(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The port is held (a tutor still running its own forward, or any program): check cannot
    # tell whose it is, so it starts nothing there and does not judge the process.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        lessons = _watching_lesson(tmp_path, f"kubectl port-forward svc/pacman {port}:80 -n default")
        text = (lessons / "demo.md").read_text().replace("ready=default", f"ready=default port={port}")
        (lessons / "demo.md").write_text(text)
        args = ["check", "demo", "--lessons", str(lessons), "--kubeconfig", str(sandbox.kubeconfig), "--trust"]
        code = main([*args, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    alive = report["steps"][0]["checks"][0]
    assert alive["status"] == "not_judged"
    assert alive["reason"].startswith(
        f"not judged: `kubectl port-forward svc/pacman {port}:80 -n default` was not started here: port {port} on "
        "127.0.0.1 is taken by "
    )
    assert report["started"] == []  # nothing was started: the port is left to its program


def _running(words: str) -> list[int]:
    """Processes of this user whose command line holds `words`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if words in line and "pytest" not in line:
            found.append(int(entry.name))
    return found
