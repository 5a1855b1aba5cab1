"""The API server validates: kubectl turns on server-side field validation against it, and a
misspelt or mistyped field is answered in the real server's words; `kubectl explain` works.
Run with kubectl 1.31 (JSON bodies) and 1.33 (protobuf bodies for typed commands)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox_helpers import KUBECTL, REPO, Kubectl, api, make_kubectl

from tutor.sandbox import Sandbox, protobuf
from tutor.sandbox.validation import go_format

TYPO = 'unknown field "spec.template.spec.containers[0].imagePullPolice"'
PREFIX = 'Deployment in version "v1" cannot be handled as a Deployment: '


def deployment(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", **container}]},
            },
        },
    }


@pytest.fixture(params=["v1.31.0", "v1.33.1"])
def cluster(request: pytest.FixtureRequest, sandbox_factory: Callable[..., Sandbox]) -> tuple[Sandbox, Kubectl]:
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH")
    sandbox = sandbox_factory(kubernetes_version=request.param)
    return sandbox, make_kubectl(sandbox)


def manifest(tmp_path: Path, obj: dict[str, Any], name: str = "deploy.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(obj))
    return str(path)


# ---- kubectl -------------------------------------------------------------------------------


def test_a_misspelt_field_is_refused_as_on_a_real_server(cluster: tuple[Sandbox, Kubectl], tmp_path: Path) -> None:
    sandbox, kubectl = cluster
    path = manifest(tmp_path, deployment(imagePullPolice="Always"))
    result = kubectl("create", "-f", path)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f'Error from server (BadRequest): error when creating "{path}": {PREFIX}strict decoding error: {TYPO}'
    )
    assert sandbox.store.get("deployments.apps", "default", "web") is None


def test_validate_warn_creates_and_warns_and_false_says_nothing(
    cluster: tuple[Sandbox, Kubectl], tmp_path: Path
) -> None:
    _sandbox, kubectl = cluster
    path = manifest(tmp_path, deployment(imagePullPolice="Always"))
    warned = kubectl("create", "-f", path, "--validate=warn", check=True)
    assert f"Warning: {TYPO}" in warned.stderr
    kubectl("delete", "-f", path, check=True)
    silent = kubectl("create", "-f", path, "--validate=false", check=True)
    assert "Warning" not in silent.stderr
    assert "created" in silent.stdout


def test_an_unknown_field_let_through_is_not_stored(cluster: tuple[Sandbox, Kubectl], tmp_path: Path) -> None:
    # A real server decodes into its types: a field they lack is dropped, whatever it warns.
    sandbox, kubectl = cluster
    path = manifest(tmp_path, deployment(imagePullPolice="Always"))
    for flag in ("--validate=warn", "--validate=false"):
        kubectl("create", "-f", path, flag, check=True)
        container = sandbox.store.read("deployments.apps", "default", "web")["spec"]["template"]["spec"]["containers"][
            0
        ]
        assert "imagePullPolice" not in container, flag
        assert container["imagePullPolicy"] == "Always"  # the real field, defaulted from the tag
        kubectl("delete", "-f", path, check=True)
    kubectl("create", "-f", path, "--validate=false", check=True)
    patched = kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"replicaz":3}}', check=True)
    assert 'Warning: unknown field "spec.replicaz"' in patched.stderr
    assert "patched (no change)" in patched.stdout  # the field went nowhere
    loose = kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"replicaz":3,"replicas":2}}')
    assert loose.returncode == 0, loose.stderr
    spec = sandbox.store.read("deployments.apps", "default", "web")["spec"]
    assert (spec["replicas"], "replicaz" in spec) == (2, False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"spec": {"replicas": "3"}},
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            {"spec": {"template": {"spec": {"containers": {"name": "nginx"}}}}},
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type "
            "[]v1.Container",
        ),
        (
            {"spec": {"replicas": 3000000000}},
            "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
    ],
)
def test_a_mistyped_field_is_refused_with_the_decoders_words(
    cluster: tuple[Sandbox, Kubectl], tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    _sandbox, kubectl = cluster
    obj = deployment()

    def merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict) and key != "containers":
                merge(into[key], value)
            else:
                into[key] = value

    merge(obj, change)
    result = kubectl("create", "-f", manifest(tmp_path, obj), "--validate=false")
    assert result.returncode == 1
    assert result.stderr.strip().endswith(PREFIX + message)


def test_container_fields_of_the_wrong_type(cluster: tuple[Sandbox, Kubectl], tmp_path: Path) -> None:
    _sandbox, kubectl = cluster
    image = kubectl("create", "-f", manifest(tmp_path, deployment(image=5)), "--validate=false")
    assert image.stderr.strip().endswith(
        "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image "
        "of type string"
    )
    policy = kubectl("create", "-f", manifest(tmp_path, deployment(imagePullPolicy=True)), "--validate=false")
    assert policy.stderr.strip().endswith(
        "json: cannot unmarshal bool into Go struct field Container.spec.template.spec.containers.imagePullPolicy "
        "of type v1.PullPolicy"
    )
    quantity = kubectl(
        "create", "-f", manifest(tmp_path, deployment(resources={"limits": {"cpu": "lots"}})), "--validate=false"
    )
    assert quantity.stderr.strip().endswith(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_apply_of_an_existing_object_is_checked_too(cluster: tuple[Sandbox, Kubectl], tmp_path: Path) -> None:
    sandbox, kubectl = cluster
    kubectl("apply", "-f", manifest(tmp_path, deployment()), check=True)
    assert "unchanged" in kubectl("apply", "-f", manifest(tmp_path, deployment()), check=True).stdout
    typo = kubectl("apply", "-f", manifest(tmp_path, deployment(imagePullPolice="Always")))
    assert typo.returncode == 1
    assert "The request is invalid: patch: Invalid value: " in typo.stderr
    assert f"strict decoding error: {TYPO}" in typo.stderr
    newer = kubectl("apply", "-f", manifest(tmp_path, deployment(image="nginx:1.27")), check=True)
    assert "configured" in newer.stdout
    container = sandbox.store.read("deployments.apps", "default", "web")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in container] == [("nginx", "nginx:1.27")]


def test_server_side_apply_refuses_unknown_fields_by_their_apply_path(
    cluster: tuple[Sandbox, Kubectl], tmp_path: Path
) -> None:
    _sandbox, kubectl = cluster
    kubectl("apply", "--server-side", "-f", manifest(tmp_path, deployment()), check=True)
    typo = kubectl("apply", "--server-side", "-f", manifest(tmp_path, deployment(imagePullPolice="Always")))
    assert typo.returncode == 1
    assert typo.stderr.strip() == (
        "Error from server: failed to create typed patch object (default/web; apps/v1, Kind=Deployment): "
        '.spec.template.spec.containers[name="nginx"].imagePullPolice: field not declared in schema'
    )


def test_patches_of_the_wrong_type_are_invalid(cluster: tuple[Sandbox, Kubectl], tmp_path: Path) -> None:
    _sandbox, kubectl = cluster
    kubectl("create", "-f", manifest(tmp_path, deployment()), check=True)
    strategic = kubectl("patch", "deployment", "web", "-p", '{"spec": {"replicas": "x"}}')
    assert strategic.returncode == 1
    assert strategic.stderr.strip() == (
        'The request is invalid: patch: Invalid value: "map[spec:map[replicas:x]]": unrecognized type: int32'
    )
    merge = kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"spec": {"replicas": "x"}}')
    assert merge.stderr.strip().endswith(
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    )
    warned = kubectl("patch", "deployment", "web", "-p", '{"spec": {"replicaz": 2}}', check=True)
    assert 'Warning: unknown field "spec.replicaz"' in warned.stderr


def test_explain_reads_the_published_schemas(cluster: tuple[Sandbox, Kubectl]) -> None:
    _sandbox, kubectl = cluster
    containers = kubectl("explain", "pod.spec.containers", check=True).stdout
    assert "KIND:       Pod" in containers
    assert "FIELD: containers <[]Container>" in containers
    assert "imagePullPolicy\t<string>" in containers
    assert "image\t<string>" in containers
    replicas = kubectl("explain", "deployments.spec.replicas", check=True).stdout
    assert "GROUP:      apps" in replicas
    assert "FIELD: replicas <integer>" in replicas
    assert "Number of desired pods." in replicas
    ports = kubectl("explain", "service.spec.ports", check=True).stdout
    assert "targetPort\t<IntOrString>" in ports
    limits = kubectl("explain", "pod.spec.containers.resources", check=True).stdout
    assert "limits\t<map[string]Quantity>" in limits
    missing = kubectl("explain", "pod.spec.containerz")
    assert missing.returncode == 1
    assert 'field "containerz" does not exist' in missing.stderr


# ---- any client ------------------------------------------------------------------------------


def post(sandbox: Sandbox, body: bytes | dict[str, Any], query: str = "") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api(sandbox, "POST", f"/apis/apps/v1/namespaces/default/deployments{query}", raw)


def test_duplicate_fields_are_refused_when_strict(sandbox: Sandbox) -> None:
    text = json.dumps(deployment()).replace('"replicas": 1', '"replicas": 1, "replicas": 2').encode()
    refused = post(sandbox, text, "?fieldValidation=Strict")
    assert refused.status == 400
    assert refused.json()["message"] == PREFIX + 'strict decoding error: duplicate field "spec.replicas"'
    warned = post(sandbox, text)
    assert warned.status == 201
    assert warned.headers["Warning"] == '299 - "duplicate field \\"spec.replicas\\""'


def test_the_default_warns_and_ignore_is_silent(sandbox: Sandbox) -> None:
    body = deployment(imagePullPolice="Always")
    warned = post(sandbox, body)
    assert warned.status == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"spec.template.spec.containers[0].imagePullPolice\\""'
    api(sandbox, "DELETE", "/apis/apps/v1/namespaces/default/deployments/web")
    ignored = post(sandbox, body, "?fieldValidation=Ignore")
    assert ignored.status == 201
    assert "Warning" not in ignored.headers
    wrong = post(sandbox, body, "?fieldValidation=Loose")
    assert wrong.status == 422
    assert wrong.json()["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loose": '
        'supported values: "", "Ignore", "Strict", "Warn"'
    )


def test_secret_data_must_be_base64(sandbox: Sandbox) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "not base64!"}}
    answer = api(sandbox, "POST", "/api/v1/namespaces/default/secrets", json.dumps(body).encode())
    assert answer.status == 400
    assert answer.json()["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    )


def test_labels_of_the_wrong_type(sandbox: Sandbox) -> None:
    body = deployment()
    body["metadata"]["labels"]["tier"] = 1
    refused = post(sandbox, body)
    assert refused.status == 400
    assert refused.json()["message"] == (
        PREFIX + "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
    )


def test_the_clients_dynamic_api_gets_the_same_answers(sandbox: Sandbox, kube_client: Any) -> None:
    from kubernetes import dynamic
    from kubernetes.client import ApiException

    deployments = dynamic.DynamicClient(kube_client).resources.get(api_version="apps/v1", kind="Deployment")
    with pytest.raises(ApiException) as refused:
        deployments.create(
            body=deployment(imagePullPolice="Always"), namespace="default", query_params=[("fieldValidation", "Strict")]
        )
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["message"] == PREFIX + f"strict decoding error: {TYPO}"
    created = deployments.create(body=deployment(), namespace="default", query_params=[("fieldValidation", "Strict")])
    assert created.metadata.name == "web"


# ---- the documents ---------------------------------------------------------------------------


def test_v3_names_each_group_version_and_its_kinds_take_field_validation(sandbox: Sandbox) -> None:
    root = api(sandbox, "GET", "/openapi/v3").json()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/networking.k8s.io/v1"} <= set(root)
    url = root["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = api(sandbox, "GET", url)
    assert document.headers["Cache-Control"] == "public, immutable"
    doc = document.json()
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    container = doc["components"]["schemas"]["io.k8s.api.core.v1.Container"]
    assert container["properties"]["ports"]["x-kubernetes-patch-merge-key"] == "containerPort"
    assert container["required"] == ["name"]
    assert api(sandbox, "GET", "/openapi/v3/apis/nothing.example/v1").status == 404


def test_v2_is_served_as_json_and_as_kubectls_protobuf(sandbox: Sandbox) -> None:
    swagger = api(sandbox, "GET", "/openapi/v2").json()
    definitions = swagger["definitions"]
    deployment_def = definitions["io.k8s.api.apps.v1.Deployment"]
    assert deployment_def["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert deployment_def["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    answer = api(
        sandbox, "GET", "/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}
    )
    assert answer.headers["Content-Type"] == "application/octet-stream"
    document = {number: value for number, _wire, value in protobuf.wire_fields(answer.body)}
    assert document[1] == b"2.0"
    named = [value for _n, _w, value in protobuf.wire_fields(document[9])]
    names = {dict((n, v) for n, _w, v in protobuf.wire_fields(item))[1].decode() for item in named}  # type: ignore[union-attr]
    assert names == set(definitions)


def test_the_schemas_are_what_the_installed_client_says() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_openapi.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_go_formats_a_patch_as_go_prints_it() -> None:
    patch = {"spec": {"b": [1, "x", None, True], "a": {"k": 1.5}}}
    assert go_format(patch) == "map[spec:map[a:map[k:1.5] b:[1 x <nil> true]]]"
