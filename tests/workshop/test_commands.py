"""`k8s-tutor workshop serve | status | export`, run as a user runs them."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.polling import wait_until
from tutor.workshop.main import ServeOptions, _advertised_hosts, _banner
from tutor.workshop.server.serve import ServerThread, is_loopback
from tutor.workshop.server.store import Store

from .helpers import free_port, join, put_snapshot, raw, send_json, snapshot

JOIN_LINE = re.compile(r"k8s-tutor (\S+) --workshop (https?)://([\d.]+):(\d+)/([a-z0-9-]+)$")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tutor", "workshop", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


class Served:
    """`k8s-tutor workshop serve ...` in a child process, its banner read."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor", "workshop", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def banner(self) -> dict[str, str]:
        wait_until(
            lambda: (
                any(each.startswith("instructor token: ") for each in self.lines) or self.process.poll() is not None
            ),
            what="the banner",
        )
        text = "\n".join(self.lines)
        assert self.process.poll() is None, text + (self.process.stderr.read() if self.process.stderr else "")
        (token,) = [each.split(": ", 1)[1] for each in self.lines if each.startswith("instructor token: ")]
        joins = [JOIN_LINE.search(each.strip()) for each in self.lines]
        (match,) = [m for m in joins if m]
        (board,) = [each.split("Board: ", 1)[1] for each in self.lines if each.startswith("Board: ")]
        return {
            "token": token,
            "lesson": match[1],
            "host": match[3],
            "port": match[4],
            "code": match[5],
            "board": board,
            "text": text,
        }

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        self._reader.join(5)
        return code


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.stop()
        if server.process.stderr:
            server.process.stderr.close()
        if server.process.stdout:
            server.process.stdout.close()


def serve(started: list[Served], *args: str) -> Served:
    server = Served(*args)
    started.append(server)
    return server


def test_serve_prints_the_join_line_the_board_and_the_token_and_keeps_them_across_a_restart(
    served: list[Served],
) -> None:
    data_dir = Path(os.environ["K8S_TUTOR_DATA_DIR"])
    port = str(free_port())
    first = serve(served, "--port", port, "--name", "kubecon")
    banner = first.banner()
    assert (banner["lesson"], banner["host"], banner["port"]) == ("day55", "127.0.0.1", port)
    assert banner["board"] == f"http://127.0.0.1:{port}/board#token={banner['token']}"
    assert "WARNING" not in banner["text"]
    assert "Only this computer can reach it" in banner["text"]
    db = data_dir / "workshops" / "kubecon.sqlite3"
    assert str(db) in banner["text"]
    assert db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700
    learner, secret = join(int(port), banner["code"], "Ana")
    assert put_snapshot(int(port), learner, secret, snapshot(3, done=1)).status == 204
    assert first.stop() == 0
    assert any("stopped" in line for line in first.lines)
    second = serve(served, "--port", port, "--name", "kubecon")
    again = second.banner()
    assert (again["token"], again["code"]) == (banner["token"], banner["code"])
    assert "1 learner so far" in again["text"]
    room = raw(int(port), "GET", "/api/v1/room", token=again["token"]).json
    assert room["learners"][0]["snapshot"]["seq"] == 3
    assert second.stop(signal.SIGINT) == 0
    third = serve(served, "--port", port, "--name", "kubecon", "--rotate-token")
    rotated = third.banner()
    assert rotated["token"] != banner["token"] and rotated["code"] == banner["code"]
    assert raw(int(port), "GET", "/api/v1/room", token=banner["token"]).status == 403
    assert third.stop(signal.SIGHUP) == 0


