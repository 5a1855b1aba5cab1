"""The HTTP API as clients see it: discovery, verbs, errors, tables, subresources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import api

from tutor.sandbox import Sandbox


def call(
    sb: Sandbox,
    method: str,
    path: str,
    body: Any = None,
    *,
    content_type: str = "application/json",
    accept: str = "application/json",
    raw: bytes | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    answer = api(sb, method, path, data, headers={"Content-Type": content_type, "Accept": accept})
    text = answer.body.decode()
    return answer.status, json.loads(text) if text.startswith("{") else text


def configmap(name: str, namespace: str = "default", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        **extra,
    }


def test_discovery_lists_the_lesson_resources_with_kubectl_names(sandbox: Sandbox) -> None:
    status, core = call(sandbox, "GET", "/api/v1")
    assert status == 200
    assert core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"]
    assert by_name["pods"]["categories"] == ["all"]
    assert by_name["persistentvolumeclaims"]["shortNames"] == ["pvc"]
    assert by_name["persistentvolumes"]["namespaced"] is False
    assert by_name["pods/status"]["verbs"] == ["get", "patch", "update"]
    status, groups = call(sandbox, "GET", "/apis")
    names = [g["name"] for g in groups["groups"]]
    for group in (
        "apps",
        "batch",
        "networking.k8s.io",
        "storage.k8s.io",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
    ):
        assert group in names
    _, apps = call(sandbox, "GET", "/apis/apps/v1")
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    # Aggregated discovery is answered in the legacy format, as an older server would.
    status, doc = call(
        sandbox,
        "GET",
        "/apis",
        accept="application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    )
    assert status == 200
    assert doc["kind"] == "APIGroupList"


def test_version_reports_what_the_cluster_was_started_with(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(kubernetes_version="v1.30.2")
    status, version = call(sandbox, "GET", "/version")
    assert status == 200
    assert (version["major"], version["minor"], version["gitVersion"]) == ("1", "30", "v1.30.2")


def test_unknown_resources_are_404_like_the_real_server(sandbox: Sandbox) -> None:
    status, body = call(sandbox, "GET", "/api/v1/frobnicators")
    assert status == 404
    assert body["message"] == "the server could not find the requested resource"
    status, _ = call(sandbox, "GET", "/apis/nope.example.com/v1")
    assert status == 404


def test_create_conflicts_and_namespaces(sandbox: Sandbox) -> None:
    status, created = call(sandbox, "POST", "/api/v1/namespaces/default/configmaps", configmap("c"))
    assert status == 201
    assert created["metadata"]["uid"]
    assert created["metadata"]["resourceVersion"]
    status, err = call(sandbox, "POST", "/api/v1/namespaces/default/configmaps", configmap("c"))
    assert (status, err["reason"], err["message"]) == (
        409,
        "AlreadyExists",
        'configmaps "c" already exists',
    )
    status, err = call(sandbox, "POST", "/api/v1/namespaces/nowhere/configmaps", configmap("c", "nowhere"))
    assert (status, err["message"]) == (404, 'namespaces "nowhere" not found')
    status, err = call(sandbox, "POST", "/api/v1/namespaces/default/configmaps", configmap("c", "kube-system"))
    assert status == 400


def test_generate_name_and_dry_run(sandbox: Sandbox) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}
    status, created = call(sandbox, "POST", "/api/v1/namespaces/default/configmaps", body)
    assert status == 201
    assert created["metadata"]["name"].startswith("gen-")
    assert len(created["metadata"]["name"]) == 9
    before = sandbox.store.resource_version
    status, _ = call(sandbox, "POST", "/api/v1/namespaces/default/configmaps?dryRun=All", configmap("dry"))
    assert status == 201
    assert sandbox.store.get("configmaps", "default", "dry") is None
    assert sandbox.store.resource_version == before


def test_put_with_a_stale_resource_version_is_a_conflict(sandbox: Sandbox) -> None:
    _, created = call(sandbox, "POST", "/api/v1/namespaces/default/configmaps", configmap("c", data={"a": "1"}))
    fresh = dict(created, data={"a": "2"})
    status, updated = call(sandbox, "PUT", "/api/v1/namespaces/default/configmaps/c", fresh)
    assert status == 200
    assert updated["data"] == {"a": "2"}
    stale = dict(created, data={"a": "3"})
    status, err = call(sandbox, "PUT", "/api/v1/namespaces/default/configmaps/c", stale)
    assert status == 409
    assert err["reason"] == "Conflict"
    assert "the object has been modified" in err["message"]


def test_creating_in_a_terminating_namespace_is_forbidden(sandbox: Sandbox) -> None:
    sandbox.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
    sandbox.store.create(configmap("keep", "doomed"))
    status, ns = call(sandbox, "DELETE", "/api/v1/namespaces/doomed")
    assert status == 200
    assert ns["status"]["phase"] == "Terminating"
    status, err = call(sandbox, "POST", "/api/v1/namespaces/doomed/configmaps", configmap("new", "doomed"))
    assert status == 403
    assert (
        err["message"] == 'configmaps "new" is forbidden: unable to create new content in namespace doomed '
        "because it is being terminated"
    )
    # Deleting what is in it still works: `kubectl delete -f` relies on it.
    status, _ = call(sandbox, "DELETE", "/api/v1/namespaces/doomed/configmaps/keep")
    assert status == 200
    sandbox.wait_idle()
    assert sandbox.store.get("namespaces", "", "doomed") is None


def test_table_output_has_kubectls_columns(sandbox: Sandbox) -> None:
    status, table = call(
        sandbox,
        "GET",
        "/api/v1/namespaces/kube-system/pods",
        accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )
    assert status == 200
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    row = next(r for r in table["rows"] if r["cells"][0].startswith("coredns-"))
    assert row["cells"][1:4] == ["1/1", "Running", "0"]
    assert row["object"]["kind"] == "PartialObjectMetadata"


def test_scale_subresource_speaks_autoscaling_v1(sandbox: Sandbox) -> None:
    status, scale = call(sandbox, "GET", "/apis/apps/v1/namespaces/kube-system/deployments/coredns/scale")
    assert status == 200
    assert (scale["kind"], scale["apiVersion"], scale["spec"]["replicas"]) == (
        "Scale",
        "autoscaling/v1",
        1,
    )
    assert scale["status"]["selector"] == "k8s-app=kube-dns"
    status, scale = call(
        sandbox,
        "PATCH",
        "/apis/apps/v1/namespaces/kube-system/deployments/coredns/scale",
        {"spec": {"replicas": 2}},
        content_type="application/merge-patch+json",
    )
    assert status == 200
    assert scale["spec"]["replicas"] == 2
    sandbox.wait_idle()
    assert sandbox.store.read("deployments.apps", "kube-system", "coredns")["status"]["readyReplicas"] == 2


def test_status_writes_keep_spec_and_spec_writes_keep_status(sandbox: Sandbox) -> None:
    path = "/apis/apps/v1/namespaces/kube-system/deployments/coredns"
    _, deployment = call(sandbox, "GET", path)
    deployment["status"] = {"replicas": 99}
    deployment["spec"]["replicas"] = 1
    _, after = call(sandbox, "PUT", path, deployment)
    assert after["status"]["replicas"] == 1, "the main resource ignores status"
    _, deployment = call(sandbox, "GET", path)
    deployment["spec"]["replicas"] = 7
    _, after = call(sandbox, "PUT", path + "/status", deployment)
    assert after["spec"]["replicas"] == 1, "the status subresource ignores spec"


def test_generation_moves_with_spec_only(sandbox: Sandbox) -> None:
    path = "/apis/apps/v1/namespaces/kube-system/deployments/coredns"
    _, before = call(sandbox, "GET", path)
    _, labelled = call(
        sandbox,
        "PATCH",
        path,
        {"metadata": {"labels": {"x": "y"}}},
        content_type="application/merge-patch+json",
    )
    assert labelled["metadata"]["generation"] == before["metadata"]["generation"]
    _, scaled = call(
        sandbox,
        "PATCH",
        path,
        {"spec": {"replicas": 3}},
        content_type="application/merge-patch+json",
    )
    assert scaled["metadata"]["generation"] == before["metadata"]["generation"] + 1


def test_invalid_objects_are_422(sandbox: Sandbox) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "other"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    status, err = call(sandbox, "POST", "/apis/apps/v1/namespaces/default/deployments", deployment)
    assert status == 422
    assert err["reason"] == "Invalid"
    assert err["message"].startswith('Deployment.apps "web" is invalid: spec.template.metadata.labels')
    assert "`selector` does not match template `labels`" in err["message"]
    status, err = call(
        sandbox,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}},
    )
    assert status == 422
    assert "name or generateName is required" in err["message"]


def test_delete_collection_by_label(sandbox: Sandbox) -> None:
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        sandbox.store.create(
            configmap(name, metadata_labels=None)
            | {"metadata": {"name": name, "namespace": "default", "labels": {"team": team}}}
        )
    status, _ = call(sandbox, "DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=team%3Dx")
    assert status == 200
    names = [c["metadata"]["name"] for c in sandbox.store.list("configmaps", "default")]
    assert "a" not in names
    assert "b" not in names
    assert "c" in names


@pytest.mark.parametrize(
    ("content_type", "patch", "expected"),
    [
        ("application/merge-patch+json", {"data": {"b": "2", "a": None}}, {"b": "2"}),
        (
            "application/json-patch+json",
            [{"op": "add", "path": "/data/b", "value": "2"}],
            {"a": "1", "b": "2"},
        ),
        ("application/strategic-merge-patch+json", {"data": {"b": "2"}}, {"a": "1", "b": "2"}),
    ],
)
def test_patch_formats(sandbox: Sandbox, content_type: str, patch: Any, expected: dict[str, str]) -> None:
    sandbox.store.create(configmap("c", data={"a": "1"}))
    status, patched = call(
        sandbox,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/c",
        patch,
        content_type=content_type,
    )
    assert status == 200
    assert patched["data"] == expected


def test_server_side_apply_creates_then_merges(sandbox: Sandbox) -> None:
    path = "/api/v1/namespaces/default/configmaps/applied?fieldManager=test"
    body = json.dumps(configmap("applied", data={"a": "1"}))
    status, _ = call(sandbox, "PATCH", path, raw=body.encode(), content_type="application/apply-patch+yaml")
    assert status == 201
    body = json.dumps(configmap("applied", data={"b": "2"}))
    status, merged = call(sandbox, "PATCH", path, raw=body.encode(), content_type="application/apply-patch+yaml")
    assert status == 200
    assert merged["data"] == {"a": "1", "b": "2"}


def test_pod_logs_are_what_the_container_printed_or_what_the_provider_says(sandbox: Sandbox) -> None:
    path = "/api/v1/namespaces/kube-system/pods/storage-provisioner/log"
    assert "Initializing the minikube storage provisioner" in api(sandbox, "GET", path).body.decode()
    sandbox.log_provider = lambda pod, container: f"{pod['metadata']['name']}/{container}: hello\n"
    assert api(sandbox, "GET", path).body.decode() == "storage-provisioner/storage-provisioner: hello\n"
