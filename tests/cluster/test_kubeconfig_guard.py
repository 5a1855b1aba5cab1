"""Reading kubeconfigs as kubectl does, and the context guard, from handcrafted files.

None of these tests connects anywhere: the guard decides from the file alone (the
autouse socket guard would fail a test that tried to reach a remote server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.guard import decide
from tutor.cluster.kubeconfig import BadKubeconfig, NoCluster, Source, load


def kubeconfig(path: Path, *contexts: tuple[str, str], current: str | None = None, **extensions: Any) -> Path:
    """Contexts as (name, server); extensions by context name."""
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": server, **({"extensions": extensions[name]} if name in extensions else {})},
            }
            for name, server in contexts
        ],
        "users": [{"name": name, "user": {"token": "t"}} for name, _ in contexts],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name, _ in contexts],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


MINIKUBE_EXT = [{"name": "cluster_info", "extension": {"provider": "minikube.sigs.k8s.io", "version": "v1.34.0"}}]


@pytest.mark.parametrize(
    ("name", "server", "extensions", "kind"),
    [
        ("mc-demo", "https://192.168.49.2:8443", MINIKUBE_EXT, "minikube"),
        ("kind-dev", "https://127.0.0.1:40000", None, "kind"),
        ("k3d-lab", "https://0.0.0.0:6443", None, "k3d"),
        ("docker-desktop", "https://kubernetes.docker.internal:6443", None, "docker-desktop"),
        ("rancher-desktop", "https://127.0.0.1:6443", None, "rancher-desktop"),
        ("orbstack", "https://127.0.0.1:26443", None, "orbstack"),
        ("homegrown", "https://127.0.0.1:6443", None, "loopback"),
        (
            "sb",
            "http://127.0.0.1:5000",
            [{"name": "k8s-tutor-sandbox", "extension": {"variables": {"ingress_port": "18080"}}}],
            "sandbox",
        ),
        ("prod", "https://10.0.0.1:6443", None, None),
        ("eks", "https://ABC.gr7.eu-west-1.eks.amazonaws.com", None, None),
    ],
)
def test_local_kinds(tmp_path: Path, name: str, server: str, extensions: Any, kind: str | None) -> None:
    ext = {name: extensions} if extensions else {}
    info = load(Source.resolve(kubeconfig(tmp_path / "config", (name, server), current=name, **ext))).info
    assert info.local_kind == kind
    assert decide(info, explicit=False).allowed == (kind is not None)


def test_sandbox_variables_and_profile(tmp_path: Path) -> None:
    ext = [{"name": "k8s-tutor-sandbox", "extension": {"profile": "mc-demo", "variables": {"ingress_port": 18080}}}]
    info = load(
        Source.resolve(
            kubeconfig(tmp_path / "c", ("mc-demo", "http://127.0.0.1:5000"), current="mc-demo", **{"mc-demo": ext})
        )
    ).info
    assert info.is_sandbox and info.variables == {"ingress_port": "18080"} and info.minikube_profile == "mc-demo"


def test_minikube_profile_on_disk_makes_a_context_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "mk"
    (home / ".minikube" / "profiles" / "old").mkdir(parents=True)
    (home / ".minikube" / "profiles" / "old" / "config.json").write_text("{}")
    monkeypatch.setenv("MINIKUBE_HOME", str(home))
    info = load(Source.resolve(kubeconfig(tmp_path / "c", ("old", "https://192.168.58.2:8443"), current="old"))).info
    assert info.local_kind == "minikube"


class TestGuard:
    def test_remote_current_context_is_refused_with_a_way_forward(self, tmp_path: Path) -> None:
        info = load(Source.resolve(kubeconfig(tmp_path / "c", ("prod", "https://10.0.0.1:6443"), current="prod"))).info
        decision = decide(info, explicit=False)
        assert not decision.allowed and not decision.needs_confirmation
        assert decision.message.startswith("k8s-tutor only acts on local clusters")
        assert "run with --context prod to use it anyway" in decision.message

    def test_named_remote_context_needs_confirmation_then_is_allowed(self, tmp_path: Path) -> None:
        info = load(Source.resolve(kubeconfig(tmp_path / "c", ("prod", "https://10.0.0.1:6443")), context="prod")).info
        asking = decide(info, explicit=True)
        assert (asking.allowed, asking.needs_confirmation) == (False, True)
        assert "not a local cluster" in asking.message
        assert decide(info, explicit=True, confirmed=True).allowed

    def test_the_connection_never_reaches_a_refused_cluster(self, tmp_path: Path) -> None:
        path = kubeconfig(tmp_path / "c", ("prod", "https://10.0.0.1:6443"), current="prod")
        connection = ClusterConnection(Source.resolve(path))
        status = connection.open()
        assert status.state == "refused"
        assert connection.client() is None
        assert connection.node_ip() is None
        connection.close()


class TestKubeconfigFiles:
    def test_kubeconfig_env_merges_first_wins(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        first = kubeconfig(tmp_path / "a", ("mc-demo", "https://127.0.0.1:1111"), current="mc-demo")
        second = kubeconfig(
            tmp_path / "b",
            ("mc-demo", "https://127.0.0.1:2222"),
            ("kind-x", "https://127.0.0.1:3333"),
            current="kind-x",
        )
        monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{first}:{second}")
        loaded = load(Source.resolve())
        assert (loaded.info.name, loaded.info.server) == ("mc-demo", "https://127.0.0.1:1111")
        other = load(Source.resolve(context="kind-x"))
        assert other.info.server == "https://127.0.0.1:3333"

    def test_relative_certificate_paths_are_relative_to_their_file(self, tmp_path: Path) -> None:
        path = tmp_path / "conf" / "config"
        path.parent.mkdir()
        kubeconfig(path, ("kind-x", "https://127.0.0.1:1"), current="kind-x")
        data = yaml.safe_load(path.read_text())
        data["clusters"][0]["cluster"]["certificate-authority"] = "certs/ca.crt"
        path.write_text(yaml.safe_dump(data))
        loaded = load(Source.resolve(path))
        assert loaded.config["clusters"][0]["cluster"]["certificate-authority"] == str(
            tmp_path / "conf" / "certs" / "ca.crt"
        )

    @pytest.mark.parametrize(
        ("setup", "error", "message"),
        [
            ("missing", NoCluster, "no cluster yet: run the first step (minikube start)"),
            (
                "empty",
                NoCluster,
                "no cluster yet: run the first step (minikube start) (the kubeconfig has no contexts)",
            ),
            ("no-current", NoCluster, "the kubeconfig has no current context"),
            ("unknown-context", NoCluster, "there is no context 'nope'"),
            ("bad-yaml", BadKubeconfig, "is not valid YAML"),
            ("dangling", BadKubeconfig, "names the cluster 'gone', which the kubeconfig does not define"),
        ],
    )
    def test_problems_are_messages(self, tmp_path: Path, setup: str, error: type[Exception], message: str) -> None:
        path = tmp_path / "config"
        context = None
        if setup == "empty":
            path.write_text("apiVersion: v1\nkind: Config\n")
        elif setup == "no-current":
            kubeconfig(path, ("kind-x", "https://127.0.0.1:1"))
        elif setup == "unknown-context":
            kubeconfig(path, ("kind-x", "https://127.0.0.1:1"), current="kind-x")
            context = "nope"
        elif setup == "bad-yaml":
            path.write_text("clusters: [\n")
        elif setup == "dangling":
            path.write_text(
                yaml.safe_dump({"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "gone"}}]})
            )
        with pytest.raises(error) as caught:
            load(Source.resolve(path, context))
        assert message in str(caught.value)

    def test_connection_reports_no_cluster_as_a_status(self, tmp_path: Path) -> None:
        connection = ClusterConnection(Source.resolve(tmp_path / "nothing-here"))
        status = connection.open()
        assert status.state == "no_cluster"
        assert status.message.startswith("no cluster yet: run the first step (minikube start)")
        connection.close()
