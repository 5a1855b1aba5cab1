"""`k8s-tutor sandbox --kubeconfig-out PATH`: the copy holds the sandbox's credential, so it is
written 0600, whole, and never through a symlink (one at PATH pointing at ~/.bashrc must not
turn the tutor into a writer of ~/.bashrc)."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

try:
    from standins_helpers import Background, free_port, run, wait_until
except ImportError:  # tests/ became a package
    from tests.sandbox.standins_helpers import Background, free_port, run, wait_until  # type: ignore[no-redef]

ENTRY = [
    sys.executable,
    "-c",
    "import sys; from tutor.sandbox.main import main; raise SystemExit(main(sys.argv[1:]))",
]


def victim(tmp_path: Path) -> Path:
    bashrc = tmp_path / "bashrc"
    bashrc.write_text("# the learner's shell start-up\n")
    return bashrc


def start(tmp_path: Path, out: Path) -> tuple[Background, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "K8S_TUTOR"))}
    proc = Background(
        [*ENTRY, "--delays", "instant", "--ingress-port", str(free_port()), "--kubeconfig-out", str(out)], env
    )
    source = proc.read_until("source ")
    script = Path(source.split("source ", 1)[1].strip())
    learner = dict(env)
    for line in script.read_text().splitlines():
        name, value = re.match(r"export (\w+)=(.*)", line).groups()  # type: ignore[union-attr]
        learner[name] = value.replace('"$PATH"', env["PATH"]).strip("'")
    return proc, learner


def test_a_symlink_at_the_path_is_refused(tmp_path: Path) -> None:
    bashrc = victim(tmp_path)
    for name, target in (("link", bashrc), ("dangling", tmp_path / "nothing-yet")):
        out = tmp_path / name
        out.symlink_to(target)
        result = subprocess.run(
            [*ENTRY, "--kubeconfig-out", str(out)], capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 2
        assert f"{out} is a symbolic link; refusing to overwrite it" in result.stderr
        assert not (tmp_path / "nothing-yet").exists()
    assert bashrc.read_text() == "# the learner's shell start-up\n"


def test_the_copy_is_private_and_a_link_planted_later_is_replaced_not_followed(tmp_path: Path) -> None:
    bashrc = victim(tmp_path)
    out = tmp_path / "kubeconfig"
    # What the old copy wrote first, at a name anyone could guess: planted, it must not be followed.
    (tmp_path / "kubeconfig.tmp").symlink_to(bashrc)
    proc, learner = start(tmp_path, out)
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
