"""The minikube stand-in, run through its shim against the core's Sandbox with the real kubectl."""

from __future__ import annotations

import json
import sys
import urllib.error
from collections.abc import Callable
from typing import Any

import pytest

from tutor.sandbox import Sandbox
from tutor.sandbox.standins import StandIns

try:
    from sandbox_helpers import MANIFESTS
    from standins_helpers import background, free_port, http, run, wait_until
except ImportError:  # tests/ became a package
    from tests.sandbox.sandbox_helpers import MANIFESTS  # type: ignore[no-redef]
    from tests.sandbox.standins_helpers import (  # type: ignore[no-redef]
        background,
        free_port,
        http,
        run,
        wait_until,
    )

START = [
    "minikube", "start", "-p", "mc-demo", "--kubernetes-version=v1.31.0",
    "--container-runtime=containerd", "--addons=volumesnapshots,csi-hostpath-driver",
]  # fmt: skip
DEFAULT = "storageclass.kubernetes.io/is-default-class"

Cluster = tuple[Sandbox, StandIns, dict[str, str]]


@pytest.fixture
def fresh(sandbox_factory: Callable[..., Sandbox]) -> Cluster:
    """minikube installed, no cluster yet: the lesson's starting point."""
    sb = sandbox_factory(started=False, standins=True, ingress_port=free_port())
    assert sb.standins is not None
    return sb, sb.standins, sb.env()


@pytest.fixture
def started(fresh: Cluster) -> Cluster:
    result = run(START, fresh[2])
    assert result.returncode == 0, result.stdout + result.stderr
    return fresh


def default_classes(env: dict[str, str]) -> list[str]:
    out = run(["kubectl", "get", "storageclass", "-o", "json"], env)
    assert out.returncode == 0, out.stderr
    return sorted(
        sc["metadata"]["name"]
        for sc in json.loads(out.stdout)["items"]
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT) == "true"
    )


