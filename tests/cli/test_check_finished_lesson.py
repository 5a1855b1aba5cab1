"""`k8s-tutor check` on a lesson autoplayed to the end, once the tutor has quit.

What an instructor does on a learner's machine: the whole of day55 was played on a
simulated cluster running in the foreground (`k8s-tutor sandbox --kubeconfig-out`), the
tutor quit (its port-forward and tunnel with it), and `check` must still say "done".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, free_port, run_tutor
from tests.polling import wait_until
from tutor.run import port_in_use

pytestmark = pytest.mark.skipif(
    not (shutil.which("kubectl") and shutil.which("curl")), reason="needs kubectl and curl on PATH"
)


class Finished:
    """A foreground sandbox on which day55 was autoplayed to the end by a tutor that has quit."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.kubeconfig = tmp / "kubeconfig"
        self.local_port = free_port()
        self.ingress_port = free_port()
        self.env = {
            "K8S_TUTOR_STATE_DIR": str(tmp / "state"),
            "KUBECACHEDIR": str(tmp / "cache"),
            "TERM": "dumb",
            "NO_COLOR": "1",
        }
        self.log = (tmp / "sandbox.log").open("w")
        # The sandbox's stand-ins are proven to the tutor with a key in the state folder they share.
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "K8S_TUTOR"))}
        clean["K8S_TUTOR_STATE_DIR"] = self.env["K8S_TUTOR_STATE_DIR"]
        self.sandbox = subprocess.Popen(
            [
                *(sys.executable, "-m", "tutor", "sandbox", "--kubeconfig-out", str(self.kubeconfig), "--started"),
                *("--profile", "mc-demo", "--delays", "instant", "--ingress-port", str(self.ingress_port)),
            ],
            cwd=REPO,
            env=clean,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def tutor(self, *args: str, state: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if state is not None:
            env["K8S_TUTOR_STATE_DIR"] = str(state)
        return run_tutor(
            *args,
            "--kubeconfig",
            str(self.kubeconfig),
            "--set",
            f"local_port={self.local_port}",
            env=env,
            timeout=timeout,
        )

    def check(self, *args: str, state: Path | None = None) -> tuple[int, dict[str, Any]]:
        done = self.tutor("check", "day55", "--json", *args, state=state)
        assert done.stderr == "", done.stderr
        return done.returncode, json.loads(done.stdout)

    def close(self) -> None:
        self.sandbox.send_signal(signal.SIGINT)
        try:
            self.sandbox.wait(30)
        finally:
            if self.sandbox.poll() is None:
                self.sandbox.kill()
                self.sandbox.wait()
            self.log.close()


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    world = Finished(tmp_path_factory.mktemp("finished"))
    try:
        wait_until(lambda: world.kubeconfig.exists(), timeout=30, what="the sandbox's kubeconfig")
        played = world.tutor("day55", "--plain", "--autoplay", timeout=300)
        assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-3000:]
        yield world
    finally:
        world.close()


def _checks(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {step["id"]: step["checks"] for step in report["steps"]}


def _forwards(port: int) -> list[int]:
    """Processes whose command line forwards `port`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if f"{port}:80" in line and "port-forward" in line:
                found.append(int(entry.name))
    return found


def _nothing_left(world: Finished) -> None:
    assert _forwards(world.local_port) == []
    assert port_in_use(world.local_port) is None
    assert port_in_use(world.ingress_port) is None  # the tunnel served the Ingress there


def test_after_the_tutor_quit_nothing_runs_and_check_starts_what_it_needs(finished: Finished) -> None:
    _nothing_left(finished)  # the tutor stopped its port-forward and tunnel when it quit
    code, report = finished.check()
    failing = [
        (c["title"], c["status"], c["reason"]) for s in report["steps"] for c in s["checks"] if c["status"] != "pass"
    ]
    assert failing == []
    assert code == 0 and report["passed"] is True
    assert report["summary"] == {"pass": 18, "waiting": 0, "fail": 0, "not_judged": 0}
    assert report["start"] is True
    assert [(s["id"], s["step"], s["ready"]) for s in report["started"]] == [
        ("pacman-forward", "port-forward", True),
        ("tunnel", "tunnel", True),
    ]
    assert report["started"][0]["command"] == f"kubectl port-forward svc/pacman {finished.local_port}:80 -n pacman"
    # The score's survival is judged from what the autoplayed lesson remembered.
    survived = _checks(report)["mongo-restart"][1]
    assert survived["reason"] == "all 1 remembered entry survived mongo-0's replacement"
    _nothing_left(finished)


def test_the_table_says_what_was_started(finished: Finished) -> None:
    done = finished.tutor("check", "day55")
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    at = lines.index("started for this check, and stopped after it:")
    assert lines[at + 1 : at + 3] == [
        f"  kubectl port-forward svc/pacman {finished.local_port}:80 -n pacman  (ready)",
        "  minikube tunnel -p mc-demo  (ready)",
    ]
    assert lines[-1] == "18/18 checks pass"
    _nothing_left(finished)


def test_no_start_reports_the_four_checks_it_cannot_judge(finished: Finished) -> None:
    code, report = finished.check("--no-start")
    assert code == 0
    assert report["start"] is False and report["started"] == []
    assert report["summary"] == {"pass": 14, "waiting": 0, "fail": 0, "not_judged": 4}
    unjudged = {
        (step, check["title"]): check["reason"]
        for step, checks in _checks(report).items()
        for check in checks
        if check["status"] == "not_judged"
    }
    forward = f"not judged: it needs `kubectl port-forward svc/pacman {finished.local_port}:80 -n pacman` running"
    assert unjudged == {
        (
            "port-forward",
            f"the game answers on localhost:{finished.local_port}",
        ): f"{forward}, and --no-start starts nothing",
        ("high-score", "a high score is saved"): f"{forward}, and --no-start starts nothing",
        ("mongo-restart", "the high score survived mongo-0's replacement"): f"{forward}, and --no-start starts nothing",
        ("tunnel", "the game answers through the Ingress"): (
            "not judged: it needs `minikube tunnel -p mc-demo` running, and --no-start starts nothing"
        ),
    }
    assert all(c["counts"] is False for s in report["steps"] for c in s["checks"] if c["status"] == "not_judged")
    _nothing_left(finished)


def test_without_the_learners_record_the_replacement_is_read_from_the_cluster(
    finished: Finished, tmp_path: Path
) -> None:
    # Another state folder, with no progress in it: no record of the score or of mongo-0's
    # first uid (only the key that proves the sandbox's stand-ins). Autoplay deleted mongo-0
    # seconds after its claim was made; the events of the first mongo-0 show the replacement.
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(Path(finished.env["K8S_TUTOR_STATE_DIR"]) / "keys", elsewhere / "keys")
    code, report = finished.check("--step", "mongo-restart", state=elsewhere)
    survived = _checks(report)["mongo-restart"][1]
    assert survived["status"] == "pass", survived
    assert survived["reason"].startswith("the events name an earlier mongo-0 (uid ")
    assert "judged from the cluster" in survived["reason"]
    assert code == 0
