"""The engine against the sandbox with the real client: checks follow the cluster, and
recover from what a real API server does (410, dropped watches, 5xx, going away)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.cluster.conftest import Recorder, activate, kubectl, tutor_threads
from tests.polling import wait_until
from tutor.cluster import watcher
from tutor.cluster.checks import BasicContext, build_check
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.engine import CheckEngine
from tutor.cluster.kubeconfig import Source

CSI_SC = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: csi-hostpath-sc
provisioner: hostpath.csi.k8s.io
reclaimPolicy: Delete
volumeBindingMode: Immediate
"""


def make_default(sb: Any, name: str, value: str) -> None:
    kubectl(
        sb,
        "patch",
        "storageclass",
        name,
        "-p",
        json.dumps({"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": value}}}),
    )


def store_default(sb: Any, name: str, value: str) -> None:
    """The same change, written straight into the sandbox's store (while its API fails)."""
    annotations = {"storageclass.kubernetes.io/is-default-class": value}
    sb.store.patch("storageclasses.storage.k8s.io", "", name, {"metadata": {"annotations": annotations}})


def test_a_check_goes_from_waiting_to_pass_as_the_cluster_changes(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, sc=("default_storageclass", {"name": "csi-hostpath-sc"}))
    wait_until(lambda: rec.last("sc") and rec.last("sc").reason == "StorageClass csi-hostpath-sc does not exist yet")
    kubectl(sandbox, "apply", "-f", "-", stdin=CSI_SC)
    wait_until(lambda: rec.last("sc").reason == "standard is the default, not csi-hostpath-sc")
    make_default(sandbox, "csi-hostpath-sc", "true")
    wait_until(lambda: "2 StorageClasses are the default" in rec.last("sc").reason)
    assert {f.rule for f in rec.last("sc").findings} == {"several_default_storageclasses"}
    make_default(sandbox, "standard", "false")
    wait_until(lambda: rec.status_of("sc") == "pass")
    assert rec.threads == {"k8s-tutor checks"}