def kubectl_json(env: dict[str, str], *args: str) -> Any:
    out = run(["kubectl", *args, "-o", "json"], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_start_refuses_kubernetes_older_than_1_28_with_exit_106(fresh: Cluster) -> None:
    sb, _, env = fresh
    result = run(["minikube", "start", "-p", "mc-demo", "--kubernetes-version=1.21.2"], env)
    assert result.returncode == 106
    assert "Specified Kubernetes version 1.21.2 is less than the oldest supported version: v1.28.0." in result.stderr
    assert "You can force an unsupported Kubernetes version via the --force flag" in result.stderr
    assert (
        "Exiting due to K8S_OLD_UNSUPPORTED: Kubernetes 1.21.2 is not supported by this release "
        "of minikube" in result.stderr
    )
    assert not sb.running
    assert run(["minikube", "-p", "mc-demo", "status"], env).returncode == 85


@pytest.mark.parametrize(
    "command",
    [["status"], ["ip"], ["stop"], ["addons", "enable", "ingress"], ["addons", "list"], ["tunnel"]],
)
def test_an_unknown_profile_exits_85_with_minikubes_message(fresh: Cluster, command: list[str]) -> None:
    _, _, env = fresh
    result = run(["minikube", *command, "-p", "nope"], env)
    assert result.returncode == 85
    assert 'Profile "nope" not found. Run "minikube profile list" to view all profiles.' in result.stdout
    assert 'To start a cluster, run: "minikube start -p nope"' in result.stdout


def test_start_with_the_storage_addons_gives_the_lessons_cluster(fresh: Cluster) -> None:
    sb, _, env = fresh
    result = run(START, env)
    assert result.returncode == 0, result.stderr
    assert "Verifying csi-hostpath-driver addon..." in result.stdout
    assert (
        "Enabled addons: storage-provisioner, default-storageclass, volumesnapshots, "
        "csi-hostpath-driver" in result.stdout
    )
    assert (
        'Done! kubectl is now configured to use "mc-demo" cluster and "default" namespace by default' in result.stdout
    )
    assert "SIMULATED" in result.stdout
    assert run(["kubectl", "config", "current-context"], env).stdout.strip() == "mc-demo"
    assert [n["metadata"]["name"] for n in kubectl_json(env, "get", "nodes")["items"]] == ["mc-demo"]
    assert default_classes(env) == ["standard"]
    csi = kubectl_json(env, "get", "storageclass", "csi-hostpath-sc")
    assert csi["provisioner"] == "hostpath.csi.k8s.io"
    assert kubectl_json(env, "get", "csidriver", "hostpath.csi.k8s.io")["spec"]["attachRequired"] is False
    snapshot = kubectl_json(env, "get", "deployment", "snapshot-controller", "-n", "kube-system")
    assert snapshot["status"]["readyReplicas"] == 2
    assert kubectl_json(env, "get", "volumesnapshotclass", "csi-hostpath-snapclass")["driver"] == "hostpath.csi.k8s.io"
    plugin_pods = kubectl_json(
        env,
        "get",
        "pods",
        "-n",
        "kube-system",
        "-l",
        "kubernetes.io/minikube-addons=csi-hostpath-driver",
    )
    assert len(plugin_pods["items"]) == 3
    status = run(["minikube", "status", "-p", "mc-demo", "-o", "json"], env)
    assert status.returncode == 0
    assert json.loads(status.stdout) == {
        "Name": "mc-demo", "Host": "Running", "Kubelet": "Running", "APIServer": "Running",
        "Kubeconfig": "Configured", "Worker": False,
    }  # fmt: skip
    addons = json.loads(run(["minikube", "addons", "list", "-p", "mc-demo", "-o", "json"], env).stdout)
    assert addons["csi-hostpath-driver"] == {"Profile": "mc-demo", "Status": "enabled"}
    assert addons["ingress"] == {"Profile": "mc-demo", "Status": "disabled"}
    assert run(["minikube", "ip", "-p", "mc-demo"], env).stdout.strip() == "127.0.0.1"
    assert sb.wait_idle() is None


def test_versions_agree_and_the_node_runs_the_chosen_runtime(started: Cluster) -> None:
    _, _, env = started
    version = run(["minikube", "version", "--short"], env).stdout.strip()
    assert version == "v1.38.1"
    assert json.loads(run(["minikube", "version", "-o", "json"], env).stdout)["minikubeVersion"] == version
    config = kubectl_json(env, "config", "view")
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == "mc-demo")
    context = next(c["context"] for c in config["contexts"] if c["name"] == "mc-demo")
    for extensions in (cluster["extensions"], context["extensions"]):
        info = next(e["extension"] for e in extensions if e["name"] in ("cluster_info", "context_info"))
        assert (info["provider"], info["version"]) == ("minikube.sigs.k8s.io", version)
    node = kubectl_json(env, "get", "node", "mc-demo")
    assert node["metadata"]["labels"]["minikube.k8s.io/version"] == version
    # START asks for containerd, as the lesson does.
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "containerd://1.7.23"
    assert node["metadata"]["annotations"]["kubeadm.alpha.kubernetes.io/cri-socket"].endswith("containerd.sock")
    assert "Preparing Kubernetes v1.31.0 on containerd 1.7.23 ..." in run(START, env).stdout
    coredns = kubectl_json(env, "get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns")["items"][0]
    assert coredns["status"]["containerStatuses"][0]["containerID"].startswith("containerd://")


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [(None, "docker://27.4.1"), ("docker", "docker://27.4.1"), ("cri-o", "cri-o://1.32.0"), ("crio", "cri-o://1.32.0")],
)
def test_the_container_runtime_flag_sets_the_nodes_runtime(fresh: Cluster, runtime: str | None, expected: str) -> None:
    _, _, env = fresh
    argv = ["minikube", "start", "-p", "mc-demo"] + ([f"--container-runtime={runtime}"] if runtime else [])
    assert run(argv, env).returncode == 0
    node = kubectl_json(env, "get", "node", "mc-demo")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == expected


