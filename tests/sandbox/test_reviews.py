"""kubectl's questions to the API: `auth can-i`, `auth whoami`, `create token`.

Each runs with kubectl 1.31 (JSON) and 1.33 (protobuf), the versions the dispatcher picks
for a sandbox reporting them. The sandbox has no RBAC and says so; the tokens it issues
work as the service account, and stop working when they should.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import KUBECTL, Kubectl, api, make_kubectl

from tutor.sandbox import Sandbox
from tutor.sandbox.reviews import ALLOWED_REASON

VERSIONS = ["v1.31.0", "v1.33.1"]


@pytest.fixture(params=VERSIONS)
def cluster(request: pytest.FixtureRequest, sandbox_factory: Callable[..., Sandbox]) -> tuple[Sandbox, Kubectl]:
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH")
    sandbox = sandbox_factory(kubernetes_version=request.param)
    return sandbox, make_kubectl(sandbox)


def test_can_i_says_yes_for_everything(cluster: tuple[Sandbox, Kubectl]) -> None:
    _sandbox, kubectl = cluster
    for question in (["create", "pods"], ["delete", "nodes"], ["get", "secrets", "-n", "kube-system"]):
        result = kubectl("auth", "can-i", *question)
        assert (result.returncode, result.stdout.strip()) == (0, "yes"), result.stderr


def test_can_i_list_shows_every_verb_on_everything(cluster: tuple[Sandbox, Kubectl]) -> None:
    _sandbox, kubectl = cluster
    lines = kubectl("auth", "can-i", "--list", check=True).stdout.splitlines()
    assert lines[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert lines[1].split() == ["*.*", "[]", "[]", "[*]"]


def test_whoami_is_the_kubeconfigs_user(cluster: tuple[Sandbox, Kubectl]) -> None:
    _sandbox, kubectl = cluster
    out = kubectl("auth", "whoami", check=True).stdout
    assert "minikube-user" in out
    assert "[system:masters system:authenticated]" in out


def test_a_created_token_is_the_service_account(cluster: tuple[Sandbox, Kubectl]) -> None:
    _sandbox, kubectl = cluster
    kubectl("create", "serviceaccount", "bot", "-n", "default", check=True)
    token = kubectl("create", "token", "bot", check=True).stdout.strip()
    _header, claims, _signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert payload["sub"] == "system:serviceaccount:default:bot"
    assert payload["exp"] - payload["iat"] == 3600
    whoami = kubectl("--token", token, "auth", "whoami", check=True).stdout
    assert "system:serviceaccount:default:bot" in whoami
    assert "[system:serviceaccounts system:serviceaccounts:default system:authenticated]" in whoami


def test_token_requests_are_checked_as_on_a_real_server(cluster: tuple[Sandbox, Kubectl]) -> None:
    _sandbox, kubectl = cluster
    kubectl("create", "serviceaccount", "bot", check=True)
    short = kubectl("create", "token", "bot", "--duration=1m")
    assert short.returncode == 1
    assert (
        'TokenRequest.authentication.k8s.io "bot" is invalid: spec.expirationSeconds: Invalid value: 60: '
        "may not specify a duration less than 10 minutes" in short.stderr
    )
    missing = kubectl("create", "token", "nobody")
    assert missing.returncode == 1
    assert 'serviceaccounts "nobody" not found' in missing.stderr
    long = kubectl("create", "token", "bot", "--duration=2h", check=True).stdout.strip()
    claims = long.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert payload["exp"] - payload["iat"] == 7200


def test_a_token_stops_working_when_its_account_goes_or_it_expires(
    cluster: tuple[Sandbox, Kubectl],
) -> None:
    sandbox, kubectl = cluster
    kubectl("create", "serviceaccount", "bot", check=True)
    token = kubectl("create", "token", "bot", check=True).stdout.strip()
    assert api(sandbox, "GET", "/api/v1/namespaces", token=token).status == 200
    clock = sandbox.credentials.clock
    sandbox.credentials.clock = lambda: clock() + 3601
    assert api(sandbox, "GET", "/api/v1/namespaces", token=token).status == 401
    sandbox.credentials.clock = clock
    kubectl("delete", "serviceaccount", "bot", check=True)
    kubectl("create", "serviceaccount", "bot", check=True)  # the same name, a new uid
    assert api(sandbox, "GET", "/api/v1/namespaces", token=token).status == 401


def test_forged_or_foreign_tokens_are_refused(sandbox_factory: Callable[..., Sandbox]) -> None:
    mine, other = sandbox_factory(), sandbox_factory()
    for sb in (mine, other):
        sb.store.create(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot", "namespace": "default"}}
        )
    answer = api(other, "POST", "/api/v1/namespaces/default/serviceaccounts/bot/token", b"{}").json()
    foreign = answer["status"]["token"]
    assert api(other, "GET", "/api", token=foreign).status == 200
    assert api(mine, "GET", "/api", token=foreign).status == 401
    header, claims, signature = foreign.split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    payload["sub"] = "system:serviceaccount:kube-system:admin"
    forged_claims = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    assert api(other, "GET", "/api", token=f"{header}.{forged_claims}.{signature}").status == 401


def test_the_client_asks_and_is_told_why(sandbox: Sandbox, kube_client: Any) -> None:
    from kubernetes import client

    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb="delete", resource="pods", namespace="default")
        )
    )
    answer = client.AuthorizationV1Api(kube_client).create_self_subject_access_review(review)
    assert answer.status.allowed is True
    assert answer.status.reason == ALLOWED_REASON
    assert "no RBAC" in ALLOWED_REASON


def test_reviews_are_answered_not_stored(sandbox: Sandbox) -> None:
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    body = json.dumps(
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}},
        }
    ).encode()
    before = sandbox.store.resource_version
    assert api(sandbox, "POST", path, body).status == 201
    assert sandbox.store.resource_version == before
    listed = api(sandbox, "GET", path)
    assert listed.status == 405
    assert listed.json()["reason"] == "MethodNotAllowed"
    empty = api(sandbox, "POST", path, b'{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview"}')
    assert empty.status == 422