def test_only_the_checks_an_event_touches_are_evaluated(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    kubectl(sandbox, "create", "namespace", "pacman")
    checks = {
        name: build_check("exists", {"object": f"configmap/{name}"}, namespace="pacman") for name in ("mongo", "other")
    }
    calls = {"mongo": 0, "other": 0}
    for name, check in checks.items():
        original = check.evaluate

        def counting(view: Any, ctx: Any, name: str = name, original: Any = original) -> Any:
            calls[name] += 1
            return original(view, ctx)

        check.evaluate = counting  # type: ignore[method-assign]
    eng.set_active(checks)
    wait_until(lambda: all(rec.last(n) and "does not exist yet" in rec.last(n).reason for n in checks))
    assert eng.settled()
    before = dict(calls)
    kubectl(sandbox, "create", "configmap", "mongo", "-n", "pacman")
    wait_until(lambda: rec.status_of("mongo") == "pass")
    kubectl(sandbox, "create", "configmap", "unrelated", "-n", "pacman")
    kubectl(sandbox, "create", "configmap", "mongo-ish", "-n", "pacman")
    sandbox.wait_idle()
    assert eng.settled()
    assert calls["mongo"] == before["mongo"] + 1
    assert calls["other"] == before["other"]


def test_pods_ready_through_a_deployment_created_with_kubectl(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(
        eng,
        pods=("pods_ready", {"selector": "app=web", "count": "2"}),
        rollout=("rollout_complete", {"object": "deployment/web", "replicas": 2}),
    )
    wait_until(
        lambda: (
            (rec.last("pods") and rec.last("pods").reason == "no pods with app=web in pacman yet")
            or (rec.last("pods") and "0/2 ready" in rec.last("pods").reason)
        )
    )
    kubectl(sandbox, "create", "namespace", "pacman")
    kubectl(sandbox, "create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "-n", "pacman")
    wait_until(lambda: rec.status_of("pods") == "pass" and rec.status_of("rollout") == "pass")
    assert rec.last("rollout").reason == "deployment/web rolled out: 2/2 replicas ready"


def test_an_image_that_cannot_be_pulled_fails_with_the_evidence(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, pods=("pods_ready", {"selector": "app=broken"}))
    kubectl(sandbox, "create", "namespace", "pacman")
    kubectl(sandbox, "create", "deployment", "broken", "--image=example.com/missing:1", "-n", "pacman")
    wait_until(lambda: rec.status_of("pods") == "fail", what="ImagePullBackOff")
    result = rec.last("pods")
    assert "ImagePull" in result.reason or "ErrImagePull" in result.reason
    finding = next(f for f in result.findings if f.rule == "image_pull")
    assert "example.com/missing:1" in finding.message
    assert finding.command and finding.command.startswith("kubectl describe pod broken-")


def test_crash_loop_is_diagnosed_with_the_logs_command(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, pods=("pods_ready", {"selector": "app=crashy"}))
    kubectl(sandbox, "create", "namespace", "pacman")
    kubectl(
        sandbox, "create", "deployment", "crashy", "--image=busybox:1.36", "-n", "pacman", "--", "sh", "-c", "exit 1"
    )
    wait_until(lambda: any(f.rule == "crash_loop" for f in (rec.last("pods").findings if rec.last("pods") else ())))
    finding = next(f for f in rec.last("pods").findings if f.rule == "crash_loop")
    assert finding.command and finding.command.endswith("--previous")


def test_an_ingress_without_a_controller_says_so(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, address=("ingress_address", {"name": "pacman-ingress"}))
    kubectl(sandbox, "create", "namespace", "pacman")
    kubectl(sandbox, "create", "-f", "manifests/day55/pacman-ingress.yaml")
    wait_until(
        lambda: rec.last("address") and any(f.rule == "ingress_no_controller" for f in rec.last("address").findings)
    )
    assert rec.status_of("address") == "waiting"


def test_a_crd_kind_is_missing_until_its_crd_exists(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(eng, vsc=("exists", {"object": "volumesnapshotclass/csi-hostpath-snapclass"}))
    wait_until(lambda: rec.last("vsc") and "does not exist yet" in rec.last("vsc").reason)
    assert eng.cache.type_missing("volumesnapshotclass")
    kubectl(sandbox, "apply", "-f", "-", stdin=VSC_CRD)
    kubectl(sandbox, "wait", "--for=condition=Established", "crd/volumesnapshotclasses.snapshot.storage.k8s.io")
    kubectl(sandbox, "apply", "-f", "-", stdin=VSC)
    wait_until(lambda: rec.status_of("vsc") == "pass", timeout=30, what="the VolumeSnapshotClass to be seen")


VSC_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: volumesnapshotclasses.snapshot.storage.k8s.io
spec:
  group: snapshot.storage.k8s.io
  names:
    kind: VolumeSnapshotClass
    listKind: VolumeSnapshotClassList
    plural: volumesnapshotclasses
    singular: volumesnapshotclass
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""

VSC = """
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: csi-hostpath-snapclass
driver: hostpath.csi.k8s.io
deletionPolicy: Delete
"""


class TestRecovery:
    def test_expired_watch_relists_and_reports_what_changed_meanwhile(self, sandbox: Any, engine: Any) -> None:
        eng, rec = engine
        activate(eng, sc=("default_storageclass", {"name": "standard"}))
        wait_until(lambda: rec.status_of("sc") == "pass")
        lists_before = len(sandbox.requests.records(path=r"/storageclasses$", watch=False))
        # While the watch is down (its way back held), the class changes and the log is
        # compacted past that change. A watch resumed from the newest version would still be
        # valid, as on a real API server; from the one before the change it is gone (410).
        sandbox.pause_requests()
        try:
            sandbox.drop_watches()
            store_default(sandbox, "standard", "false")
            sandbox.expire_watch_cache()
        finally:
            sandbox.resume_requests()
        wait_until(lambda: rec.status_of("sc") == "waiting", what="the change made while the watch was down")
        assert len(sandbox.requests.records(path=r"/storageclasses$", watch=False)) > lists_before

    def test_dropped_watch_resumes(self, sandbox: Any, engine: Any) -> None:
        eng, rec = engine
        activate(eng, sc=("default_storageclass", {"name": "standard"}))
        wait_until(lambda: rec.status_of("sc") == "pass")
        for _ in range(3):
            sandbox.drop_watches()
        make_default(sandbox, "standard", "false")
        wait_until(lambda: rec.status_of("sc") == "waiting")
        make_default(sandbox, "standard", "true")
        wait_until(lambda: rec.status_of("sc") == "pass")

    def test_server_errors_for_a_while_then_recovery(self, sandbox: Any, engine: Any) -> None:
        eng, rec = engine
        activate(eng, sc=("default_storageclass", {"name": "standard"}))
        wait_until(lambda: rec.status_of("sc") == "pass")
        sandbox.faults.fail("GET", r"/storageclasses", status=500, times=None, duration=1.5)
        sandbox.drop_watches()
        wait_until(lambda: "reconnecting" in rec.states(), what="the reconnecting status")
        store_default(sandbox, "standard", "false")
        wait_until(lambda: rec.status_of("sc") == "waiting", what="recovery after the 500s")
        # The list that brought the change is what says the server answers again: reported just after.
        wait_until(lambda: rec.states()[-1] == "connected", what="the connected status")

    def test_api_down_then_back_on_a_new_port(self, sandbox: Any, engine: Any) -> None:
        eng, rec = engine
        activate(eng, sc=("default_storageclass", {"name": "standard"}), proc=("process_alive", {"process": "p"}))
        wait_until(lambda: rec.status_of("sc") == "pass")
        old_port = sandbox.port
        sandbox.stop_listening()
        sandbox.drop_watches()
        wait_until(lambda: "unreachable" in rec.states(), timeout=20, what="the unreachable status")
        # The engine reports the status, then judges the checks again on it (one batch, in that order).
        wait_until(lambda: rec.status_of("sc") == "waiting", what="the check judged on the status")
        down = rec.last("sc")
        assert down.status == "waiting" and down.reason.startswith("cluster unreachable since")
        assert any(f.rule == "api_unreachable" for f in down.findings)
        # A check that needs no cluster goes on being judged.
        assert rec.status_of("proc") == "waiting"
        store_default(sandbox, "standard", "false")
        new_port = sandbox.start_listening(new_port=True)
        assert new_port != old_port
        wait_until(lambda: rec.states()[-1] == "connected", timeout=20, what="reconnection on the new port")
        wait_until(lambda: rec.last("sc").reason == "no StorageClass is the default yet; standard should be")

    def test_a_hung_api_server_holds_a_check_back_until_it_answers(self, sandbox: Any, engine: Any) -> None:
        # A frozen VM or a laptop back from sleep: connections open, nothing answers.
        eng, rec = engine
        activate(eng, sc=("default_storageclass", {"name": "standard"}))
        wait_until(lambda: rec.status_of("sc") == "pass")
        sandbox.pause_requests()
        try:
            activate(
                eng, sc=("default_storageclass", {"name": "standard"}), node=("exists", {"object": "node/mc-demo"})
            )
            time.sleep(0.5)
            assert rec.last("node") is None or rec.status_of("node") != "pass"
        finally:
            sandbox.resume_requests()
        wait_until(lambda: rec.status_of("node") == "pass", what="the check once the server answers again")
        assert rec.status_of("sc") == "pass"

    def test_shutdown_is_not_held_up_by_a_hung_api_server(self, sandbox: Any) -> None:
        connection = ClusterConnection(Source.resolve(sandbox.kubeconfig))
        eng = CheckEngine(connection, BasicContext())
        eng.start()
        sandbox.pause_requests()
        try:
            eng.set_active({"node": build_check("exists", {"object": "node/mc-demo"}, namespace="pacman")})
            time.sleep(0.5)  # the list is on the wire, waiting
            started = time.monotonic()
            left = eng.close()
            took = time.monotonic() - started
            connection.close()
        finally:
            sandbox.resume_requests()
        assert left == []
        assert took < 3.0, f"closing took {took:.1f} s"
        assert tutor_threads() == []


def test_no_requests_while_idle_besides_the_open_watches(sandbox: Any, engine: Any) -> None:
    eng, rec = engine
    activate(
        eng,
        sc=("default_storageclass", {"name": "standard"}),
        node=("exists", {"object": "node/mc-demo"}),
    )
    wait_until(lambda: rec.status_of("sc") == "pass" and rec.status_of("node") == "pass")
    sandbox.wait_idle()
    start = time.time()
    time.sleep(watcher.HEARTBEAT_EVERY + 0.5)
    sent = sandbox.requests.records(since=start)
    # Only the liveness request (one per HEARTBEAT_EVERY): nothing lists or polls state.
    assert [r for r in sent if r.path.rstrip("/") != "/version"] == []
    assert 1 <= len(sent) <= 2


def test_close_leaves_no_thread_behind(sandbox: Any) -> None:
    connection = ClusterConnection(Source.resolve(sandbox.kubeconfig))
    eng = CheckEngine(connection, BasicContext())
    eng.start()
    eng.set_active({"sc": build_check("default_storageclass", {"name": "standard"}, namespace="pacman")})
    wait_until(lambda: eng.result("sc") is not None and eng.result("sc").passed)
    assert tutor_threads()
    assert eng.close() == []
    connection.close()
    assert tutor_threads() == []


def test_a_cluster_started_after_the_tutor_is_picked_up(tmp_path: Any) -> None:
    from tutor.sandbox import Delays, Sandbox

    with Sandbox(delays=Delays.instant(), profile="mc-demo", started=False) as sb:
        rec = Recorder()
        connection = ClusterConnection(Source.resolve(sb.kubeconfig))
        eng = CheckEngine(connection, BasicContext(), on_result=rec.on_result, on_status=rec.on_status)
        eng.start()
        eng.set_active({"node": build_check("exists", {"object": "node/mc-demo"}, namespace="pacman")})
        wait_until(lambda: rec.last("node"))
        assert rec.last("node").reason.startswith("no cluster yet: run the first step (minikube start)")
        sb.start_cluster()
        wait_until(lambda: rec.status_of("node") == "pass", what="the node once minikube started")
        assert eng.close() == []
        connection.close()
