"""Who holds a local port: found before a port-forward would die of "address already in use"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.run import ports
from tutor.run.ports import PortHolder, PortUse, free_port_near, port_in_use


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another program listening on 127.0.0.1, as a learner's leftover web server would."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N (...) ..."
    port = int(line.split(" port ")[1].split()[0])
    yield process, port
    process.kill()
    process.wait(10)
    process.stdout.close()


def test_a_free_port_is_free() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert port_in_use(port) is None


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="the program is named from Linux's /proc")
def test_the_program_that_holds_the_port_is_named(server: tuple[subprocess.Popen[str], int]) -> None:
    process, port = server
    use = port_in_use(port)
    assert use is not None and use.port == port
    (holder,) = use.holders
    assert holder.pid == process.pid and holder.uid == os.getuid()
    assert holder.command is not None and "http.server" in holder.command
    assert (
        use.describe() == f"port {port} on 127.0.0.1 is taken by {holder.program} (pid {process.pid}): {holder.command}"
    )


def test_a_taken_port_is_said_taken_where_no_program_can_be_named(tmp_path: Path) -> None:
    # Elsewhere than Linux (no /proc): the bind alone says it is taken.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        use = port_in_use(port, proc=tmp_path / "no-proc")
    assert use == PortUse(port)
    assert use.describe() == f"port {port} on 127.0.0.1 is taken"


def fake_proc(tmp_path: Path, port: int, *, uid: int, address: str = "0100007F") -> Path:
    """A /proc with one listening socket whose process cannot be looked into (another user's)."""
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    line = f"   0: {address}:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 {uid} 0 4242 1 0\n"
    (proc / "net" / "tcp").write_text(header + line)
    (proc / "net" / "tcp6").write_text(header)
    (proc / "1" / "fd").mkdir(parents=True)  # pid 1: nothing of ours
    return proc


def test_another_users_process_is_named_by_its_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_bind_refused", lambda port: True)
    use = port_in_use(8080, proc=fake_proc(tmp_path, 8080, uid=os.getuid() + 1))
    assert use is not None
    assert use.describe() == f"port 8080 on 127.0.0.1 is taken by a process of another user (uid {os.getuid() + 1})"


def test_a_privileged_port_is_judged_from_the_socket_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without root, binding port 80 fails whether or not it is taken: that says nothing.
    monkeypatch.setattr(ports, "_bind_refused", lambda port: None)
    assert port_in_use(80, proc=fake_proc(tmp_path, 80, uid=0)) is not None
    assert port_in_use(80, proc=fake_proc(tmp_path / "other", 81, uid=0)) is None
    # A listener on another loopback address does not keep 127.0.0.1:80 from being bound.
    assert port_in_use(80, proc=fake_proc(tmp_path / "two", 80, uid=0, address="0200007F")) is None


def test_a_program_name_reaches_the_screen_without_control_characters(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 9090, uid=os.getuid())
    own = proc / "77"
    (own / "fd").mkdir(parents=True)
    (own / "fd" / "3").symlink_to("socket:[4242]")
    (own / "comm").write_text("evil\x1b]0;title\x07\n")
    (own / "cmdline").write_bytes(b"evil\x00--x\x1b[2J\x00")
    (holder,) = ports._holders([("127.0.0.1", 4242, os.getuid())], proc)
    assert holder == PortHolder(77, "evil?]0;title?", "evil --x?[2J", os.getuid())


def test_a_suggested_port_is_the_next_free_one_above(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = {9091, 9092}
    monkeypatch.setattr(ports, "_bind_refused", lambda port: port in taken)
    assert free_port_near(9090) == 9093
    # Never a privileged one, nor past the last port.
    assert free_port_near(1000) == 1024
    assert free_port_near(65535) is None
