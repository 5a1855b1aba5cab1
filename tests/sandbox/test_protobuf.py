"""kubectl >= 1.32 sends typed objects as protobuf: the sandbox reads them as kubectl meant.

The proof is kubectl itself: every typed `kubectl create` subcommand and `expose`, run for
real against a sandbox reporting v1.33 (the kubectl dispatcher then runs kubectl 1.33, which
sends protobuf), must reach the store as the very object `kubectl ... --dry-run=client -o
json` prints. A stranger's bytes get a 400 or a 415 that says why, never a 500.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_helpers import KUBECTL, api, make_kubectl

from tutor.sandbox import Sandbox, protobuf

PROTOBUF = "application/vnd.kubernetes.protobuf"


def _pruned(value: Any) -> Any:
    """JSON without nulls and empty objects or lists: what the API makes of both the same."""
    if isinstance(value, dict):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


@pytest.fixture
def kubectl133(sandbox_factory: Callable[..., Sandbox]) -> tuple[Sandbox, Any]:
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH")
    sandbox = sandbox_factory(kubernetes_version="v1.33.1")
    kubectl = make_kubectl(sandbox)
    client = json.loads(kubectl("version", "-o", "json", check=True).stdout)["clientVersion"]
    if int(client["minor"].rstrip("+")) < 32:
        pytest.skip(f"kubectl {client['gitVersion']} sends JSON; these tests need kubectl >= 1.32")
    kubectl("create", "namespace", "work", check=True)
    return sandbox, kubectl


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every protobuf body the sandbox decodes, as it decoded it."""
    seen: list[dict[str, Any]] = []
    original = protobuf.decode

    def record(body: bytes) -> dict[str, Any]:
        obj = original(body)
        seen.append(json.loads(json.dumps(obj)))
        return obj

    monkeypatch.setattr(protobuf, "decode", record)
    return seen


def _tls_pair(folder: Path) -> tuple[Path, Path]:
    from tutor.sandbox.certificate import make_server_certificate

    made = make_server_certificate("web.example")
    cert, key = folder / "tls.crt", folder / "tls.key"
    cert.write_text(made.certificate_pem)
    key.write_text(made.key_pem)
    return cert, key


