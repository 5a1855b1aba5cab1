"""The sandbox's API answers only its own clients: its TLS certificate, its bearer token,
its own Host, nothing a web page sends. What an attacker on the same machine would try."""

from __future__ import annotations

import http.client
import json
import logging
import os
import ssl
import stat
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from sandbox_helpers import Answer, api, make_kubectl, needs_kubectl
from standins_helpers import free_port

from tutor.sandbox import Sandbox
from tutor.sandbox.certificate import make_server_certificate, on_curve, verify

CREATE = "/api/v1/namespaces/default/configmaps"


def attempt(sandbox: Sandbox, **kwargs: Any) -> Answer:
    """Try to create ConfigMap `intruder` the way a stranger would."""
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "intruder"}}).encode()
    return api(sandbox, "POST", CREATE, body, **kwargs)


def nothing_changed(sandbox: Sandbox, before: int) -> bool:
    return sandbox.store.get("configmaps", "default", "intruder") is None and sandbox.store.resource_version == before


def test_the_sandboxs_own_client_gets_in(sandbox: Sandbox) -> None:
    assert attempt(sandbox).status == 201


@pytest.mark.parametrize(
    ("what", "kwargs", "status", "reason"),
    [
        ("no token", {"token": ""}, 401, "Unauthorized"),
        ("a wrong token", {"token": "guessed"}, 401, "Unauthorized"),
        ("a basic-auth header", {"token": "", "headers": {"Authorization": "Basic YWRtaW46YWRtaW4="}}, 401, None),
        ("a foreign Host (DNS rebinding)", {"headers": {"Host": "evil.example:80"}}, 403, "Forbidden"),
        ("an Origin header", {"headers": {"Origin": "http://evil.example"}}, 403, "Forbidden"),
        ("a null Origin", {"headers": {"Origin": "null"}}, 403, "Forbidden"),
        ("a page on another loopback port", {"headers": {"Origin": "http://127.0.0.1:8001"}}, 403, "Forbidden"),
        ("a page on loopback without a port", {"headers": {"Origin": "https://127.0.0.1"}}, 403, "Forbidden"),
        (
            "a request a page made",
            {"headers": {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}},
            403,
            None,
        ),
        ("a page of a sibling site", {"headers": {"Sec-Fetch-Site": "same-site"}}, 403, "Forbidden"),
        ("a text/plain body", {"headers": {"Content-Type": "text/plain"}}, 415, "UnsupportedMediaType"),
        (
            "a form body",
            {"headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}},
            415,
            "UnsupportedMediaType",
        ),
        ("a multipart body", {"headers": {"Content-Type": "multipart/form-data; boundary=x"}}, 415, None),
    ],
)
def test_strangers_are_refused_and_nothing_changes(
    sandbox: Sandbox, what: str, kwargs: dict[str, Any], status: int, reason: str | None
) -> None:
    before = sandbox.store.resource_version
    answer = attempt(sandbox, **kwargs)
    assert answer.status == status, what
    body = answer.json()
    assert body["kind"] == "Status"
    if reason is not None:
        assert body["reason"] == reason
    assert nothing_changed(sandbox, before), what


def test_a_websocket_client_naming_the_servers_own_origin_gets_in(sandbox: Sandbox) -> None:
    # websocket-client (the kubernetes client's stream()) sends the target's own origin.
    for origin in (f"https://127.0.0.1:{sandbox.port}", f"http://localhost:{sandbox.port}"):
        assert api(sandbox, "GET", "/api/v1/namespaces", headers={"Origin": origin}).status == 200, origin


def test_an_address_the_learner_types_in_a_browser_is_answered(sandbox: Sandbox) -> None:
    # What a browser sends for a typed address (through kubectl proxy, which adds the token).
    typed = {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert api(sandbox, "GET", "/api/v1/namespaces", headers=typed).status == 200


def test_a_stranger_cannot_even_read(sandbox: Sandbox) -> None:
    for path in ("/api/v1/namespaces/default/secrets", "/version", "/api", "/openapi/v2"):
        assert api(sandbox, "GET", path, token="").status == 401, path


def test_the_refusals_name_the_reason_without_the_secret(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    host = attempt(sandbox, headers={"Host": "evil.example:80"}).json()["message"]
    assert f"127.0.0.1:{sandbox.port}" in host
    assert "evil.example" in host
    assert "web page" in attempt(sandbox, headers={"Origin": "http://evil.example"}).json()["message"]
    assert attempt(sandbox, token="").json()["message"] == "Unauthorized"
    token = sandbox.credentials.admin_token
    assert token not in caplog.text
    assert token not in repr(sandbox.credentials)
    assert all(token not in r.query and token not in r.path for r in sandbox.requests.records())


def test_plain_http_gets_no_answer(sandbox: Sandbox) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    try:
        connection.request("GET", "/api/v1/namespaces/default/configmaps")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            connection.getresponse()
    finally:
        connection.close()


def test_another_sandboxs_certificate_does_not_vouch_for_this_one(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    mine, other = sandbox_factory(), sandbox_factory()
    context = ssl.create_default_context(cadata=other.certificate_authority)
    connection = http.client.HTTPSConnection("127.0.0.1", mine.port, timeout=5, context=context)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            connection.request("GET", "/version")
    finally:
        connection.close()


def test_the_kubeconfig_carries_the_credential_and_only_its_owner_reads_it(sandbox: Sandbox) -> None:
    assert stat.S_IMODE(os.stat(sandbox.kubeconfig).st_mode) == 0o600
    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    assert config["users"][0]["user"] == {"token": sandbox.credentials.admin_token}
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == f"https://127.0.0.1:{sandbox.port}"
    assert cluster["certificate-authority"] == str(sandbox.certificate_authority_file)


def test_each_sandbox_has_its_own_token_and_key(sandbox_factory: Callable[..., Sandbox]) -> None:
    first, second = sandbox_factory(), sandbox_factory()
    assert first.credentials.admin_token != second.credentials.admin_token
    assert first.certificate_authority != second.certificate_authority
    assert api(second, "GET", "/api", token=first.credentials.admin_token).status == 401


@needs_kubectl
def test_kubectl_works_through_the_kubeconfig_and_not_without_the_token(sandbox: Sandbox) -> None:
    kubectl = make_kubectl(sandbox)
    assert kubectl("get", "namespaces", "-o", "name", check=True).stdout.split() == [
        "namespace/default",
        "namespace/kube-node-lease",
        "namespace/kube-public",
        "namespace/kube-system",
    ]
    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": "not-the-token"}
    sandbox.kubeconfig.write_text(yaml.safe_dump(config))
    result = kubectl("get", "namespaces")
    assert result.returncode == 1
    assert "You must be logged in to the server (Unauthorized)" in result.stderr


def test_the_kubernetes_client_works_through_the_kubeconfig_and_not_with_a_wrong_token(
    sandbox: Sandbox, kube_client: Any
) -> None:
    from kubernetes import client, config

    names = [ns.metadata.name for ns in client.CoreV1Api(kube_client).list_namespace().items]
    assert "kube-system" in names
    settings = yaml.safe_load(sandbox.kubeconfig.read_text())
    settings["users"][0]["user"] = {"token": "not-the-token"}
    stranger = config.new_client_from_config_dict(settings)
    try:
        with pytest.raises(client.ApiException) as refused:
            client.CoreV1Api(stranger).list_namespace()
        assert refused.value.status == 401
    finally:
        stranger.close()


def test_the_control_endpoint_refuses_strangers_too(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(standins=True, ingress_port=free_port())
    assert sb.standins is not None
    port, token = sb.standins.control.port, sb.standins.token

    def get(headers: dict[str, str]) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/v1/info", headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()

    own = {"X-K8s-Tutor-Sandbox-Token": token}
    assert get(own) == 200
    assert get({}) == 403
    assert get({**own, "Host": "evil.example"}) == 403
    assert get({**own, "Origin": "http://evil.example"}) == 403


def test_the_certificate_is_a_valid_p256_certificate_for_loopback() -> None:
    made = make_server_certificate()
    context = ssl.create_default_context(cadata=made.certificate_pem)
    (certificate,) = context.get_ca_certs()
    assert certificate["subjectAltName"] == (("IP Address", "127.0.0.1"), ("DNS", "localhost"))
    from tutor.sandbox.certificate import _G, _multiply_base, _sign

    private = 0x1234567890ABCDEF
    public = _multiply_base(private)
    assert on_curve(public) and on_curve(_G)
    signature = _sign(private, b"message")
    assert verify(public, b"message", signature)
    assert not verify(public, b"another message", signature)


@needs_kubectl
def test_kube_root_ca_crt_is_the_apis_own_certificate_in_every_namespace(sandbox: Sandbox) -> None:
    kubectl = make_kubectl(sandbox)
    kubectl("create", "namespace", "team", check=True)
    sandbox.wait_idle()
    for namespace in ("default", "kube-system", "team"):
        shown = kubectl("get", "configmap", "kube-root-ca.crt", "-n", namespace, "-o", r"jsonpath={.data.ca\.crt}")
        assert shown.stdout == sandbox.certificate_authority, namespace
    # What a pod would do with it: verify the API server it talks to.
    published = sandbox.store.read("configmaps", "default", "kube-root-ca.crt")["data"]["ca.crt"]
    context = ssl.create_default_context(cadata=published)
    connection = http.client.HTTPSConnection("127.0.0.1", sandbox.port, timeout=5, context=context)
    try:
        connection.request("GET", "/version", headers={"Authorization": f"Bearer {sandbox.credentials.admin_token}"})
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    # Changed by hand, it is put back, as the root CA publisher does.
    kubectl("patch", "configmap", "kube-root-ca.crt", "-p", '{"data":{"ca.crt":"forged"}}', check=True)
    sandbox.wait_idle()
    assert sandbox.store.read("configmaps", "default", "kube-root-ca.crt")["data"]["ca.crt"] == published


@needs_kubectl
def test_a_pod_reads_its_service_account_volume(sandbox: Sandbox) -> None:
    kubectl = make_kubectl(sandbox)
    folder = "/var/run/secrets/kubernetes.io/serviceaccount"
    script = f"cat {folder}/ca.crt; echo ns=$(cat {folder}/namespace) token=$(cat {folder}/token)"
    kubectl("run", "reader", "--image=busybox", "--restart=Never", "--", "sh", "-c", script, check=True)
    sandbox.wait_idle()
    lines = kubectl("logs", "reader", check=True).stdout.splitlines()
    assert "\n".join(lines[:-1]) + "\n" == sandbox.certificate_authority
    namespace, token = (word.partition("=")[2] for word in lines[-1].split())
    assert namespace == "default"
    # The token the kubelet projected is one the API accepts, as the pod's service account.
    whoami = api(sandbox, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", b'{"spec":{}}', token=token)
    assert whoami.json()["status"]["userInfo"]["username"] == "system:serviceaccount:default:default"
