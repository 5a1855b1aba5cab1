"""The sandbox's own costs: start-up, and living with 5,000 pods (a script, not a test).

    .venv/bin/python bench/sandbox.py [--baseline DIR] [--rounds N] [--pods N] [--starts N]

Prints one figure per line, ``name=value``:

- ``startup_core_ms`` / ``startup_standins_ms``: median time to open a started sandbox,
  bare core (``standins=False``) and with its stand-ins, after the first one (which
  pays for the imports and the data files: ``first_startup_ms``); ``close_*_ms``;
- ``pods_create_s``: creating N pods (500 per namespace) through the store;
  ``pods_settle_s``: from then until the controllers are idle (every pod scheduled,
  pulled, started and Ready); the node is given room for them all (a real minikube
  node stops at 110) so that every pod does the same work on any version;
- ``unrelated_list_empty_ms`` / ``unrelated_list_ms``: median time to list the pods of an
  empty namespace over HTTP, before and with the N pods elsewhere.

With ``--baseline DIR`` (another checkout, e.g. main) the same figures are measured on
that code too, each in its own process, and printed with a ``baseline_`` prefix, and the
ratios ``ratio_<figure>=this/baseline``; ``--rounds N`` alternates N runs of each tree and
reports the medians. The script uses only the API both have.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import ssl
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAUSE = "registry.k8s.io/pause:3.10"


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def measure(pods: int, starts: int) -> dict[str, Any]:
    from tutor.sandbox import Delays, Sandbox

    out: dict[str, Any] = {}
    began = time.perf_counter()
    first = Sandbox(delays=Delays.instant(), profile="bench", started=True, standins=False)
    out["first_startup_ms"] = round((time.perf_counter() - began) * 1000, 1)
    first.close()
    for label, standins in (("core", False), ("standins", True)):
        opens, closes = [], []
        for _ in range(starts):
            began = time.perf_counter()
            sb = Sandbox(delays=Delays.instant(), profile="bench", started=True, standins=standins)
            opened = time.perf_counter()
            sb.close()
            opens.append(opened - began)
            closes.append(time.perf_counter() - opened)
        out[f"startup_{label}_ms"] = _median_ms(opens)
        out[f"close_{label}_ms"] = _median_ms(closes)

    with Sandbox(delays=Delays.instant(), profile="bench", started=True, standins=False) as sb:
        node = sb.store.read("nodes", "", "bench")
        status = dict(node["status"])
        status["allocatable"] = {**status["allocatable"], "pods": str(pods + 200)}
        status["capacity"] = dict(status["allocatable"])
        sb.store.replace_status("nodes", "", "bench", status)
        sb.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "quiet"}})
        sb.wait_idle(60)
        # The API speaks TLS to the holder of its token, as kubectl and the client do.
        tls = ssl.create_default_context(cadata=sb.certificate_authority)
        headers = {"Authorization": f"Bearer {sb.credentials.admin_token}"}

        def list_ms(times: int = 30) -> float:
            samples = []
            for _ in range(times):
                began = time.perf_counter()
                connection = http.client.HTTPSConnection("127.0.0.1", sb.port, timeout=30, context=tls)
                try:
                    connection.request("GET", "/api/v1/namespaces/quiet/pods", headers=headers)
                    connection.getresponse().read()
                finally:
                    connection.close()
                samples.append(time.perf_counter() - began)
            return _median_ms(samples)

        out["unrelated_list_empty_ms"] = list_ms()
        began = time.perf_counter()
        per_ns = 500
        for n in range((pods + per_ns - 1) // per_ns):
            ns = f"bulk-{n}"
            sb.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            for i in range(min(per_ns, pods - n * per_ns)):
                sb.store.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": f"filler-{i}", "namespace": ns, "labels": {"app": "filler"}},
                        "spec": {"containers": [{"name": "c", "image": PAUSE}]},
                    }
                )
        created = time.perf_counter()
        sb.wait_idle(1800)
        settled = time.perf_counter()
        out["pods_create_s"] = round(created - began, 2)
        out["pods_settle_s"] = round(settled - created, 2)
        running = sum(
            1
            for p in sb.store.iter("pods")
            if p["metadata"]["namespace"].startswith("bulk-") and p["status"]["phase"] == "Running"
        )
        out["pods_running"] = running
        out["unrelated_list_ms"] = list_ms()
    return out


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {name: round(statistics.median(run[name] for run in runs), 2) for name in runs[0]}


def run_in(code: Path, pods: int, starts: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [sys.executable, __file__, "--measure", "--pods", str(pods), "--starts", str(starts)],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"measuring {code} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1, help="alternate runs of each tree, medians reported")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.pods, args.starts)))
        return 0
    # Rounds alternate between the two trees, so that a machine busy with other work
    # weighs on both alike; each figure is the median over the rounds.
    ours_runs: list[dict[str, Any]] = []
    theirs_runs: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        ours_runs.append(run_in(REPO, args.pods, args.starts))
        if args.baseline is not None:
            theirs_runs.append(run_in(args.baseline.resolve(), args.pods, args.starts))
    ours = _medians(ours_runs)
    for name, value in ours.items():
        print(f"{name}={value}")
    if args.baseline is not None:
        theirs = _medians(theirs_runs)
        for name, value in theirs.items():
            print(f"baseline_{name}={value}")
        for name, value in ours.items():
            base = theirs.get(name)
            if isinstance(value, (int, float)) and isinstance(base, (int, float)) and base:
                print(f"ratio_{name}={value / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
