"""Helpers for the sandbox core's tests: the real kubectl, kubectl's tables, and the
client-model self-check."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tutor.sandbox import ManualClock, Sandbox

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not on PATH: the kubectl tests drive the real binary"
)

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests" / "day55"
HOT_LOOP_WRITES = 1000


def model_errors(sandbox: Sandbox) -> list[str]:
    """Every logged version of every object, read through the kubernetes client's models.

    The client (37, pydantic) refuses objects that lack a required field, so a
    learner's tool would crash on them; this is how the sandbox stays schema-complete.
    """
    import kubernetes.client.models as models

    failures = []
    seen: set[tuple[str, str]] = set()
    for event in sandbox.store.logged_events():
        rt = sandbox.registry.get(event.resource)
        if rt is None or rt.custom:
            continue
        name = "CoreV1Event" if rt.key == "events" else rt.version[0].upper() + rt.version[1:] + rt.kind
        model = getattr(models, name, None)
        if model is None:
            continue
        key = (event.resource, event.obj["metadata"].get("resourceVersion", ""))
        if key in seen:
            continue
        seen.add(key)
        try:
            model.from_dict(json.loads(json.dumps(event.obj)))
        except Exception as exc:
            failures.append(f"{event.resource} {event.name}@{key[1]}: {str(exc)[:400]}")
    return failures


Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def make_kubectl(sandbox: Sandbox) -> Kubectl:
    assert KUBECTL is not None

    def run(
        *args: str, check: bool = False, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = sandbox.env(base={k: v for k, v in os.environ.items() if not k.startswith("KUBE")})
        result = subprocess.run(
            [KUBECTL, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            cwd=REPO,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    return run


def table(output: str) -> dict[str, dict[str, str]]:
    """``kubectl get`` output as {name: {column: value}}, cut at the header's column
    offsets so that empty cells (an Ingress without ADDRESS) stay empty."""
    lines = output.rstrip().splitlines()
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s\s))\S", header)]
    names = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
    result = {}
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        result[cells[0]] = dict(zip(names, cells, strict=True))
    return result


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the sandbox's API."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def api(
    sandbox: Sandbox,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    timeout: float = 10,
) -> Answer:
    """A raw request to the sandbox's API with its own Host and bearer token (``token`` or
    ``headers`` change them: ``token=""`` sends none)."""
    tls = ssl.create_default_context(cadata=sandbox.certificate_authority)
    connection = http.client.HTTPSConnection("127.0.0.1", sandbox.port, timeout=timeout, context=tls)
    sent = {"Content-Type": "application/json", "Accept": "application/json"}
    credential = sandbox.credentials.admin_token if token is None else token
    if credential:
        sent["Authorization"] = f"Bearer {credential}"
    sent.update(headers or {})
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def widget_crd(**version: Any) -> dict[str, Any]:
    """A CustomResourceDefinition of namespaced `widgets.example.com`, served at v1 (``version``
    adds to that version's entry, e.g. printer columns)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True, **version}],
        },
    }


def advance(sandbox: Sandbox, clock: ManualClock, seconds: float) -> None:
    """Move the cluster's clock and let what fell due run."""
    clock.advance(seconds)
    sandbox.wait_idle()


def pod_json(kubectl: Kubectl, name: str, namespace: str = "default") -> dict[str, Any]:
    """A pod as ``kubectl get -o json`` shows it."""
    found: dict[str, Any] = json.loads(kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=True).stdout)
    return found


def events_of(kubectl: Kubectl, name: str, namespace: str = "default") -> list[tuple[str, str, str, int]]:
    """(type, reason, message, count) of an object's events, in the order the API lists them."""
    listed = json.loads(
        kubectl(
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector",
            f"involvedObject.name={name}",
            "-o",
            "json",
            check=True,
        ).stdout
    )
    return [(e["type"], e["reason"], e["message"], int(e.get("count") or 1)) for e in listed["items"]]
