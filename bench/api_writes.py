"""What a write through the sandbox's API costs: create latency with the kubernetes client.

Every create is decoded, checked against the kind's schema (field validation), admitted and
stored; this measures that path end to end, the way a client sees it, on a sandbox that
already holds many pods (the 5,000-pod scene of check_latency.py), so that a validation
that grew with the store would show. The sandbox runs in a process of its own, so that the
client and the server do not share a GIL.

Prints one figure per line, `name=value`. Usage: python bench/api_writes.py [--creates N] [--pods N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}],
                    "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
                    "env": [{"name": "MODE", "value": "bench"}],
                }
            ]
        },
    }


SERVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from tutor.sandbox import Delays, Sandbox
sb = Sandbox(delays=Delays.instant(), standins=False)
pods = int(sys.argv[2])
for n in range((pods + 499) // 500):
    sb.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"bulk-{n}"}})
    for i in range(min(500, pods - n * 500)):
        sb.store.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"bulk-{i}", "namespace": f"bulk-{n}"},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})
sb.wait_idle(300)
print(json.dumps({"kubeconfig": str(sb.kubeconfig)}), flush=True)
sys.stdin.read()
sb.close()
"""


def main() -> None:
    import json
    import subprocess

    from kubernetes import client, config

    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=5000, help="unrelated pods already in the store")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(REPO), str(args.pods)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        kubeconfig = json.loads(server.stdout.readline())["kubeconfig"]
        api = config.new_client_from_config(config_file=kubeconfig)
        core = client.CoreV1Api(api)
        for mode, validation in (("warn", None), ("strict", "Strict"), ("ignore", "Ignore")):
            took = []
            for i in range(args.creates):
                extra = {} if validation is None else {"field_validation": validation}
                started = time.perf_counter()
                core.create_namespaced_pod(
                    "default", pod(f"{mode}-{i}"), _preload_content=False, **extra
                ).release_conn()
                took.append((time.perf_counter() - started) * 1000)
            took.sort()
            print(f"create_ms_median_{mode}={statistics.median(took):.2f}")
            print(f"create_ms_p95_{mode}={took[int(len(took) * 0.95)]:.2f}")
        api.close()
    finally:
        server.communicate("", timeout=60)


if __name__ == "__main__":
    main()
