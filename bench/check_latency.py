"""How fast the check engine sees a cluster change, and what it costs while idle.

Runs the sandbox in a separate process (so the engine does not share its GIL) and
measures, with the real kubernetes client:

- latency from an API write (a StorageClass's default annotation flipped by a PATCH)
  to the engine reporting the `default_storageclass` check's new state, over many
  changes: min / median / p95;
- the same with 5,000 unrelated pods running in other namespaces;
- requests the engine sends while idle for 10 s (only its open watches may exist);
- a naive poller, `kubectl get storageclass -o json` every 2 s as verify-on-click
  tools do, on the same changes: its latency and idle requests, and the ratio;
- the whole way to the learner: from an API write to the lesson session announcing
  the step done and so the next one unlocked (StepCompleted, what the TUI and the plain view draw), with
  the 5,000 pods still there.

Prints one figure per line, `name=value`. Usage: python bench/check_latency.py [--changes N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tutor.cluster.checks import BasicContext, build_check  # noqa: E402
from tutor.cluster.connection import ClusterConnection  # noqa: E402
from tutor.cluster.engine import CheckEngine  # noqa: E402
from tutor.cluster.kubeconfig import Source  # noqa: E402
from tutor.cluster.results import CheckResult  # noqa: E402

DEFAULT = "storageclass.kubernetes.io/is-default-class"

# The sandbox process: a Sandbox plus a small loopback endpoint for what the benchmark
# must ask it directly (its request log; loading unrelated pods through its store).
SERVER = r"""
import json, sys, time, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs
from tutor.sandbox import Delays, Sandbox

sb = Sandbox(delays=Delays.instant(), profile="bench", started=True, state_dir=sys.argv[1])

