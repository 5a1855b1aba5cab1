"""Load on the workshop server: a room of learners on loopback, with the board's feed open.

    .venv/bin/python bench/workshop_load.py [--learners 300] [--duration 60] [--interval 5]

It starts `k8s-tutor workshop serve` as its own process (on 127.0.0.1, a fresh database),
joins every learner, opens the board's live feed, then for `--duration` seconds each
learner sends a day55 snapshot at random (Poisson) times, `--interval` seconds apart on
average, while holding its request for notices open as a real tutor does. A real tutor
sends when a check or the screen changes: a few times a minute while a learner works, so
one every 5 s for everyone at once is a busy room.

Prints `name=value` lines: the time from a learner's send to the board's event for it
(p50/p95/p99/max, ms), snapshots sent, acknowledged and `lost` (acknowledged but never
seen on the board), and the server's RSS. Exits 1 when a quality bar is missed
(p95 over 250 ms, anything lost, RSS over 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tutor.workshop.snapshot import CheckCounts, Cluster, Process, Snapshot, StepState, Stuck

P95_BAR_MS = 250.0
RSS_BAR_MB = 150.0
DAY55 = [
    ("start", "Start minikube with the storage addons"),
    ("default-storageclass", "Make csi-hostpath-sc the default StorageClass"),
    ("deploy", "Deploy Pac-Man and MongoDB"),
    ("volumes", "Look at the volume and its claim"),
    ("port-forward", "Reach the game with a port-forward"),
    ("high-score", "Save a high score"),
    ("mongo-restart", "Delete mongo-0 and keep the score"),
    ("scale", "Scale the game"),
    ("ingress-addon", "Enable the ingress addon"),
    ("ingress", "Create the Ingress"),
    ("tunnel", "Reach the game through the Ingress"),
]


@dataclass
class Tally:
    sent_at: dict[tuple[str, int], float] = field(default_factory=dict)
    acked: set[tuple[str, int]] = field(default_factory=set)
    seen_at: dict[tuple[str, int], float] = field(default_factory=dict)
    send_errors: int = 0
    ack_ms: list[float] = field(default_factory=list)
    feed_events: int = 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def day55_snapshot(seq: int, progress: int, stuck_for: int) -> Snapshot:
    steps = tuple(
        StepState(
            step_id,
            title,
            done=index < progress,
            checks=CheckCounts(3, 0, 0)
            if index < progress
            else CheckCounts(1, 2, 0)
            if index == progress
            else CheckCounts(),
            hints_used=1 if index == progress and stuck_for else 0,
        )
        for index, (step_id, title) in enumerate(DAY55)
    )
    current = DAY55[min(progress, len(DAY55) - 1)][0]
    return Snapshot(
        lesson="day55",
        lesson_title="State and Ingress in Kubernetes",
        steps=steps,
        cluster=Cluster.SANDBOX,
        tutor_version="0.1.0",
        sent_at=time.time(),
        seq=seq,
        on_screen=current,
        stuck=Stuck(current, stuck_for, "mongo-0: 0/1 ready, PVC Pending") if stuck_for else None,
        questions_answered=progress // 2,
        processes=(Process("pacman-forward", progress >= 5),),
    )


class Server:
    """`k8s-tutor workshop serve` in a child process; its banner read, its RSS watched."""

    def __init__(self, db: Path, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutor", "workshop", "serve", "--port", str(port), "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.port = port
        self.lines: list[str] = []
        self.banner_read = threading.Event()
        self.peak_rss_kb = 0
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("instructor token: "):
                self.banner_read.set()
        self.banner_read.set()

    def codes(self) -> tuple[str, str]:
        if not self.banner_read.wait(30) or self.process.poll() is not None:
            raise SystemExit("the server did not start:\n" + "\n".join(self.lines))
        token = next(each.split(": ", 1)[1] for each in self.lines if each.startswith("instructor token: "))
        code = next(m[1] for each in self.lines if (m := re.search(r"--workshop http://127\.0\.0\.1:\d+/(\S+)$", each)))
        return token, code

    def rss_kb(self) -> int:
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        value = int(match[1]) if match else 0
        self.peak_rss_kb = max(self.peak_rss_kb, value)
        return value

    def hwm_kb(self) -> int:
        with contextlib.suppress(OSError):
            match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{self.process.pid}/status").read_text())
            if match:
                return int(match[1])
        return self.peak_rss_kb

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def read_feed(session: aiohttp.ClientSession, base: str, token: str, tally: Tally, ready: asyncio.Event) -> None:
    async with session.get(f"{base}/api/v1/events", headers={"Authorization": f"Bearer {token}"}) as response:
        response.raise_for_status()
        event, data = "", ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif not line and data:
                now = time.monotonic()
                tally.feed_events += 1
                if event == "room":
                    ready.set()
                elif event == "learner":
                    row = json.loads(data)
                    snap = row.get("snapshot")
                    if snap is not None:
                        tally.seen_at.setdefault((row["id"], snap["seq"]), now)
                event, data = "", ""


async def learner(
    session: aiohttp.ClientSession,
    base: str,
    identity: tuple[str, str],
    tally: Tally,
    interval: float,
    until: float,
    rng: random.Random,
) -> None:
    learner_id, secret = identity
    headers = {"Authorization": f"Bearer {secret}"}
    progress, stuck_for, seq = rng.randrange(3), 0, 0
    while True:
        pause = rng.expovariate(1 / interval)
        if time.monotonic() + pause >= until:
            return
        await asyncio.sleep(pause)
        if rng.random() < 0.3 and progress < len(DAY55):
            progress, stuck_for = progress + 1, 0
        elif rng.random() < 0.1:
            stuck_for += int(interval * 10)
        body = day55_snapshot(seq, progress, stuck_for).to_json()
        key = (learner_id, seq)
        seq += 1
        started = time.monotonic()
        tally.sent_at[key] = started
        try:
            async with session.put(
                f"{base}/api/v1/learners/{learner_id}/snapshot", json=body, headers=headers
            ) as answer:
                await answer.read()
                if answer.status == 204:
                    tally.acked.add(key)
                    tally.ack_ms.append((time.monotonic() - started) * 1000)
                else:
                    tally.send_errors += 1
        except (TimeoutError, aiohttp.ClientError):
            tally.send_errors += 1


async def poll_notices(session: aiohttp.ClientSession, base: str, identity: tuple[str, str], until: float) -> None:
    """What a real tutor keeps open: a long poll for the room's notices."""
    learner_id, secret = identity
    cursor = 0
    with contextlib.suppress(TimeoutError, aiohttp.ClientError):
        while time.monotonic() < until:
            async with session.get(
                f"{base}/api/v1/learners/{learner_id}/notices",
                params={"after": str(cursor), "wait": "25"},
                headers={"Authorization": f"Bearer {secret}"},
            ) as answer:
                data = await answer.json()
                cursor = data["cursor"]


