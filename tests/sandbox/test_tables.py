"""`kubectl get` prints the real server's columns for every kind the sandbox serves; the
columns are data (tutor/sandbox/data/tables.yaml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox_helpers import Kubectl, advance, needs_kubectl, table, widget_crd

from tutor.sandbox import ManualClock, Sandbox, tables
from tutor.sandbox.objects import rfc3339
from tutor.sandbox.resources import BUILTIN, CREATE_ONLY

pytestmark = needs_kubectl


def header(kubectl: Kubectl, *args: str) -> list[str]:
    out = kubectl("get", *args, check=True).stdout
    return [h for h in out.splitlines()[0].split("  ") if h.strip()]


def columns(kubectl: Kubectl, *args: str) -> list[str]:
    return [h.strip() for h in header(kubectl, *args)]


def cells(kubectl: Kubectl, resource: str, name: str, *names: str, wide: bool = False) -> list[str]:
    """The named cells of one row of `kubectl get RESOURCE`."""
    row = table(kubectl("get", resource, *(["-o", "wide"] if wide else []), check=True).stdout)[name]
    return [row[n] for n in names]


def test_cronjobs_show_schedule_suspend_active_and_last_schedule(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "--", "date", check=True)
    assert columns(kubectl, "cronjobs") == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"]
    row = table(kubectl("get", "cronjobs", check=True).stdout)["nightly"]
    assert (row["SCHEDULE"], row["TIMEZONE"], row["ACTIVE"], row["LAST SCHEDULE"]) == (
        "0 3 * * *",
        "<none>",
        "0",
        "<none>",
    )
    wide = table(kubectl("get", "cronjobs", "-o", "wide", check=True).stdout)["nightly"]
    assert (wide["CONTAINERS"], wide["IMAGES"]) == ("nightly", "busybox")


def test_hpa_shows_its_reference_targets_and_bounds(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "deployment", "web", "--image=nginx", check=True)
    kubectl("autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80", check=True)
    assert columns(kubectl, "hpa") == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert cells(kubectl, "hpa", "web", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS") == [
        "Deployment/web",
        "cpu: <unknown>/80%",
        "2",
        "5",
    ]


def test_jobs_show_status_completions_and_duration(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl("create", "job", "once", "--image=busybox", "--", "true", check=True)
    assert columns(kubectl, "jobs") == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert table(kubectl("get", "jobs", check=True).stdout)["once"]["COMPLETIONS"] in ("0/1", "1/1")


def test_endpoints_and_endpointslices_show_addresses_and_ports(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.store.create(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": "web-abcde", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
            "endpoints": [{"addresses": [f"127.244.0.{i}"]} for i in range(2, 7)],
        }
    )
    assert columns(kubectl, "endpointslices") == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    row = table(kubectl("get", "endpointslices", check=True).stdout)["web-abcde"]
    assert (row["ADDRESSTYPE"], row["PORTS"]) == ("IPv4", "80")
    assert row["ENDPOINTS"] == "127.244.0.2,127.244.0.3,127.244.0.4 + 2 more..."
    assert columns(kubectl, "endpoints") == ["NAME", "ENDPOINTS", "AGE"]


@pytest.mark.parametrize(
    ("create", "resource", "expected"),
    [
        (
            ["poddisruptionbudget", "keep", "--selector=app=web", "--min-available=1"],
            "pdb",
            ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"],
        ),
        (["rolebinding", "read", "--clusterrole=view", "--user=alice"], "rolebindings", ["NAME", "ROLE", "AGE"]),
        (["role", "reader", "--verb=get", "--resource=pods"], "roles", ["NAME", "CREATED AT"]),
        (
            ["priorityclass", "low", "--value=10"],
            "priorityclasses",
            ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
        ),
        (["quota", "limits", "--hard=pods=3"], "quota", ["NAME", "REQUEST", "LIMIT", "AGE"]),
        (["serviceaccount", "bot"], "serviceaccounts", ["NAME", "SECRETS", "AGE"]),
    ],
)
def test_the_kinds_kubectl_create_makes_have_their_columns(
    sandbox: Sandbox, kubectl: Kubectl, create: list[str], resource: str, expected: list[str]
) -> None:
    kubectl("create", *create, check=True)
    assert columns(kubectl, resource) == expected


def test_rolebindings_wide_name_their_subjects(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl(
        "create",
        "rolebinding",
        "read",
        "--clusterrole=view",
        "--user=alice",
        "--group=devs",
        "--serviceaccount=default:bot",
        check=True,
    )
    assert cells(kubectl, "rolebindings", "read", "ROLE", "USERS", "GROUPS", "SERVICEACCOUNTS", wide=True) == [
        "ClusterRole/view",
        "alice",
        "devs",
        "default/bot",
    ]


def test_controller_revisions_name_their_controller(sandbox: Sandbox, kubectl: Kubectl) -> None:
    kubectl(
        "create",
        "-f",
        str(Path(__file__).resolve().parents[2] / "manifests" / "day55" / "pacman-stateful.yaml"),
        check=True,
    )
    sandbox.wait_idle()
    rows = table(kubectl("get", "controllerrevisions", "-n", "pacman", check=True).stdout)
    assert rows
    assert {row["CONTROLLER"] for row in rows.values()} == {"statefulset.apps/mongo"}


def test_a_custom_resource_prints_its_crds_columns(sandbox: Sandbox, kubectl: Kubectl) -> None:
    crd = widget_crd(
        schema={"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        additionalPrinterColumns=[
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
            {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
        ],
    )
    sandbox.store.create(crd)
    sandbox.wait_idle()
    sandbox.store.create(
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default"},
            "spec": {"size": 3},
        }
    )
    assert columns(kubectl, "widgets") == ["NAME", "SIZE", "COLOR", "AGE"]
    row = table(kubectl("get", "widgets", check=True).stdout)["w"]
    assert (row["SIZE"], row["COLOR"]) == ("3", "<none>")


def test_every_listable_kind_has_columns_and_every_printer_exists() -> None:
    data = yaml.safe_load((Path(tables.__file__).parent / "data" / "tables.yaml").read_text())
    served = {rt.key for rt in BUILTIN if rt.verbs != CREATE_ONLY and not rt.refusal}
    # The kinds the real server has no printer for: its default table (Name, Created At).
    defaults = {
        "roles.rbac.authorization.k8s.io",
        "clusterroles.rbac.authorization.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io",
        "limitranges",
    }
    assert set(data) - {"default", "custom"} <= served
    assert served - set(data) == defaults
    loaded = tables.columns()
    assert all(column.cell is not None for columns_ in loaded.values() for column in columns_)


def test_a_table_file_naming_an_unknown_printer_fails_loudly() -> None:
    with pytest.raises(ValueError, match="no printer named"):
        tables._cell("nonexistent_printer")
    with pytest.raises(ValueError, match="unknown reading"):
        tables._cell({"frobnicate": "spec.x"})


def test_the_default_table_is_name_and_created_at(sandbox: Sandbox, kubectl: Any) -> None:
    kubectl(
        "create",
        "-f",
        "-",
        stdin=yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": {"name": "lr"},
                "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}}]},
            }
        ),
        check=True,
    )
    assert columns(kubectl, "limitranges") == ["NAME", "CREATED AT"]


def test_ages_count_on_the_clusters_clock(timed: Sandbox, timed_kubectl: Kubectl, clock: ManualClock) -> None:
    kubectl = timed_kubectl
    kubectl("run", "early", "--image=nginx", check=True)
    kubectl("create", "job", "task", "--image=busybox", "--", "sleep", "86400", check=True)
    timed.wait_idle()
    early = timed.store.read("pods", "default", "early")
    assert early["metadata"]["creationTimestamp"] == rfc3339(clock())  # stamped by the same clock
    advance(timed, clock, 2 * 3600 + 5 * 60)
    kubectl("run", "late", "--image=nginx", check=True)
    timed.wait_idle()
    pods = table(kubectl("get", "pods", check=True).stdout)
    assert (pods["early"]["AGE"], pods["late"]["AGE"]) == ("125m", "0s")
    job = table(kubectl("get", "jobs", check=True).stdout)["task"]
    assert (job["STATUS"], job["DURATION"], job["AGE"]) == ("Running", "125m", "125m")
    seen = {row["OBJECT"] + " " + row["REASON"]: row["LAST SEEN"] for row in rows(kubectl("get", "events").stdout)}
    assert seen["pod/early Started"] == "125m"
    assert seen["pod/late Started"] == "0s"
    assert "<invalid>" not in kubectl("get", "all", "-A", check=True).stdout


def rows(output: str) -> list[dict[str, str]]:
    """Every row of `kubectl get` output (names may repeat, as events' objects do)."""
    lines = output.rstrip().splitlines()
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s\s))\S", lines[0])]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    names = [lines[0][a:b].strip() for a, b in bounds]
    return [dict(zip(names, (line[a:b].strip() for a, b in bounds), strict=True)) for line in lines[1:]]