def populate(pods):
    # A real minikube node stops at 110 pods; give this one room, so that all of them
    # run (the figure is about a cluster with 5,000 pods, not about the node's limit).
    node = sb.store.read("nodes", "", "bench")
    status = dict(node["status"])
    status["allocatable"] = {**status["allocatable"], "pods": str(pods + 200)}
    sb.store.replace_status("nodes", "", "bench", status)
    per_ns = 500
    for n in range((pods + per_ns - 1) // per_ns):
        ns = f"bulk-{n}"
        sb.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i in range(min(per_ns, pods - n * per_ns)):
            sb.store.create({"apiVersion": "v1", "kind": "Pod",
                             "metadata": {"name": f"filler-{i}", "namespace": ns, "labels": {"app": "filler"}},
                             "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}})
    sb.wait_idle(timeout=900)

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/requests":
            since = float(query.get("since", ["0"])[0])
            records = [{"method": r.method, "path": r.path, "watch": r.watch, "query": r.query}
                       for r in sb.requests.records(since=since)]
            body = {"count": len(records), "records": records}
        elif url.path == "/populate":
            started = time.monotonic()
            populate(int(query.get("pods", ["0"])[0]))
            body = {"seconds": time.monotonic() - started, "pods": sb.store.count("pods")}
        else:
            body = {"ok": True}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

stats = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=stats.serve_forever, daemon=True).start()
print(json.dumps({"kubeconfig": str(sb.kubeconfig), "stats": stats.server_address[1]}), flush=True)
sys.stdin.read()
stats.shutdown()
sb.close()
"""


class SandboxProcess:
    def __init__(self, state_dir: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(state_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        hello = json.loads(self.process.stdout.readline())
        self.kubeconfig = Path(hello["kubeconfig"])
        self.stats = f"http://127.0.0.1:{hello['stats']}"

    def ask(self, path: str, timeout: float = 30) -> Any:
        with urllib.request.urlopen(self.stats + path, timeout=timeout) as response:
            return json.loads(response.read())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Watcher:
    """The engine's reports for one check, with the time each arrived."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.latest: tuple[float, str] = (0.0, "")

    def on_result(self, check_id: str, result: CheckResult) -> None:
        if check_id == "sc":
            with self.cond:
                self.latest = (time.perf_counter(), result.status)
                self.cond.notify_all()

    def wait_for(self, status: str, after: float, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not (self.latest[1] == status and self.latest[0] >= after):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the engine did not report {status}")
                self.cond.wait(left)
            return self.latest[0]


def patch_default(api: Any, value: str) -> None:
    api.patch_storage_class("standard", {"metadata": {"annotations": {DEFAULT: value}}})


def toggles(api: Any, watcher: Watcher, count: int, state: list[bool]) -> list[float]:
    latencies = []
    for _ in range(count):
        state[0] = not state[0]
        want = "pass" if state[0] else "waiting"
        start = time.perf_counter()
        patch_default(api, "true" if state[0] else "false")
        seen = watcher.wait_for(want, start)
        latencies.append((seen - start) * 1000)
    return latencies


def figures(prefix: str, values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        f"{prefix}_min_ms": ordered[0],
        f"{prefix}_median_ms": statistics.median(ordered),
        f"{prefix}_p95_ms": p95,
        f"{prefix}_samples": len(ordered),
    }


def naive_poller(sb: SandboxProcess, api: Any, count: int, state: list[bool]) -> tuple[list[float], int]:
    """`kubectl get storageclass standard -o json` every 2 s; latency to notice each change."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return [], -1
    cache = Path(tempfile.mkdtemp(prefix="bench-kubecache-"))
    env = {**os.environ, "KUBECONFIG": str(sb.kubeconfig), "KUBECACHEDIR": str(cache)}
    seen: dict[str, float] = {}
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            started = time.monotonic()
            done = subprocess.run(
                [kubectl, "get", "storageclass", "standard", "-o", "json"], env=env, capture_output=True, text=True
            )
            if done.returncode == 0:
                value = json.loads(done.stdout)["metadata"].get("annotations", {}).get(DEFAULT, "")
                seen.setdefault(value, time.perf_counter())
                seen.pop("false" if value == "true" else "true", None)
            stop.wait(max(0.0, 2.0 - (time.monotonic() - started)))

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    time.sleep(2.5)
    latencies = []
    for _ in range(count):
        state[0] = not state[0]
        value = "true" if state[0] else "false"
        start = time.perf_counter()
        patch_default(api, value)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            when = seen.get(value)
            if when is not None and when >= start:
                latencies.append((when - start) * 1000)
                break
            time.sleep(0.005)
        time.sleep(0.3)
    idle_start = time.time()
    time.sleep(10)
    idle = sb.ask(f"/requests?since={idle_start}")["count"]
    stop.set()
    thread.join(5)
    shutil.rmtree(cache, ignore_errors=True)
    return latencies, idle


class Unlocks:
    """StepCompleted events from a session (the next step unlocks with each), with the time each arrived."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.seen: dict[str, float] = {}

    def on_event(self, event: Any) -> None:
        from tutor.session.events import StepCompleted

        if isinstance(event, StepCompleted):
            with self.cond:
                self.seen[event.step] = time.perf_counter()
                self.cond.notify_all()

    def wait_for(self, step: str, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        with self.cond:
            while step not in self.seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the session did not unlock {step}")
                self.cond.wait(left)
            return self.seen[step]


def session_unlocks(kubeconfig: Path, count: int, folder: Path) -> list[float]:
    """Steps that each wait for a ConfigMap field; one PATCH each; time until the next unlocks."""
    from kubernetes import client, config

    from tutor.lesson.parser import load
    from tutor.session.factory import Setup, build_session

    steps = []
    for index in range(count + 1):
        steps.append(
            f'::: step {{#s{index} title="Round {index}"}}\nWaits for round {index}.\n\n'
            f"> [!TIP]\n> The benchmark patches it.\n\n```yaml {{checks}}\n- kind: field_equals\n"
            f'  object: configmap/bench\n  path: data.round\n  equals: "{index}"\n```\n:::\n'
        )
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "manifests").mkdir(exist_ok=True)
    path = folder / "lessons" / "bench.md"
    path.write_text("---\nid: bench\ntitle: Bench\nnamespace: default\n---\n\n" + "\n".join(steps))
    lesson = load(path)
    writer = config.new_client_from_config(config_file=str(kubeconfig))
    core = client.CoreV1Api(writer)
    core.create_namespaced_config_map("default", {"metadata": {"name": "bench"}, "data": {"round": "-1"}})
    session = build_session(lesson, Setup(kubeconfig=kubeconfig, save_progress=False))
    unlocks = Unlocks()
    session.subscribe(unlocks.on_event)
    latencies = []
    try:
        session.open()
        for index in range(count):
            start = time.perf_counter()
            core.patch_namespaced_config_map("bench", "default", {"data": {"round": str(index)}})
            latencies.append((unlocks.wait_for(f"s{index}") - start) * 1000)
    finally:
        session.close()
        writer.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=60, help="changes measured per phase (default 60)")
    parser.add_argument("--pods", type=int, default=5000, help="unrelated pods in the second phase (default 5000)")
    parser.add_argument("--naive-changes", type=int, default=10, help="changes the naive poller is timed on")
    args = parser.parse_args()

    from kubernetes import client, config

    out: dict[str, float] = {}
    state_dir = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    sb = SandboxProcess(state_dir)
    connection = ClusterConnection(Source.resolve(sb.kubeconfig))
    watcher = Watcher()
    engine = CheckEngine(connection, BasicContext(), on_result=watcher.on_result)
    writer = config.new_client_from_config(config_file=str(sb.kubeconfig))
    api = client.StorageV1Api(writer)
    try:
        engine.start()
        engine.set_active(
            {
                "sc": build_check("default_storageclass", {"name": "standard"}, namespace="pacman"),
                # A pod watch in the lesson's namespace, as on every step: it must not
                # see (or pay for) the thousands of pods elsewhere.
                "mongo": build_check("pods_ready", {"selector": "name=mongo", "count": 1}, namespace="pacman"),
            }
        )
        watcher.wait_for("pass", 0.0)
        assert engine.settled(30)
        state = [True]
        toggles(api, watcher, 5, state)  # warm-up: connections, imports, the sandbox's JIT paths
        out.update(figures("latency", toggles(api, watcher, args.changes, state)))

        loaded = sb.ask(f"/populate?pods={args.pods}", timeout=1800)
        out["unrelated_pods"] = loaded["pods"]
        out["populate_seconds"] = round(loaded["seconds"], 1)
        assert engine.settled(30)
        toggles(api, watcher, 5, state)
        out.update(figures("latency_5000_pods", toggles(api, watcher, args.changes, state)))
        out["latency_p95_ratio_5000_pods"] = out["latency_5000_pods_p95_ms"] / out["latency_p95_ms"]
        unlocked = session_unlocks(sb.kubeconfig, args.changes, state_dir / "lesson")
        out.update(figures("step_unlock_5000_pods", unlocked[5:]))

        assert engine.settled(30)
        time.sleep(0.5)
        idle_start = time.time()
        time.sleep(10)
        records = sb.ask(f"/requests?since={idle_start}")["records"]
        liveness = [r for r in records if str(r.get("path", "")).rstrip("/") == "/version"]
        out["idle_requests_10s"] = len(records) - len(liveness)
        out["idle_liveness_requests_10s"] = len(liveness)
        out["open_watches"] = len(engine.cache.keys)
    finally:
        engine.close()
        connection.close()

    try:
        naive, naive_idle = naive_poller(sb, api, args.naive_changes, [state[0]])
        if naive:
            out.update(figures("naive_poll_latency", naive))
            out["naive_poll_idle_requests_10s"] = naive_idle
            out["naive_to_engine_p95_ratio"] = out["naive_poll_latency_p95_ms"] / out["latency_p95_ms"]
    finally:
        writer.close()
        sb.close()
        shutil.rmtree(state_dir, ignore_errors=True)

    for name, value in out.items():
        text = f"{value:.1f}" if isinstance(value, float) else str(value)
        print(f"{name}={text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
