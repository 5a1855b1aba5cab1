"""The small languages inside a lesson: variables, attributes, command lines, selectors, field paths."""

from __future__ import annotations

import pytest

from tutor.lesson import attributes, commandline, schema, selectors, variables
from tutor.lesson.resources import BadObjectRef, parse_ref


def test_variables_fill_placeholders_and_leave_json_alone() -> None:
    values = {"profile": "mc-demo", "port": "9090"}
    assert variables.substitute("minikube -p {profile}", values) == "minikube -p mc-demo"
    assert variables.substitute('{"metadata": {"a": "b"}}', values) == '{"metadata": {"a": "b"}}'
    assert variables.substitute("{{profile}} is {profile}", values) == "{profile} is mc-demo"
    assert list(variables.names("x {a} {{b}} {c}")) == ["a", "c"]


def test_unknown_variable_raises_or_stays() -> None:
    with pytest.raises(variables.UnknownVariable) as err:
        variables.substitute("{nope}", {})
    assert err.value.name == "nope"
    assert variables.substitute("{nope}", {}, strict=False) == "{nope}"


def test_attributes_flags_ids_and_quoted_values() -> None:
    parsed = attributes.parse("{#fwd background ready=\"Forwarding from\" timeout=30 ask='Sure?'}")
    assert parsed == {
        "id": "fwd",
        "background": "true",
        "ready": "Forwarding from",
        "timeout": "30",
        "ask": "Sure?",
    }
    assert attributes.split_info("sh {manual}") == ("sh", "{manual}")
    for bad in ("{a=b", '{a="x}', "{#a #b}", "a=b"):
        with pytest.raises(attributes.BadAttributes):
            attributes.parse(bad)


def test_command_lines_follow_posix_quoting_without_a_shell() -> None:
    block = "# a comment\n$ kubectl get pods\nminikube start \\\n  -p demo\ncurl -d 'a=b&c=d' http://127.0.0.1/\n"
    lines = commandline.split_block(block)
    assert [line.argv for line in lines] == [
        ("kubectl", "get", "pods"),
        ("minikube", "start", "-p", "demo"),
        ("curl", "-d", "a=b&c=d", "http://127.0.0.1/"),
    ]
    assert [line.offset for line in lines] == [1, 2, 4]


@pytest.mark.parametrize("text", ["a | b", "a > f", "a && b", "a; b", "echo $(date)", "echo `date`", "a 2>&1"])
def test_shell_features_are_refused(text: str) -> None:
    with pytest.raises(commandline.BadCommandLine):
        commandline.parse(text)


def test_selectors_parse_and_match_like_kubernetes() -> None:
    sel = selectors.parse("name=mongo,tier in (db, cache),!canary")
    assert sel.matches({"name": "mongo", "tier": "db"})
    assert not sel.matches({"name": "mongo", "tier": "db", "canary": "x"})
    assert not sel.matches({"name": "mongo", "tier": "web"})
    assert selectors.parse("app!=web").matches({})  # != matches objects without the label
    for bad in ("", "a in ()", "a=b c", "=x"):
        with pytest.raises(selectors.BadSelector):
            selectors.parse(bad)


def test_field_paths() -> None:
    assert schema.parse_field_path("status.loadBalancer.ingress[0].ip") == (
        "status",
        "loadBalancer",
        "ingress",
        0,
        "ip",
    )
    assert schema.parse_field_path('metadata.annotations["a.b/c"]') == (
        "metadata",
        "annotations",
        "a.b/c",
    )
    with pytest.raises(ValueError, match="character"):
        schema.parse_field_path("status..x")


def test_object_refs_take_kubectl_names() -> None:
    assert str(parse_ref("sts/mongo")) == "statefulset/mongo"
    assert str(parse_ref("StorageClass/standard")) == "storageclass/standard"
    assert not parse_ref("pv/x").kind.namespaced
    with pytest.raises(BadObjectRef, match="KIND/NAME"):
        parse_ref("mongo")


@pytest.mark.parametrize(
    ("check", "problem"),
    [
        ({"kind": "pods_ready", "selector": "a=b", "count": -1}, "must not be negative"),
        ({"kind": "pods_ready", "selector": "a=b", "count": True}, "not true/false"),
        ({"kind": "http"}, "exactly one of 'url' or 'urls'"),
        ({"kind": "http", "url": "http://a/", "urls": ["http://b/"]}, "exactly one of"),
        ({"kind": "http", "urls": []}, "one or more URLs"),
        ({"kind": "addon_enabled", "addon": "dashboard"}, "unknown addon 'dashboard'"),
        (
            {"kind": "field_equals", "object": "sc/x", "path": "a..b", "equals": 1},
            "cannot read field path",
        ),
        ({"kind": "field_equals", "object": "sc/x", "path": "a", "equals": [1]}, "single value"),
        ({"kind": "command", "run": "true", "timeout": 0}, "more than 0"),
        ({"kind": "exists", "object": "pod/x", "remember": "a b"}, "not a Kubernetes object name"),
        (
            {"kind": "default_storageclass", "name": "x", "namespace": "y"},
            "has no field 'namespace'",
        ),
        ({"title": "x"}, "needs a `kind`"),
    ],
)
def test_check_schema_rejects_bad_values(check: dict[str, object], problem: str) -> None:
    messages = [p.message for p in schema.validate_check(check).problems]
    assert any(problem in message for message in messages), messages


def test_every_kind_accepts_its_documented_example() -> None:
    examples = {
        "exists": {"object": "statefulset/mongo"},
        "absent": {"object": "pod/x"},
        "field_equals": {
            "object": "sc/standard",
            "path": "provisioner",
            "equals": "k8s.io/minikube-hostpath",
        },
        "default_storageclass": {"name": "csi-hostpath-sc"},
        "pods_ready": {"selector": "name=mongo", "count": 1},
        "pvc_bound": {"name": "mongo-data-mongo-0", "storage_class": "csi-hostpath-sc"},
        "rollout_complete": {"object": "deployment/pacman", "replicas": "5"},
        "addon_enabled": {"addon": "ingress"},
        "ingress_address": {"name": "pacman-ingress"},
        "http": {
            "url": "http://127.0.0.1:9090/",
            "host": "pacman.com",
            "status": 200,
            "contains": "x",
        },
        "process_alive": {"process": "fwd"},
        "data_survives": {
            "url": "http://127.0.0.1/",
            "remembered": "scores",
            "replaced": "pod/mongo-0",
        },
        "command": {"run": "kubectl get ns", "exit": 0, "timeout": 5},
    }
    assert set(examples) == set(schema.CHECK_KINDS)
    for kind, fields in examples.items():
        assert schema.validate_check({"kind": kind, **fields}).problems == [], kind