def test_csi_driver_alone_warns_that_it_needs_volumesnapshots(fresh: Cluster) -> None:
    _, _, env = fresh
    assert run(["minikube", "start", "-p", "mc-demo"], env).returncode == 0
    result = run(["minikube", "-p", "mc-demo", "addons", "enable", "csi-hostpath-driver"], env)
    assert result.returncode == 0
    assert (
        "[WARNING] For full functionality, the 'csi-hostpath-driver' addon requires the "
        "'volumesnapshots' addon to be enabled." in result.stderr
    )
    assert "Verifying csi-hostpath-driver addon..." in result.stdout
    assert "The 'csi-hostpath-driver' addon is enabled" in result.stdout
    quiet = run(["minikube", "-p", "mc-demo", "addons", "enable", "volumesnapshots"], env)
    assert "[WARNING]" not in quiet.stderr


def test_stop_status_and_restart_remark_standard_as_the_default(started: Cluster) -> None:
    _sb, _, env = started
    patch = '{"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "%s"}}}'
    assert run(["kubectl", "patch", "storageclass", "csi-hostpath-sc", "-p", patch % "true"], env).returncode == 0
    assert run(["kubectl", "patch", "storageclass", "standard", "-p", patch % "false"], env).returncode == 0
    assert default_classes(env) == ["csi-hostpath-sc"]
    stop = run(["minikube", "stop", "-p", "mc-demo"], env)
    assert stop.returncode == 0
    assert "1 node stopped." in stop.stdout
    status = run(["minikube", "status", "-p", "mc-demo"], env)
    assert status.returncode == 7
    assert status.stdout.startswith("mc-demo\ntype: Control Plane\nhost: Stopped\nkubelet: Stopped\napiserver: Stopped")
    assert run(["kubectl", "get", "nodes", "--request-timeout=2s"], env).returncode != 0
    again = run(["minikube", "start", "-p", "mc-demo"], env)
    assert again.returncode == 0, again.stderr
    assert "Restarting existing sandbox container" in again.stdout
    # What the lesson warns about: the restart undid the patch.
    assert default_classes(env) == ["standard"]


def test_disabling_default_storageclass_deletes_standard(started: Cluster) -> None:
    _, _, env = started
    result = run(["minikube", "-p", "mc-demo", "addons", "disable", "default-storageclass"], env)
    assert result.returncode == 0
    assert "\"The 'default-storageclass' addon is disabled" in result.stdout
    names = [sc["metadata"]["name"] for sc in kubectl_json(env, "get", "storageclass")["items"]]
    assert names == ["csi-hostpath-sc"]
    # And a restart no longer brings it back: the addon is off.
    run(["minikube", "stop", "-p", "mc-demo"], env)
    assert run(["minikube", "start", "-p", "mc-demo"], env).returncode == 0
    assert [sc["metadata"]["name"] for sc in kubectl_json(env, "get", "storageclass")["items"]] == ["csi-hostpath-sc"]