def test_malformed_requests_are_refused_in_one_line_and_the_server_goes_on(
    served: list[Served], tmp_path: Path
) -> None:
    port = free_port()
    server = serve(served, "--port", str(port), "--db", str(tmp_path / "w.sqlite3"))
    banner = server.banner()
    for payload in (
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01" + b"\x00" * 100,
        b"PUT /api/v1/learners/x/snapshot HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(payload)
            assert sock.recv(100).startswith(b"HTTP/1.0 400"), payload
    assert raw(port, "GET", "/api/v1/room", token=banner["token"]).status == 200
    assert server.stop() == 0
    assert server.process.stderr is not None
    errors = server.process.stderr.read()
    assert "Traceback" not in errors
    assert "BadHttpMessage" in errors


def test_serve_on_another_loopback_address_names_it_in_the_join_line(served: list[Served], tmp_path: Path) -> None:
    port = str(free_port())
    banner = serve(
        served, "--host", "127.0.0.2", "--port", port, "--db", str(tmp_path / "w.sqlite3"), "--lesson", "mylesson"
    ).banner()
    assert (banner["host"], banner["lesson"]) == ("127.0.0.2", "mylesson")
    assert raw_on("127.0.0.2", int(port), "/board") == 200


def raw_on(host: str, port: int, path: str) -> int:
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_lan_address_gets_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Never bound here (tests stay on loopback): the banner is what the instructor reads.
    assert not is_loopback("192.168.1.20") and not is_loopback("0.0.0.0")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.0.0.2")
    store, _ = Store.open(tmp_path / "w.sqlite3", name="lan")
    try:
        options = ServeOptions(host="192.168.1.20")
        _banner(store, options, ["http://192.168.1.20:8055"], tmp_path / "w.sqlite3", loopback=False)
    finally:
        store.close()
    out = capsys.readouterr().out
    assert "WARNING: listening on 192.168.1.20: anyone on that network who has the join code can join" in out
    assert f"k8s-tutor day55 --workshop http://192.168.1.20:8055/{store.join_code}" in out


def test_a_wildcard_address_is_advertised_as_this_computers_own_addresses() -> None:
    # Read from the interfaces; nothing is bound or sent.
    for address in _advertised_hosts("0.0.0.0"):
        assert not ipaddress.ip_address(address).is_loopback


def test_serve_refuses_a_port_in_use_a_bad_database_and_half_of_tls(served: list[Served], tmp_path: Path) -> None:
    port = free_port()
    serve(served, "--port", str(port), "--db", str(tmp_path / "a.sqlite3")).banner()
    busy = run("serve", "--port", str(port), "--db", str(tmp_path / "b.sqlite3"))
    assert busy.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in busy.stderr
    not_db = tmp_path / "notes.txt"
    not_db.write_text("my notes, not a database\n" * 100)
    not_db.chmod(0o600)
    bad = run("serve", "--port", str(free_port()), "--db", str(not_db))
    assert bad.returncode == 1 and "is not a workshop database" in bad.stderr
    assert not_db.read_text().startswith("my notes")
    half = run("serve", "--tls-cert", str(tmp_path / "c.pem"))
    assert half.returncode == 2 and "--tls-cert and --tls-key go together" in half.stderr
    missing = run(
        "serve", "--port", str(free_port()), "--tls-cert", str(tmp_path / "c.pem"), "--tls-key", str(tmp_path / "k.pem")
    )
    assert missing.returncode == 1 and "cannot use the TLS certificate" in missing.stderr
    for args in (["--port", "0"], ["--port", "http"], ["--name", "../etc"], ["--bogus"]):
        wrong = run("serve", *args)
        assert wrong.returncode == 2, args
    for result in (busy, bad, half, missing):
        assert "Traceback" not in result.stderr


def test_serve_tightens_a_database_others_could_read_and_refuses_a_link(served: list[Served], tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite3"
    Store.open(db, name="w")[0].close()
    db.chmod(0o644)
    server = serve(served, "--port", str(free_port()), "--db", str(db))
    assert f"tightened {db} to 0600" in server.banner()["text"]
    assert db.stat().st_mode & 0o777 == 0o600
    link = tmp_path / "link.sqlite3"
    link.symlink_to(db)
    refused = run("serve", "--port", str(free_port()), "--db", str(link))
    assert refused.returncode == 1 and "not a regular file" in refused.stderr


@pytest.fixture
def busy_server(server: ServerThread) -> ServerThread:
    ana, ana_secret = join(server.port, server.join_code, "Ana")
    bob, bob_secret = join(server.port, server.join_code, '=HYPERLINK("http://x")')
    put_snapshot(server.port, ana, ana_secret, snapshot(1, done=2, stuck=True, on_screen="deploy"))
    put_snapshot(server.port, bob, bob_secret, snapshot(2, done=3))
    send_json(server.port, "POST", "/api/v1/messages", {"text": "Break until 11:00"}, token=server.instructor_token)
    return server


def test_status_shows_who_is_stuck_and_why(busy_server: ServerThread) -> None:
    result = run("status", busy_server.url, "--token", busy_server.instructor_token)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Workshop test: 2 learners, 1 done, 1 stuck" in out
    assert "✗ Ana on step 3 (Deploy Pac-Man and MongoDB) for 4 min: mongo-0: 0/1 ready, PVC Pending" in out
    assert "2/3 steps done, on step 3 (Deploy Pac-Man and MongoDB), sandbox" in out
    assert "'Break until 11:00'" in out
    as_json = run(
        "status", f"{busy_server.url}/board", "--json", env={"K8S_TUTOR_WORKSHOP_TOKEN": busy_server.instructor_token}
    )
    assert as_json.returncode == 0
    data = json.loads(as_json.stdout)
    assert data["api"] == 1 and data["totals"]["stuck"] == 1


def test_status_with_a_wrong_or_missing_token_or_no_server_fails_clearly(busy_server: ServerThread) -> None:
    wrong = run("status", busy_server.url, "--token", "not-the-token")
    assert wrong.returncode == 1
    assert "refused the token (wrong_token)" in wrong.stderr
    learner_secret = run("status", busy_server.url, "--token", busy_server.join_code)
    assert learner_secret.returncode == 1
    missing = run("status", busy_server.url)
    assert missing.returncode == 2 and "K8S_TUTOR_WORKSHOP_TOKEN" in missing.stderr
    nobody = run("status", f"http://127.0.0.1:{free_port()}", "--token", "x")
    assert nobody.returncode == 1 and "no answer from" in nobody.stderr
    bad_url = run("status", "not a url", "--token", "x")
    assert bad_url.returncode == 2 and "not a workshop URL" in bad_url.stderr
    not_ours = run("status", busy_server.url + "/nothing", "--token", busy_server.instructor_token)
    assert not_ours.returncode == 0  # any path names the same server
    pasted = run("status", busy_server.url, "--token", f"{busy_server.instructor_token}\nworkshop: more")
    assert pasted.returncode == 2 and "one word of printable characters" in pasted.stderr
    copied = run("status", busy_server.url, env={"K8S_TUTOR_WORKSHOP_TOKEN": busy_server.instructor_token + "\n"})
    assert copied.returncode == 0, "a token read from a file keeps its line break: it is not part of it"
    for result in (wrong, learner_secret, missing, nobody, bad_url, pasted):
        assert "Traceback" not in result.stderr
        assert busy_server.instructor_token not in result.stderr


def test_export_writes_the_records_without_secrets(busy_server: ServerThread, tmp_path: Path) -> None:
    secrets = busy_server.inspect(
        lambda store: [
            store.instructor_token,
            store.join_code,
            *(each.secret_sha256 for each in store.learners.values()),
        ]
    )
    busy_server.stop()
    as_csv = run("export", "--db", str(busy_server.db), "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {"Ana", '\'=HYPERLINK("http://x")'}, "a formula is never a formula in the sheet"
    ana = by_name["Ana"]
    assert (ana["status"], ana["steps_done"], ana["steps_total"], ana["stuck_step"]) == ("stuck", "2", "3", "deploy")
    assert ana["done:start"] and ana["done:default-storageclass"] and not ana["done:deploy"]
    out = tmp_path / "records.json"
    as_json = run("export", "--db", str(busy_server.db), "--format", "json", "--output", str(out))
    assert as_json.returncode == 0
    data = json.loads(out.read_text())
    assert data["export"] == 1 and len(data["learners"]) == 2 and data["notices"][0]["text"] == "Break until 11:00"
    for text in (as_csv.stdout, out.read_text()):
        for secret in secrets:
            assert secret not in text


def test_export_refuses_what_is_not_a_workshop(tmp_path: Path) -> None:
    missing = run("export", "--db", str(tmp_path / "none.sqlite3"), "--format", "json")
    assert missing.returncode == 1 and "no workshop database at" in missing.stderr
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"\0" * 4096)
    assert run("export", "--db", str(junk), "--format", "csv").returncode == 1
    assert run("export", "--db", str(junk), "--format", "xml").returncode == 2
    assert run("export", "--format", "csv").returncode == 2
    assert not (tmp_path / "none.sqlite3").exists(), "export never creates a database"


def test_the_workshop_command_explains_itself() -> None:
    bare = run()
    assert bare.returncode == 2 and "serve, status or export" in bare.stderr
    assert run("--help").returncode == 0
    top = subprocess.run([sys.executable, "-m", "tutor", "--help"], capture_output=True, text=True, timeout=60)
    assert "workshop" in top.stdout


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test's certificate")
def test_serve_over_tls_and_status_trusting_its_certificate(served: list[Served], tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = str(free_port())
    banner = serve(
        served, "--port", port, "--db", str(tmp_path / "w.sqlite3"), "--tls-cert", str(cert), "--tls-key", str(key)
    ).banner()
    assert f"--workshop https://127.0.0.1:{port}/" in banner["text"]
    trusted = run("status", f"https://127.0.0.1:{port}", "--token", banner["token"], "--cafile", str(cert))
    assert trusted.returncode == 0, trusted.stderr
    untrusted = run("status", f"https://127.0.0.1:{port}", "--token", banner["token"])
    assert untrusted.returncode == 1 and "not trusted" in untrusted.stderr


def test_an_instructor_token_can_always_be_typed_after_token() -> None:
    # `workshop status URL --token TOKEN`: a token starting with '-' would read as an option.
    # token_urlsafe starts one in 64 that way, so 2,000 of them without one prove the rule.
    from tutor.workshop.server.store import new_token

    assert not [token for token in (new_token() for _ in range(2000)) if token.startswith("-")]