CREATES = [
    ("namespace", ["create", "namespace", "other"]),
    ("deployment", ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "--port=80"]),
    ("deployment with no replicas", ["create", "deployment", "idle", "--image=nginx", "--replicas=0"]),
    ("configmap", ["create", "configmap", "settings", "--from-literal=mode=fast", "--from-literal=empty="]),
    ("secret generic", ["create", "secret", "generic", "creds", "--from-literal=password=hunter2"]),
    ("secret tls", ["create", "secret", "tls", "cert", "--cert={cert}", "--key={key}"]),
    (
        "secret docker-registry",
        ["create", "secret", "docker-registry", "pull", "--docker-username=u", "--docker-password=p"],
    ),
    ("service clusterip", ["create", "service", "clusterip", "api", "--tcp=80:8080"]),
    ("service nodeport", ["create", "service", "nodeport", "node", "--tcp=80:8080", "--node-port=30080"]),
    ("service loadbalancer", ["create", "service", "loadbalancer", "lb", "--tcp=443:8443"]),
    ("service externalname", ["create", "service", "externalname", "ext", "--external-name=example.com"]),
    ("job", ["create", "job", "once", "--image=busybox", "--", "echo", "hi"]),
    ("cronjob", ["create", "cronjob", "often", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"]),
    ("role", ["create", "role", "reader", "--verb=get,list,watch", "--resource=pods,services"]),
    ("rolebinding", ["create", "rolebinding", "read", "--role=reader", "--user=alice", "--serviceaccount=work:bot"]),
    ("clusterrole", ["create", "clusterrole", "nodes", "--verb=get", "--resource=nodes"]),
    ("clusterrolebinding", ["create", "clusterrolebinding", "nodes", "--clusterrole=nodes", "--group=devs"]),
    ("serviceaccount", ["create", "serviceaccount", "bot"]),
    ("quota", ["create", "quota", "limits", "--hard=pods=10,cpu=2,memory=1Gi"]),
    ("priorityclass of value 0", ["create", "priorityclass", "low", "--value=0", "--description=zero"]),
    ("priorityclass", ["create", "priorityclass", "high", "--value=1000", "--global-default=true"]),
    ("poddisruptionbudget", ["create", "poddisruptionbudget", "keep", "--selector=app=web", "--min-available=0"]),
    ("ingress", ["create", "ingress", "site", "--rule=foo.com/bar*=api:80", "--class=nginx"]),
]


@pytest.mark.parametrize(("what", "argv"), CREATES, ids=[c[0] for c in CREATES])
def test_every_typed_create_arrives_as_kubectl_meant_it(
    kubectl133: tuple[Sandbox, Any], decoded: list[dict[str, Any]], tmp_path: Path, what: str, argv: list[str]
) -> None:
    _sandbox, kubectl = kubectl133
    cert, key = _tls_pair(tmp_path)
    argv = [a.format(cert=cert, key=key) for a in argv]
    namespaced = argv[1] not in ("namespace", "clusterrole", "clusterrolebinding", "priorityclass")
    scope = ["-n", "work"] if namespaced else []
    command, rest = (argv[: argv.index("--")], argv[argv.index("--") :]) if "--" in argv else (argv, [])
    meant = json.loads(kubectl(*command, *scope, "--dry-run=client", "-o", "json", *rest, check=True).stdout)
    result = kubectl(*command, *scope, *rest)
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout
    assert len(decoded) == 1, f"{what}: kubectl sent {len(decoded)} protobuf bodies"
    assert _pruned(decoded[0]) == _pruned(meant)


def test_expose_and_create_job_from_a_cronjob_arrive_as_meant(
    kubectl133: tuple[Sandbox, Any], decoded: list[dict[str, Any]]
) -> None:
    sandbox, kubectl = kubectl133
    kubectl("create", "deployment", "web", "--image=nginx", "-n", "work", check=True)
    kubectl("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "-n", "work", check=True)
    decoded.clear()
    expose = ["expose", "deployment", "web", "--port=80", "--target-port=8080", "--name=front", "-n", "work"]
    meant = json.loads(kubectl(*expose, "--dry-run=client", "-o", "json", check=True).stdout)
    assert "service/front exposed" in kubectl(*expose, check=True).stdout
    # kubectl 1.33 sends this one as JSON; either way it must arrive as meant.
    assert [_pruned(d) for d in decoded] in ([], [_pruned(meant)])
    service = sandbox.store.read("services", "work", "front")
    assert service["spec"]["selector"] == {"app": "web"}
    assert service["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 8080}]
    kubectl("create", "job", "now", "--from=cronjob/nightly", "-n", "work", check=True)
    job = sandbox.store.read("jobs.batch", "work", "now")
    assert job["metadata"]["ownerReferences"][0]["name"] == "nightly"
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}


def test_zero_values_that_mean_something_survive(kubectl133: tuple[Sandbox, Any]) -> None:
    sandbox, kubectl = kubectl133
    kubectl("create", "deployment", "idle", "--image=nginx", "--replicas=0", "-n", "work", check=True)
    kubectl("create", "priorityclass", "low", "--value=0", check=True)
    kubectl("create", "pdb", "all", "--selector=app=idle", "--min-available=0", "-n", "work", check=True)
    assert sandbox.store.read("deployments.apps", "work", "idle")["spec"]["replicas"] == 0
    assert sandbox.store.read("priorityclasses.scheduling.k8s.io", "", "low")["value"] == 0
    assert sandbox.store.read("poddisruptionbudgets.policy", "work", "all")["spec"]["minAvailable"] == 0
    secret = subprocess.run(
        [KUBECTL or "kubectl", "create", "secret", "generic", "s", "--from-literal=k=v", "-n", "work"],
        env=sandbox.env(base={}),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "created" in secret.stdout
    assert sandbox.store.read("secrets", "work", "s")["data"] == {"k": "dg=="}


# ---- what a stranger's bytes get ------------------------------------------------------------


def _post(sandbox: Sandbox, body: bytes) -> tuple[int, dict[str, Any]]:
    answer = api(sandbox, "POST", "/api/v1/namespaces", body, headers={"Content-Type": PROTOBUF})
    return answer.status, answer.json()


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_a_namespace_in_protobuf_by_hand(sandbox: Sandbox) -> None:
    type_meta = _field(1, b"v1") + _field(2, b"Namespace")
    namespace = _field(1, _field(1, b"by-hand"))  # metadata { name }
    status, body = _post(sandbox, b"k8s\x00" + _field(1, type_meta) + _field(2, namespace))
    assert (status, body["metadata"]["name"]) == (201, "by-hand")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"\x0a\x00", 400, "magic"),
        (b"k8s\x00\x0a\x10\x0a", 400, "past the end"),
        (b"k8s\x00\x0b", 400, "wire type"),
        (b"k8s\x00" + _field(1, _field(1, b"example.com/v1") + _field(2, b"Widget")), 415, "Widget"),
    ],
)
def test_bad_protobuf_is_a_clear_client_error(sandbox: Sandbox, body: bytes, status: int, words: str) -> None:
    before = sandbox.store.resource_version
    got, answer = _post(sandbox, body)
    assert got == status
    assert words in answer["message"]
    assert sandbox.store.resource_version == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=64))
def test_no_bytes_make_the_decoder_fail_unexpectedly(tail: bytes) -> None:
    type_meta = _field(1, b"v1") + _field(2, b"ConfigMap")
    body = b"k8s\x00" + _field(1, type_meta) + bytes([2 << 3 | 2, len(tail)]) + tail
    try:
        obj = protobuf.decode(body)
    except protobuf.ProtobufError:
        return
    assert obj["kind"] == "ConfigMap"
    json.dumps(obj)  # whatever was decoded is JSON


def test_the_field_tables_are_whole() -> None:
    from tutor.sandbox.resources import BUILTIN

    tables = protobuf.tables()
    scalars = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"}
    for name, fields in tables.messages.items():
        for field in fields.values():
            assert field.type in scalars or field.type in tables.messages, f"{name}: {field.type}"
    for rt in BUILTIN:
        if rt.group != "apiextensions.k8s.io" and not rt.refusal:
            assert (rt.api_version, rt.kind) in tables.kinds, rt.key
    envelope = tables.messages["k8s.io.apimachinery.pkg.runtime.Unknown"]
    assert {n: f.type for n, f in envelope.items()} == {
        1: "k8s.io.apimachinery.pkg.runtime.TypeMeta",
        2: "bytes",
        3: "string",
        4: "string",
    }


def test_answers_are_json_and_a_protobuf_only_client_is_told_so(sandbox: Sandbox) -> None:
    both = api(sandbox, "GET", "/api/v1/namespaces/default", headers={"Accept": f"{PROTOBUF}, application/json"})
    assert (both.status, both.headers["Content-Type"]) == (200, "application/json")
    only = api(sandbox, "GET", "/api/v1/namespaces/default", headers={"Accept": PROTOBUF})
    assert (only.status, only.json()["reason"]) == (406, "NotAcceptable")
    assert "JSON only" in only.json()["message"]