def test_the_ingress_addon_creates_and_removes_ingress_nginx(started: Cluster) -> None:
    _sb, _, env = started
    result = run(["minikube", "-p", "mc-demo", "addons", "enable", "ingress"], env)
    assert result.returncode == 0, result.stderr
    assert "Verifying ingress addon..." in result.stdout
    assert "The 'ingress' addon is enabled" in result.stdout
    pods = kubectl_json(env, "get", "pods", "-n", "ingress-nginx", "-l", "app.kubernetes.io/name=ingress-nginx")[
        "items"
    ]
    controller = [p for p in pods if p["metadata"]["name"].startswith("ingress-nginx-controller-")]
    assert len(controller) == 1
    assert controller[0]["status"]["phase"] == "Running"
    svc = kubectl_json(env, "get", "service", "ingress-nginx-controller", "-n", "ingress-nginx")
    assert svc["spec"]["type"] == "NodePort"
    assert [p["port"] for p in svc["spec"]["ports"]] == [80, 443]
    ic = kubectl_json(env, "get", "ingressclass", "nginx")
    assert ic["spec"]["controller"] == "k8s.io/ingress-nginx"
    assert ic["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == "true"
    jobs = kubectl_json(env, "get", "jobs", "-n", "ingress-nginx")["items"]
    assert sorted(j["metadata"]["name"] for j in jobs) == [
        "ingress-nginx-admission-create",
        "ingress-nginx-admission-patch",
    ]
    wait_until(
        lambda: all(
            (j.get("status") or {}).get("succeeded") == 1
            for j in kubectl_json(env, "get", "jobs", "-n", "ingress-nginx")["items"]
        ),
        what="admission jobs",
    )
    disabled = run(["minikube", "-p", "mc-demo", "addons", "disable", "ingress"], env)
    assert disabled.returncode == 0
    assert run(["kubectl", "get", "ingressclass", "nginx"], env).returncode != 0
    wait_until(
        lambda: run(["kubectl", "get", "namespace", "ingress-nginx"], env).returncode != 0,
        what="ingress-nginx to go",
    )


def test_profile_list_and_delete(started: Cluster) -> None:
    sb, _, env = started
    listed = json.loads(run(["minikube", "profile", "list", "-o", "json"], env).stdout)
    assert [(p["Name"], p["Status"], p["ActiveKubeContext"]) for p in listed["valid"]] == [("mc-demo", "OK", True)]
    assert listed["valid"][0]["Config"]["KubernetesConfig"]["ContainerRuntime"] == "containerd"
    table = run(["minikube", "profile", "list"], env).stdout
    assert "| mc-demo " in table
    assert "containerd" in table
    assert "v1.31.0" in table
    deleted = run(["minikube", "delete", "-p", "mc-demo"], env)
    assert deleted.returncode == 0
    assert deleted.stdout.splitlines() == [
        '* Deleting "mc-demo" in sandbox ...',
        '* Removed all traces of the "mc-demo" cluster.',
    ]
    assert not sb.running
    assert run(["minikube", "status", "-p", "mc-demo"], env).returncode == 85
    assert "mc-demo" not in run(["kubectl", "config", "get-contexts", "-o", "name"], env).stdout
    # A profile that does not exist: minikube warns, says the same last line, and exits 0.
    again = run(["minikube", "delete", "-p", "mc-demo"], env)
    assert again.returncode == 0
    assert again.stderr.strip() == '! "mc-demo" profile does not exist, trying anyways.'
    assert again.stdout.strip() == '* Removed all traces of the "mc-demo" cluster.'
    everything = run(["minikube", "delete", "--all"], env)
    assert (everything.returncode, everything.stdout.strip()) == (0, "* Successfully deleted all profiles")
    usage = run(["minikube", "delete", "mc-demo"], env)
    assert usage.returncode == 14
    assert "Exiting due to MK_USAGE: Usage: minikube delete" in usage.stderr


def test_the_cores_delete_cluster_is_minikube_delete_too(started: Cluster) -> None:
    sb, _, env = started
    sb.delete_cluster()
    assert run(["minikube", "status", "-p", "mc-demo"], env).returncode == 85
    assert run(["minikube", "start", "-p", "other"], env).returncode == 0


def http_refused(url: str) -> bool:
    try:
        http(url, timeout=5)
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


def test_after_delete_a_start_gets_a_fresh_cluster_of_any_profile(started: Cluster) -> None:
    sb, si, env = started
    manifest = str(MANIFESTS / "pacman-stateful.yaml")
    assert run(["kubectl", "create", "-f", manifest], env).returncode == 0
    wait = ["kubectl", "wait", "--for=condition=Ready", "pod/mongo-0", "-n", "pacman", "--timeout=30s"]
    assert run(wait, env).returncode == 0
    rollout = ["kubectl", "rollout", "status", "deployment/pacman", "-n", "pacman", "--timeout=30s"]
    assert run(rollout, env).returncode == 0
    pod = kubectl_json(env, "get", "pods", "-n", "pacman", "-l", "name=pacman")["items"][0]["metadata"]["name"]
    game = wait_until(lambda: (b := si.apps.backend("pacman", pod)) and b.ports.get(8080), what="the game")
    score = {"name": "before", "score": "10", "level": "1", "cloud": "", "zone": "", "host": ""}
    assert http(f"http://127.0.0.1:{game}/highscores", score)[0] == 200
    assert si.databases.keys()
    assert run(["minikube", "-p", "mc-demo", "addons", "enable", "ingress"], env).returncode == 0
    assert run(["minikube", "delete", "-p", "mc-demo"], env).returncode == 0
    assert si.databases.keys() == [], "the game's scores went with the volumes"
    assert http_refused(f"http://127.0.0.1:{game}/")

    other = run(["minikube", "start", "-p", "other"], env)
    assert other.returncode == 0, other.stderr
    assert "Creating sandbox container" in other.stdout
    assert run(["kubectl", "config", "current-context"], env).stdout.strip() == "other"
    assert [n["metadata"]["name"] for n in kubectl_json(env, "get", "nodes")["items"]] == ["other"]
    namespaces = {n["metadata"]["name"] for n in kubectl_json(env, "get", "namespaces")["items"]}
    assert namespaces == {"default", "kube-node-lease", "kube-public", "kube-system"}
    assert default_classes(env) == ["standard"]
    assert kubectl_json(env, "get", "crd")["items"] == []
    assert run(["kubectl", "get", "volumesnapshotclass"], env).returncode != 0
    addons = json.loads(run(["minikube", "addons", "list", "-p", "other", "-o", "json"], env).stdout)
    assert {name for name, a in addons.items() if a["Status"] == "enabled"} == {
        "default-storageclass",
        "storage-provisioner",
    }
    refused = run(["minikube", "start", "-p", "mc-demo"], env)
    assert refused.returncode == 14, "still one cluster at a time"

    # And the lesson's own profile again, from scratch: the whole deploy step works.
    assert run(["minikube", "delete", "-p", "other"], env).returncode == 0
    assert run(START, env).returncode == 0
    assert run(["kubectl", "get", "namespace", "pacman"], env).returncode != 0
    assert run(["kubectl", "create", "-f", manifest], env).returncode == 0
    assert run(wait, env).returncode == 0
    assert sb.wait_idle() is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["minikube", "start", "--bogus"], "Error: unknown flag: --bogus"),
        (["minikube", "frobnicate"], 'Error: unknown command "frobnicate" for "minikube"'),
        (["minikube", "start", "--container-runtime=rkt"], "Invalid Container Runtime: rkt"),
        (["minikube", "-p", "mc-demo", "addons", "enable", "nope"], "nope is not a valid addon"),
        (
            ["minikube", "-p", "mc-demo", "addons", "enable", "dashboard"],
            "the 'dashboard' addon is not simulated",
        ),
    ],
)
def test_bad_input_gets_a_message_and_a_non_zero_exit(started: Cluster, argv: list[str], message: str) -> None:
    result = run(argv, started[2])
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_minikube_without_its_sandbox_says_so(fresh: Cluster) -> None:
    _, _, env = fresh
    # A shell whose sandbox has gone: nothing answers at the control address.
    env = {**env, "K8S_TUTOR_SANDBOX_CONTROL": f"http://127.0.0.1:{free_port()}"}
    result = run([sys.executable, "-m", "tutor.sandbox.minikube", "status"], env)
    assert result.returncode == 80
    assert "its sandbox is not running" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_stopped_cluster_serves_nothing_until_it_starts_again(started: Cluster) -> None:
    _, _, env = started
    manifest = str(MANIFESTS / "pacman-stateful.yaml")
    assert run(["kubectl", "create", "-f", manifest], env).returncode == 0
    wait = ["kubectl", "rollout", "status", "deployment/pacman", "-n", "pacman", "--timeout=30s"]
    assert run(wait, env).returncode == 0
    port = free_port()
    forward = ["kubectl", "port-forward", "svc/pacman", f"{port}:80", "-n", "pacman"]
    with background(forward, env) as pf:
        pf.read_until("Forwarding from [::1]")
        assert run(["minikube", "stop", "-p", "mc-demo"], env).returncode == 0
        assert pf.wait() == 1
        assert "error: lost connection to pod" in pf.stderr()
    refused = run(forward, env)
    assert refused.returncode == 1
    assert "The connection to the server 127.0.0.1:" in refused.stderr
    assert "was refused - did you specify the right host or port?" in refused.stderr
    assert run(["minikube", "start", "-p", "mc-demo"], env).returncode == 0
    with background(forward, env) as pf:
        pf.read_until("Forwarding from [::1]")
        assert http(f"http://127.0.0.1:{port}/")[0] == 200
