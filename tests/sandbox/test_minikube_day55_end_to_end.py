"""The whole day55 lesson against the sandbox, typed as a learner types it.

Every command is the lesson's (lessons/day55.md, with its variables filled in), run
through the shims on PATH: the real kubectl for everything but port-forward, the
minikube stand-in for minikube. HTTP goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from tutor.sandbox import Sandbox
from tutor.sandbox.standins import StandIns

try:
    from sandbox_helpers import MANIFESTS
    from standins_helpers import background, free_port, http, http_json, run, wait_until
except ImportError:  # tests/ became a package
    from tests.sandbox.sandbox_helpers import MANIFESTS  # type: ignore[no-redef]
    from tests.sandbox.standins_helpers import (
        background,
        free_port,
        http,
        http_json,
        run,
        wait_until,
    )  # type: ignore[no-redef]

PATCH = '{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "%s"}}}'


def test_day55_from_minikube_start_to_the_ingress(sandbox_factory: Callable[..., Sandbox]) -> None:
    began = time.monotonic()
    sb = sandbox_factory(started=False)
    with StandIns(sb, ingress_port=free_port()) as si:
        env = si.env()

        def ok(*argv: str) -> str:
            result = run(list(argv), env)
            assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
            return result.stdout

        def get(*argv: str) -> dict[str, object]:
            return json.loads(ok("kubectl", *argv, "-o", "json"))

        # Step start.
        ok(
            "minikube", "start", "-p", "mc-demo", "--kubernetes-version=v1.31.0",
            "--container-runtime=containerd", "--addons=volumesnapshots,csi-hostpath-driver",
        )  # fmt: skip
        assert "mc-demo" in ok("kubectl", "get", "nodes")

        # Step default-storageclass.
        assert "standard (default)" in ok("kubectl", "get", "storageclass")
        ok("kubectl", "patch", "storageclass", "csi-hostpath-sc", "-p", PATCH % "true")
        ok("kubectl", "patch", "storageclass", "standard", "-p", PATCH % "false")
        classes = ok("kubectl", "get", "storageclass")
        assert "csi-hostpath-sc (default)" in classes
        assert "standard (default)" not in classes

        # Step deploy.
        assert "pacman" not in ok("kubectl", "get", "namespace")
        ok("kubectl", "create", "-f", str(MANIFESTS / "pacman-stateful.yaml"))
        ok(
            "kubectl",
            "wait",
            "--for=condition=Ready",
            "pod/mongo-0",
            "-n",
            "pacman",
            "--timeout=60s",
        )
        ok("kubectl", "rollout", "status", "deployment/pacman", "-n", "pacman", "--timeout=60s")
        assert "statefulset.apps/mongo" in ok("kubectl", "get", "all", "-n", "pacman")

        # Step volumes.
        pvc = get("get", "pvc", "mongo-data-mongo-0", "-n", "pacman")
        assert pvc["status"]["phase"] == "Bound"  # type: ignore[index]
        assert pvc["spec"]["storageClassName"] == "csi-hostpath-sc"  # type: ignore[index]
        volume = pvc["spec"]["volumeName"]  # type: ignore[index]
        assert volume in ok("kubectl", "get", "pv")

        # Step port-forward.
        port = free_port()
        with background(["kubectl", "port-forward", "svc/pacman", f"{port}:80", "-n", "pacman"], env) as forward:
            assert forward.read_line() == f"Forwarding from 127.0.0.1:{port} -> 8080"
            assert forward.read_line() == f"Forwarding from [::1]:{port} -> 8080"
            base = f"http://127.0.0.1:{port}"
            pinned = http_json(base + "/location/metadata")["host"]
            assert pinned.startswith("pacman-")

            # Step high-score.
            saved = http_json(
                base + "/highscores",
                {
                    "name": "k8s-tutor",
                    "score": "2500",
                    "level": "2",
                    "cloud": "unknown",
                    "zone": "unknown",
                    "host": "terminal",
                },
            )
            assert saved["rs"] == "success"
            before = http_json(base + "/highscores/list")
            assert [row["name"] for row in before] == ["k8s-tutor"]

            # Step mongo-restart: the score comes back with the new mongo-0 (500 while it is away).
            old_uid = get("get", "pod", "mongo-0", "-n", "pacman")["metadata"]["uid"]  # type: ignore[index]
            ok("kubectl", "delete", "pod", "mongo-0", "-n", "pacman")
            ok(
                "kubectl",
                "wait",
                "--for=condition=Ready",
                "pod/mongo-0",
                "-n",
                "pacman",
                "--timeout=60s",
            )
            assert get("get", "pod", "mongo-0", "-n", "pacman")["metadata"]["uid"] != old_uid  # type: ignore[index]

            def listed() -> object:
                status, body = http(base + "/highscores/list")
                assert status in (200, 500), (status, body)
                return status == 200 and json.loads(body)

            assert wait_until(listed, what="the scores after mongo-0's replacement") == before
            assert forward.proc.poll() is None  # pinned to a pacman pod, not to mongo-0

            # Step scale: the forward still talks to the pod it picked.
            ok("kubectl", "scale", "deployment", "pacman", "--replicas=5", "-n", "pacman")
            ok("kubectl", "rollout", "status", "deployment/pacman", "-n", "pacman", "--timeout=60s")
            assert len(get("get", "pods", "-n", "pacman", "-l", "name=pacman")["items"]) == 5  # type: ignore[arg-type]
            assert {http_json(base + "/location/metadata")["host"] for _ in range(5)} == {pinned}

            # Step ingress-addon.
            ok("minikube", "-p", "mc-demo", "addons", "enable", "ingress")
            assert "ingress-nginx" in ok("kubectl", "get", "namespace")

            # Step ingress.
            ok("kubectl", "create", "-f", str(MANIFESTS / "pacman-ingress.yaml"))
            wait_until(
                lambda: "127.0.0.1" in ok("kubectl", "get", "ingress", "-n", "pacman"),
                what="the Ingress address",
            )

            # Step tunnel.
            with background(["minikube", "tunnel", "-p", "mc-demo"], env) as tunnel:
                tunnel.read_until("Tunnel successfully started")
                tunnel.read_until("Starting tunnel for service pacman-ingress.")
                url = f"http://127.0.0.1:{si.ingress_port}"
                status, body = http(url + "/location/metadata", headers={"Host": "pacman.com"})
                assert status == 200
                assert json.loads(body)["host"].startswith("pacman-")
                assert json.loads(http(url + "/highscores/list", headers={"Host": "pacman.com"})[1]) == before
                status, page = http(url + "/location/metadata")
                assert status == 404
                assert "nginx" in page

            # And the forward's own end: its pod goes, it goes.
            ok("kubectl", "delete", "pod", pinned, "-n", "pacman", "--wait=false")
            assert forward.wait() == 1
            assert "error: lost connection to pod" in forward.stderr()

        # The claim's data goes with the claim (reclaim policy Delete).
        ok("kubectl", "delete", "statefulset", "mongo", "-n", "pacman")
        ok(
            "kubectl",
            "delete",
            "pvc",
            "mongo-data-mongo-0",
            "-n",
            "pacman",
            "--wait=true",
            "--timeout=30s",
        )
        wait_until(lambda: volume not in ok("kubectl", "get", "pv"), what="the volume to be deleted")
        assert f"pv/{volume}" not in si.databases
    print(f"day55 end to end: {time.monotonic() - began:.1f}s")