async def run(args: argparse.Namespace, server: Server, token: str, code: str) -> Tally:
    base = f"http://127.0.0.1:{server.port}"
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        ready = asyncio.Event()
        feed = asyncio.create_task(read_feed(session, base, token, tally, ready))
        await asyncio.wait_for(ready.wait(), 30)
        joins = []
        for index in range(args.learners):
            joins.append(session.post(f"{base}/api/v1/join/{code}", json={"name": f"learner {index:03d}"}))
        identities = []
        for request in joins:
            async with request as answer:
                data = await answer.json()
                identities.append((data["learner"], data["secret"]))
        rng = random.Random(55)
        until = time.monotonic() + args.duration
        sampler = asyncio.create_task(sample_rss(server, until))
        polls = [asyncio.create_task(poll_notices(session, base, identity, until)) for identity in identities]
        await asyncio.gather(
            *(
                learner(session, base, identity, tally, args.interval, until, random.Random(rng.random()))
                for identity in identities
            )
        )
        # Whatever was acknowledged has had its event sent by now; give the feed a moment to read it.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not tally.acked <= tally.seen_at.keys():
            await asyncio.sleep(0.05)
        await sampler
        for task in (*polls, feed):
            task.cancel()
        await asyncio.gather(*polls, feed, return_exceptions=True)
    return tally


async def sample_rss(server: Server, until: float) -> None:
    while time.monotonic() < until:
        server.rss_kb()
        await asyncio.sleep(1)
    server.rss_kb()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--interval", type=float, default=5.0, help="mean seconds between one learner's snapshots")
    args = parser.parse_args()
    # Two sockets per learner on each side, plus the feed: more than a default of 1024 files.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as folder:
        os.environ["K8S_TUTOR_DATA_DIR"] = folder
        server = Server(Path(folder) / "bench.sqlite3", free_port())
        try:
            token, code = server.codes()
            idle_rss = server.rss_kb()
            started = time.monotonic()
            tally = asyncio.run(run(args, server, token, code))
            elapsed = time.monotonic() - started
        finally:
            hwm = server.hwm_kb()
            server.stop()
    latencies = [(tally.seen_at[key] - tally.sent_at[key]) * 1000 for key in tally.acked if key in tally.seen_at]
    lost = len(tally.acked - tally.seen_at.keys())
    p95 = percentile(latencies, 0.95)
    rss_mb = max(server.peak_rss_kb, hwm) / 1024
    results = {
        "learners": args.learners,
        "duration_s": args.duration,
        "interval_s": args.interval,
        "run_s": round(elapsed, 1),
        "snapshots_sent": len(tally.sent_at),
        "snapshots_acked": len(tally.acked),
        "snapshots_per_s": round(len(tally.sent_at) / args.duration, 1),
        "send_errors": tally.send_errors,
        "feed_events": tally.feed_events,
        "send_to_board_p50_ms": round(percentile(latencies, 0.50), 1),
        "send_to_board_p95_ms": round(p95, 1),
        "send_to_board_p99_ms": round(percentile(latencies, 0.99), 1),
        "send_to_board_max_ms": round(max(latencies, default=float("nan")), 1),
        "ack_p95_ms": round(percentile(tally.ack_ms, 0.95), 1),
        "ack_median_ms": round(statistics.median(tally.ack_ms), 1) if tally.ack_ms else float("nan"),
        "lost": lost,
        "server_idle_rss_mb": round(idle_rss / 1024, 1),
        "server_peak_rss_mb": round(rss_mb, 1),
    }
    for name, value in results.items():
        print(f"{name}={value}")
    ok = p95 <= P95_BAR_MS and lost == 0 and tally.send_errors == 0 and rss_mb <= RSS_BAR_MB and latencies
    print(f"meets_bars={'yes' if ok else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
