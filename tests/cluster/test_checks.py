"""Each check kind in each state, over fixed objects (no cluster): what the learner reads."""

from __future__ import annotations

import pytest

from tests.cluster import factory as f
from tests.cluster.helpers import evaluate
from tutor.cluster.checks import CHECK_CLASSES, BasicContext, CheckError, Remembered, build_check
from tutor.lesson import schema


def test_every_schema_kind_has_exactly_one_check_class() -> None:
    assert set(CHECK_CLASSES) == set(schema.CHECK_KINDS)


class TestBuild:
    def test_unknown_kind_names_the_known_ones(self) -> None:
        with pytest.raises(CheckError, match=r"unknown check kind 'exist'.*exists"):
            build_check("exist", {"object": "pod/x"}, namespace="pacman")

    def test_substituted_value_that_is_invalid_is_refused(self) -> None:
        with pytest.raises(CheckError, match=r"count.*whole number"):
            build_check("pods_ready", {"selector": "name=mongo", "count": "lots"}, namespace="pacman")

    def test_unfilled_runtime_variable_is_refused(self) -> None:
        with pytest.raises(CheckError, match=r"\{node_ip\}"):
            build_check("http", {"urls": ["http://{node_ip}/"]}, namespace="pacman")

    def test_default_title_says_what_is_checked(self) -> None:
        check = build_check("rollout_complete", {"object": "sts/mongo"}, namespace="pacman")
        assert check.title == "statefulset/mongo rolled out in pacman"
        titled = build_check("exists", {"object": "node/mc-demo"}, namespace="pacman", title="the node is there")
        assert titled.title == "the node is there"

    def test_rollout_of_a_pod_is_refused(self) -> None:
        with pytest.raises(CheckError, match="not a Deployment"):
            build_check("rollout_complete", {"object": "pod/mongo-0"}, namespace="pacman")


