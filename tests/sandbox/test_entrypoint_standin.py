"""`k8s-tutor sandbox` (tutor.sandbox.main): starts, says how to use it, leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from standins_helpers import Background, free_port, run, wait_until
except ImportError:  # tests/ became a package
    from tests.sandbox.standins_helpers import Background, free_port, run, wait_until  # type: ignore[no-redef]

ENTRY = [
    sys.executable,
    "-c",
    "import sys; from tutor.sandbox.main import main; raise SystemExit(main(sys.argv[1:]))",
]


def _children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The parent pid is the 4th field, after the parenthesised command name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry.name))
    return kids


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _start(tmp_path: Path, *extra: str) -> tuple[Background, dict[str, str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "K8S_TUTOR"))}
    proc = Background([*ENTRY, "--delays", "instant", "--ingress-port", str(free_port()), *extra], env)
    proc.read_until("SIMULATED")
    source = proc.read_until("source ")
    script = Path(source.split("source ", 1)[1].strip())
    learner = dict(env)
    for line in script.read_text().splitlines():
        name, value = re.match(r"export (\w+)=(.*)", line).groups()  # type: ignore[union-attr]
        learner[name] = value.replace('"$PATH"', env["PATH"]).strip("'")
    return proc, learner, script


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_the_sandbox_runs_the_lesson_from_another_shell_and_cleans_up(tmp_path: Path, sig: int) -> None:
    kubeconfig_out = tmp_path / "kubeconfig"
    proc, learner, script = _start(tmp_path, "--kubeconfig-out", str(kubeconfig_out))
    try:
        assert f"A copy is kept at {kubeconfig_out}" in proc.read_until("A copy is kept")
        # Not started: the learner's first command is the lesson's.
        assert run(["kubectl", "get", "nodes", "--request-timeout=2s"], learner).returncode != 0
        started = run(
            ["minikube", "start", "-p", "mc-demo", "--addons=volumesnapshots,csi-hostpath-driver"],
            learner,
        )
        assert started.returncode == 0, started.stderr
        assert run(["kubectl", "get", "nodes"], learner).stdout.split()[5] == "mc-demo"
        wait_until(
            lambda: kubeconfig_out.exists() and "mc-demo" in kubeconfig_out.read_text(),
            what="--kubeconfig-out",
        )
        # The copy holds the sandbox's token: its owner alone may read it.
        assert stat.S_IMODE(kubeconfig_out.stat().st_mode) == 0o600
        assert _children_of(proc.proc.pid) == []
        state = Path(learner["KUBECONFIG"]).parent
    finally:
        code = proc.stop(sig)
    assert code == 0
    assert "stopping" in "\n".join(proc.rest())
    assert not script.exists()
    assert not script.parent.exists()
    assert not state.exists()
    assert not kubeconfig_out.exists()
    assert _processes_mentioning(str(script.parent)) == []


def test_started_gives_a_running_cluster(tmp_path: Path) -> None:
    proc, learner, _ = _start(tmp_path, "--started", "--profile", "mc-demo")
    try:
        assert "Cluster: started" in "\n".join(proc.lines)
        assert run(["kubectl", "get", "nodes"], learner).returncode == 0
        assert run(["minikube", "status", "-p", "mc-demo"], learner).returncode == 0
    finally:
        assert proc.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "abc"], "not a port number"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--delays", "slow"], "invalid choice: 'slow'"),
        (["--started", "--not-started"], "not allowed with argument"),
    ],
)
def test_bad_flags_exit_2_without_a_traceback(args: list[str], message: str) -> None:
    result = subprocess.run([*ENTRY, *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_existing_kubeconfig_out_is_not_overwritten(tmp_path: Path) -> None:
    mine = tmp_path / "config"
    mine.write_text("precious")
    result = subprocess.run([*ENTRY, "--kubeconfig-out", str(mine)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "refusing to overwrite" in result.stderr
    assert mine.read_text() == "precious"


# --kubeconfig-out PATH: the copy holds the sandbox's credential, so it is written 0600, whole,
# and never through a symlink (one at PATH pointing at ~/.bashrc must not make the tutor
# a writer of ~/.bashrc).


def victim(tmp_path: Path) -> Path:
    bashrc = tmp_path / "bashrc"
    bashrc.write_text("# the learner's shell start-up\n")
    return bashrc


def test_a_symlink_at_the_path_is_refused(tmp_path: Path) -> None:
    bashrc = victim(tmp_path)
    for name, target in (("link", bashrc), ("dangling", tmp_path / "nothing-yet")):
        out = tmp_path / name
        out.symlink_to(target)
        result = subprocess.run([*ENTRY, "--kubeconfig-out", str(out)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2
        assert f"{out} is a symbolic link; refusing to overwrite it" in result.stderr
        assert not (tmp_path / "nothing-yet").exists()
    assert bashrc.read_text() == "# the learner's shell start-up\n"


def test_the_copy_is_private_and_a_link_planted_later_is_replaced_not_followed(tmp_path: Path) -> None:
    bashrc = victim(tmp_path)
    out = tmp_path / "kubeconfig"
    # What the old copy wrote first, at a name anyone could guess: planted, it must not be followed.
    (tmp_path / "kubeconfig.tmp").symlink_to(bashrc)
    proc, learner, _ = _start(tmp_path, "--kubeconfig-out", str(out))
    try:
        out.symlink_to(bashrc)  # planted after the check at start, before the cluster exists
        started = run(["minikube", "start", "-p", "mc-demo"], learner)
        assert started.returncode == 0, started.stderr
        wait_until(lambda: not out.is_symlink() and out.exists(), what="the copy")
        assert stat.S_IMODE(os.lstat(out).st_mode) == 0o600
        assert "mc-demo" in out.read_text()
        assert bashrc.read_text() == "# the learner's shell start-up\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kubeconfig")] == []
    finally:
        assert proc.stop(signal.SIGTERM) == 0
    assert not out.exists()
    assert bashrc.read_text() == "# the learner's shell start-up\n"


def test_stand_ins_leave_no_thread_socket_or_file_behind() -> None:
    import socket
    import threading

    from tutor.sandbox import Delays, Sandbox

    before = {t.ident for t in threading.enumerate()}
    sb = Sandbox(delays=Delays.instant(), started=False, ingress_port=free_port())
    assert sb.standins is not None
    env = sb.env()
    assert run(["minikube", "start", "-p", "mc-demo"], env).returncode == 0
    ports = (sb.port, sb.standins.control.port, sb.standins.router.port)
    files = (sb.standins.shim_dir.parent, sb.state_dir)
    sb.close()
    assert [t.name for t in threading.enumerate() if t.ident not in before] == []
    assert [f for f in files if f.exists()] == []
    for port in ports:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