class TestExistsAbsent:
    def test_exists(self) -> None:
        assert evaluate("exists", [f.node("mc-demo")], object="node/mc-demo").status == "pass"
        result = evaluate("exists", [], object="statefulset/mongo")
        assert (result.status, result.reason) == ("waiting", "statefulset/mongo does not exist yet in namespace pacman")

    def test_exists_while_being_deleted_is_waiting(self) -> None:
        sts = f.statefulset("mongo")
        sts["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
        assert (
            evaluate("exists", [sts], object="sts/mongo").reason
            == "statefulset/mongo is being deleted in namespace pacman"
        )

    def test_exists_only_in_its_namespace(self) -> None:
        assert evaluate("exists", [f.statefulset("mongo", "other")], object="sts/mongo").status == "waiting"

    def test_exists_remembers_the_object_once(self) -> None:
        ctx = BasicContext()
        first = f.statefulset("mongo")
        evaluate("exists", [first, f.pod("mongo-0")], ctx=ctx, object="sts/mongo", remember="db")
        record = Remembered.from_json(ctx.memory["db"])
        assert record is not None
        assert record.value["uid"] == first["metadata"]["uid"]
        evaluate("exists", [f.statefulset("mongo"), f.pod("mongo-0")], ctx=ctx, object="sts/mongo", remember="db")
        assert Remembered.from_json(ctx.memory["db"]) == record

    def test_absent(self) -> None:
        assert evaluate("absent", [], object="pod/mongo-0").status == "pass"
        assert (
            evaluate("absent", [f.pod("mongo-0")], object="pod/mongo-0").reason
            == "pod/mongo-0 still exists in namespace pacman"
        )


class TestFieldEquals:
    def test_compares_as_text(self) -> None:
        ing = f.ingress("pacman-ingress", address="127.0.0.10")
        path = "status.loadBalancer.ingress[0].ip"
        assert evaluate("field_equals", [ing], object="ingress/pacman-ingress", path=path, equals="127.0.0.10").passed
        assert evaluate(
            "field_equals", [f.deployment("pacman", replicas=5)], object="deploy/pacman", path="spec.replicas", equals=5
        ).passed

    def test_annotation_keys_with_dots(self) -> None:
        sc = f.storage_class("csi-hostpath-sc", default="true")
        path = 'metadata.annotations["storageclass.kubernetes.io/is-default-class"]'
        assert evaluate("field_equals", [sc], object="sc/csi-hostpath-sc", path=path, equals=True).passed

    def test_different_and_missing_values_wait(self) -> None:
        result = evaluate(
            "field_equals",
            [f.deployment("pacman", replicas=1)],
            object="deploy/pacman",
            path="spec.replicas",
            equals="5",
        )
        assert result.reason == "deployment/pacman has spec.replicas = 1, expected 5"
        missing = evaluate(
            "field_equals", [f.ingress("i")], object="ingress/i", path="status.loadBalancer.ingress[0].ip", equals="x"
        )
        assert missing.status == "waiting" and "has no status.loadBalancer.ingress[0].ip yet" in missing.reason


class TestDefaultStorageClass:
    def test_only_default(self) -> None:
        classes = [f.storage_class("csi-hostpath-sc", default="true"), f.storage_class("standard", default="false")]
        result = evaluate("default_storageclass", classes, name="csi-hostpath-sc")
        assert result.passed
        assert "csi-hostpath-sc (default)  example.com/p" in result.evidence

    def test_beta_annotation_counts(self) -> None:
        assert evaluate("default_storageclass", [f.storage_class("a", default="true", beta=True)], name="a").passed

    def test_two_defaults_say_which(self) -> None:
        classes = [f.storage_class("csi-hostpath-sc", default="true"), f.storage_class("standard", default="true")]
        result = evaluate("default_storageclass", classes, name="csi-hostpath-sc")
        assert result.status == "waiting"
        assert "2 StorageClasses are the default (csi-hostpath-sc and standard)" in result.reason
        assert "mark standard as not default" in result.reason

    def test_other_default_and_none(self) -> None:
        classes = [f.storage_class("csi-hostpath-sc"), f.storage_class("standard", default="true")]
        assert (
            evaluate("default_storageclass", classes, name="csi-hostpath-sc").reason
            == "standard is the default, not csi-hostpath-sc"
        )
        assert (
            "no StorageClass is the default"
            in evaluate("default_storageclass", [f.storage_class("csi-hostpath-sc")], name="csi-hostpath-sc").reason
        )
        assert "does not exist yet" in evaluate("default_storageclass", [], name="csi-hostpath-sc").reason


class TestPodsReady:
    def test_count_and_all(self) -> None:
        pods = [f.pod(f"pacman-{i}", labels={"name": "pacman"}) for i in range(5)]
        assert evaluate("pods_ready", pods, selector="name=pacman", count="5").passed
        assert evaluate("pods_ready", pods, selector="name=pacman").passed
        result = evaluate("pods_ready", pods[:3], selector="name=pacman", count=5)
        assert result.reason == "3/5 ready: 2 not created yet"

    def test_progress_names_the_pod_and_its_claim(self) -> None:
        pods = [f.pod("mongo-0", labels={"name": "mongo"}, ready=False, claims=("mongo-data-mongo-0",))]
        result = evaluate(
            "pods_ready", [*pods, f.pvc("mongo-data-mongo-0", phase="Pending")], selector="name=mongo", count=1
        )
        assert result.status == "waiting"
        assert result.reason == "0/1 ready: mongo-0 Pending, PVC mongo-data-mongo-0 Pending"

    def test_no_pods_yet(self) -> None:
        assert evaluate("pods_ready", [], selector="name=mongo").reason == "no pods with name=mongo in pacman yet"

    def test_terminating_pods_do_not_count(self) -> None:
        old = f.pod("mongo-0", labels={"name": "mongo"}, deletionTimestamp="2024-01-01T00:00:00Z")
        result = evaluate("pods_ready", [old], selector="name=mongo", count=1)
        assert result.status == "waiting" and "1 terminating" in result.reason

    def test_too_many_pods(self) -> None:
        pods = [f.pod(f"pacman-{i}", labels={"name": "pacman"}) for i in range(6)]
        assert "6 pods, 1 more than 5" in evaluate("pods_ready", pods, selector="name=pacman", count=5).reason

    def test_image_pull_backoff_fails(self) -> None:
        stuck = f.pod(
            "mongo-0",
            labels={"name": "mongo"},
            ready=False,
            statuses=[f.container_status("main", waiting="ImagePullBackOff")],
        )
        result = evaluate("pods_ready", [stuck], selector="name=mongo", count=1)
        assert (result.status, result.reason) == ("fail", "mongo-0 is in ImagePullBackOff")

    def test_other_selectors_and_namespaces_are_ignored(self) -> None:
        pods = [
            f.pod("web", labels={"name": "web"}, ready=False),
            f.pod("mongo-0", "elsewhere", labels={"name": "mongo"}, ready=False),
        ]
        assert evaluate(
            "pods_ready", [*pods, f.pod("mongo-0", labels={"name": "mongo"})], selector="name=mongo", count=1
        ).passed


class TestPvcBound:
    def test_bound_with_class(self) -> None:
        claim = f.pvc("mongo-data-mongo-0", storage_class="csi-hostpath-sc")
        result = evaluate("pvc_bound", [claim], name="mongo-data-mongo-0", storage_class="csi-hostpath-sc")
        assert result.passed and "Bound to pvc-mongo-data-mongo-0 (1Gi, csi-hostpath-sc)" in result.reason

    def test_pending_waits_and_wrong_class_fails(self) -> None:
        pending = evaluate("pvc_bound", [f.pvc("c", phase="Pending")], name="c", storage_class="csi-hostpath-sc")
        assert (pending.status, pending.reason) == ("waiting", "PVC c is Pending (no StorageClass yet)")
        wrong = evaluate("pvc_bound", [f.pvc("c", storage_class="standard")], name="c", storage_class="csi-hostpath-sc")
        assert wrong.status == "fail" and "uses StorageClass standard, not csi-hostpath-sc" in wrong.reason
        assert evaluate("pvc_bound", [f.pvc("c", phase="Lost")], name="c").status == "fail"
        assert evaluate("pvc_bound", [], name="c").reason == "PVC c does not exist yet in pacman"


class TestRolloutComplete:
    def test_deployment(self) -> None:
        assert evaluate(
            "rollout_complete", [f.deployment("pacman", replicas=5)], object="deploy/pacman", replicas=5
        ).passed
        partial = evaluate(
            "rollout_complete", [f.deployment("pacman", replicas=5, available=3)], object="deploy/pacman"
        )
        assert partial.reason == "deployment/pacman: 3/5 replicas available"

    def test_deployment_not_scaled_yet(self) -> None:
        result = evaluate(
            "rollout_complete", [f.deployment("pacman", replicas=1)], object="deploy/pacman", replicas="5"
        )
        assert result.reason == "deployment/pacman wants 1 replica, expected 5: scale it"

    def test_new_generation_not_observed(self) -> None:
        dep = f.deployment("pacman", generation=2, observed=1)
        assert "has not seen the latest change" in evaluate("rollout_complete", [dep], object="deploy/pacman").reason

    def test_deadline_exceeded_fails(self) -> None:
        conditions = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
        dep = f.deployment("pacman", available=0, conditions=conditions)
        assert evaluate("rollout_complete", [dep], object="deploy/pacman").status == "fail"

    def test_statefulset_with_pod_progress(self) -> None:
        items = [
            f.statefulset("mongo", ready=0),
            f.pod("mongo-0", labels={"name": "mongo"}, ready=False, claims=("mongo-data-mongo-0",)),
            f.pvc("mongo-data-mongo-0", phase="Pending"),
        ]
        result = evaluate("rollout_complete", items, object="statefulset/mongo")
        assert result.reason == "statefulset/mongo: 0/1 replicas ready: mongo-0 Pending, PVC mongo-data-mongo-0 Pending"
        assert evaluate("rollout_complete", [f.statefulset("mongo")], object="sts/mongo").passed

    def test_statefulset_revision_pending(self) -> None:
        sts = f.statefulset("mongo", replicas=2, updated=1, revisions=("r1", "r2"))
        assert (
            evaluate("rollout_complete", [sts], object="sts/mongo").reason == "statefulset/mongo: 1/2 replicas updated"
        )

    def test_crash_loop_of_its_pod_fails(self) -> None:
        items = [
            f.statefulset("mongo", ready=0),
            f.pod(
                "mongo-0",
                labels={"name": "mongo"},
                ready=False,
                statuses=[f.container_status("main", waiting="CrashLoopBackOff")],
            ),
        ]
        assert (
            evaluate("rollout_complete", items, object="sts/mongo").reason
            == "statefulset/mongo: mongo-0 is in CrashLoopBackOff"
        )

    def test_daemonset(self) -> None:
        assert evaluate("rollout_complete", [f.daemonset("csi", "pacman")], object="ds/csi").passed
        assert (
            evaluate("rollout_complete", [f.daemonset("csi", "pacman", available=0)], object="ds/csi").status
            == "waiting"
        )


class TestAddonEnabled:
    def test_ingress(self) -> None:
        parts = [
            f.namespace("ingress-nginx"),
            f.deployment("ingress-nginx-controller", "ingress-nginx"),
            f.ingress_class("nginx"),
        ]
        assert evaluate("addon_enabled", parts, addon="ingress").passed
        starting = [parts[0], f.deployment("ingress-nginx-controller", "ingress-nginx", available=0), parts[2]]
        result = evaluate("addon_enabled", starting, addon="ingress")
        assert result.reason == (
            "the ingress addon is not enabled yet (2/3 parts in place): "
            "deployment/ingress-nginx-controller in ingress-nginx: 0/1 available"
        )

    def test_volumesnapshots_before_the_crds_exist(self) -> None:
        result = evaluate("addon_enabled", [], addon="volumesnapshots", missing_types=["customresourcedefinition"])
        assert "(the API has no customresourcedefinition type yet)" in result.reason
        crds = [
            f.crd(f"{plural}.snapshot.storage.k8s.io")
            for plural in ("volumesnapshots", "volumesnapshotclasses", "volumesnapshotcontents")
        ]
        done = [*crds, f.deployment("snapshot-controller", "kube-system", replicas=2)]
        assert evaluate("addon_enabled", done, addon="volumesnapshots").passed

    def test_csi_hostpath_driver(self) -> None:
        assert evaluate(
            "addon_enabled",
            [f.csidriver("hostpath.csi.k8s.io"), f.storage_class("csi-hostpath-sc")],
            addon="csi-hostpath-driver",
        ).passed
        assert (
            evaluate("addon_enabled", [f.csidriver("hostpath.csi.k8s.io")], addon="csi-hostpath-driver").status
            == "waiting"
        )


class TestIngressAddress:
    def test_states(self) -> None:
        assert evaluate(
            "ingress_address", [f.ingress("pacman-ingress", address="192.168.49.2")], name="pacman-ingress"
        ).reason == ("ingress pacman-ingress has the address 192.168.49.2")
        assert evaluate("ingress_address", [f.ingress("pacman-ingress")], name="pacman-ingress").status == "waiting"
        assert "does not exist yet" in evaluate("ingress_address", [], name="pacman-ingress").reason


class TestProcessAlive:
    @pytest.mark.parametrize(
        ("state", "status", "reason"),
        [
            ("ready", "pass", "pacman-forward is running"),
            ("starting", "waiting", "pacman-forward is starting"),
            ("exited: lost connection to pod", "fail", "pacman-forward exited: lost connection to pod"),
            (None, "waiting", "pacman-forward is not running: start it from this step"),
            (
                "unavailable: background commands run in the tutor",
                "waiting",
                "pacman-forward: background commands run in the tutor",
            ),
        ],
    )
    def test_states(self, state: str | None, status: str, reason: str) -> None:
        ctx = BasicContext(processes={"pacman-forward": state} if state else {})
        result = evaluate("process_alive", ctx=ctx, process="pacman-forward")
        assert (result.status, result.reason) == (status, reason)


class TestCommand:
    def test_exit_statuses(self) -> None:
        def runner(argv: object, timeout: float) -> tuple[int | None, str]:
            return {"ok": (0, "fine\n"), "no": (1, "nope\n"), "slow": (None, ""), "absent": (127, "not found")}[argv[0]]  # type: ignore[index]

        ctx = BasicContext(runner=runner)
        assert evaluate("command", ctx=ctx, run="ok --flag").passed
        assert evaluate("command", ctx=ctx, run="no").reason == "`no` exited 1, expected 0"
        assert evaluate("command", ctx=ctx, run="no", exit=1).passed
        assert evaluate("command", ctx=ctx, run="slow", timeout=2).reason == "`slow` did not finish within 2 s"
        assert evaluate("command", ctx=ctx, run="absent").status == "fail"

    def test_a_pipe_is_refused(self) -> None:
        with pytest.raises(CheckError, match="command"):
            build_check("command", {"run": "kubectl get pods | grep mongo"}, namespace="pacman")
