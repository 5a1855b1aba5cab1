"""Reading kubeconfigs as kubectl does, and the context guard's decision table, from handcrafted files.

None of these tests connects anywhere or looks a name up: the guard decides from files
alone. The autouse socket guard (conftest) fails a test that connects to anything but
loopback, and the one here fails any name lookup but for loopback names.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.kubeconfigs import kubeconfig
from tutor import provenance
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.guard import decide
from tutor.cluster.kubeconfig import BadKubeconfig, NoCluster, Source, load
from tutor.cluster.locality import locate


@pytest.fixture(autouse=True)
def _no_name_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            raise AssertionError(f"a test looked up {host!r}: the guard must decide without DNS")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


@pytest.fixture(autouse=True)
def minikube_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "mkhome" / ".minikube"
    home.mkdir(parents=True)
    monkeypatch.setenv("MINIKUBE_HOME", str(home))
    return home


def info_of(tmp_path: Path, name: str, server: str, **extensions: Any) -> Any:
    return load(Source.resolve(kubeconfig(tmp_path / "config", (name, server), current=name, **extensions))).info


def profile(home: Path, name: str, config: dict[str, Any], mode: int = 0o600) -> Path:
    folder = home / "profiles" / name
    folder.mkdir(parents=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    path.chmod(mode)
    return path


def minikube_config(ip: str, port: int = 8443, *, driver: str = "kvm2", api_port: int = 8443) -> dict[str, Any]:
    node = {"Name": "", "IP": ip, "Port": port, "ControlPlane": True, "Worker": True}
    return {"Name": "mc-demo", "Driver": driver, "APIServerPort": api_port, "Nodes": [node]}


MINIKUBE_EXT = [{"name": "cluster_info", "extension": {"provider": "minikube.sigs.k8s.io", "version": "v1.34.0"}}]
SANDBOX_EXT = [{"name": "k8s-tutor-sandbox", "extension": {"variables": {"ingress_port": "18080"}}}]


class TestWhereTheServerIs:
    """Local is decided from the server's address, never from a name or an extension."""

    @pytest.mark.parametrize(
        ("name", "server", "extensions", "local", "kind"),
        [
            ("homegrown", "https://127.0.0.1:6443", None, True, "loopback"),
            ("v6", "https://[::1]:6443", None, True, "loopback"),
            ("k3d-lab", "https://0.0.0.0:6443", None, True, "k3d"),
            ("kind-dev", "https://127.0.0.1:40000", None, True, "kind"),
            ("sb", "http://127.0.0.1:5000", SANDBOX_EXT, True, "sandbox"),
            # Names and extensions alone: never local.
            ("minikube", "https://10.0.0.1:8443", None, False, "minikube"),
            ("kind-prod", "https://10.0.0.1:6443", None, False, "kind"),
            ("docker-desktop", "https://172.16.0.9:6443", None, False, "docker-desktop"),
            ("mc-demo", "https://192.168.49.2:8443", MINIKUBE_EXT, False, "minikube"),
            ("sb", "http://10.0.0.7:5000", SANDBOX_EXT, False, "sandbox"),
            ("prod", "https://10.0.0.1:6443", None, False, None),
            ("eks", "https://ABC.gr7.eu-west-1.eks.amazonaws.com", None, False, None),
            ("sneaky", "https://127.0.0.1.nip.io:6443", None, False, None),
        ],
    )
    def test_decision_table(
        self, tmp_path: Path, name: str, server: str, extensions: Any, local: bool, kind: str | None
    ) -> None:
        info = info_of(tmp_path, name, server, **({name: extensions} if extensions else {}))
        assert (info.is_local, info.kind) == (local, kind), info.locality.why
        assert decide(info, explicit=False).allowed == local

    def test_localhost_is_local_and_pinned_to_127_0_0_1(self, tmp_path: Path) -> None:
        info = info_of(tmp_path, "dev", "https://localhost:6443")
        assert info.is_local and info.locality.pin == "127.0.0.1"

    def test_a_hosts_file_name_for_loopback_is_local_and_pinned(self, tmp_path: Path) -> None:
        hosts = tmp_path / "hosts"
        hosts.write_text("127.0.0.1 localhost\n127.0.0.1 kubernetes.docker.internal # Docker Desktop\n")
        found = locate("https://kubernetes.docker.internal:6443", "docker-desktop", hosts_file=hosts)
        assert found.local and found.pin == "127.0.0.1"

    @pytest.mark.parametrize(
        ("text", "mode"),
        [
            ("10.1.2.3 kubernetes.docker.internal\n", 0o644),
            ("127.0.0.1 kubernetes.docker.internal\n10.1.2.3 kubernetes.docker.internal\n", 0o644),
            ("127.0.0.1 kubernetes.docker.internal\n", 0o666),  # anyone may rewrite it
            ("127.0.0.1 other.name\n", 0o644),
        ],
    )
    def test_a_name_is_not_local_unless_the_hosts_file_says_loopback_only(
        self, tmp_path: Path, text: str, mode: int
    ) -> None:
        hosts = tmp_path / "hosts"
        hosts.write_text(text)
        hosts.chmod(mode)
        assert not locate("https://kubernetes.docker.internal:6443", "docker-desktop", hosts_file=hosts).local

    def test_a_proxy_off_this_machine_makes_it_remote(self, tmp_path: Path) -> None:
        path = kubeconfig(tmp_path / "c", ("kind-x", "https://127.0.0.1:6443"), current="kind-x")
        data = yaml.safe_load(path.read_text())
        data["clusters"][0]["cluster"]["proxy-url"] = "http://10.9.9.9:3128"
        path.write_text(yaml.safe_dump(data))
        info = load(Source.resolve(path)).info
        assert not info.is_local and "proxy" in info.locality.why


class TestMinikubeProfileAddress:
    def test_the_profiles_recorded_node_address_is_local(self, tmp_path: Path, minikube_home: Path) -> None:
        profile(minikube_home, "mc-demo", minikube_config("192.168.49.2"))
        info = info_of(tmp_path, "mc-demo", "https://192.168.49.2:8443")
        assert info.is_local, info.locality.why
        assert "minikube profile mc-demo" in info.locality.why

    def test_the_api_server_port_counts_too(self, tmp_path: Path, minikube_home: Path) -> None:
        profile(minikube_home, "mc-demo", minikube_config("192.168.49.2", port=0, api_port=6443))
        assert info_of(tmp_path, "mc-demo", "https://192.168.49.2:6443").is_local

    @pytest.mark.parametrize(
        "server",
        ["https://192.168.49.2:9443", "https://192.168.49.3:8443", "https://10.0.0.1:8443"],
    )
    def test_another_address_is_not_the_profiles(self, tmp_path: Path, minikube_home: Path, server: str) -> None:
        profile(minikube_home, "mc-demo", minikube_config("192.168.49.2"))
        info = info_of(tmp_path, "mc-demo", server, **{"mc-demo": MINIKUBE_EXT})
        assert not info.is_local
        assert "records 192.168.49.2:8443" in info.locality.why

    def test_only_the_profile_of_the_same_name(self, tmp_path: Path, minikube_home: Path) -> None:
        profile(minikube_home, "other", minikube_config("192.168.49.2"))
        assert not info_of(tmp_path, "mc-demo", "https://192.168.49.2:8443").is_local

    def test_a_profile_file_others_can_write_is_not_trusted(self, tmp_path: Path, minikube_home: Path) -> None:
        profile(minikube_home, "mc-demo", minikube_config("192.168.49.2"), mode=0o666)
        info = info_of(tmp_path, "mc-demo", "https://192.168.49.2:8443")
        assert not info.is_local and "not trusted" in info.locality.why

    def test_the_ssh_driver_node_is_another_machine(self, tmp_path: Path, minikube_home: Path) -> None:
        profile(minikube_home, "mc-demo", minikube_config("203.0.113.5", driver="ssh"))
        info = info_of(tmp_path, "mc-demo", "https://203.0.113.5:8443")
        assert not info.is_local and "ssh driver" in info.locality.why

    def test_a_damaged_profile_file_is_no_ground(self, tmp_path: Path, minikube_home: Path) -> None:
        path = profile(minikube_home, "mc-demo", {})
        path.write_text('{"Nodes": "192.168.49.2", "APIServerPort": true')
        assert not info_of(tmp_path, "mc-demo", "https://192.168.49.2:8443").is_local


class TestSandboxStandIns:
    """The sandbox extension's `bin` is put on PATH only when it is proven to be k8s-tutor's."""

    def shims(self, tmp_path: Path) -> Path:
        folder = tmp_path / "standins" / "bin"
        folder.mkdir(parents=True, mode=0o700)
        folder.parent.chmod(0o700)
        for name in ("minikube", "kubectl"):
            (folder / name).write_text("#!/bin/sh\n")
            (folder / name).chmod(0o700)
        return folder

    def sandbox_info(self, tmp_path: Path, extension: dict[str, Any]) -> Any:
        ext = [{"name": "k8s-tutor-sandbox", "extension": {"profile": "mc-demo", **extension}}]
        return info_of(tmp_path, "mc-demo", "http://127.0.0.1:5000", **{"mc-demo": ext})

    def test_a_folder_the_tutor_signed_is_used(self, tmp_path: Path) -> None:
        folder = self.shims(tmp_path)
        info = self.sandbox_info(tmp_path, {"bin": str(folder), "binProof": provenance.sign(folder)})
        assert info.sandbox_bin == str(folder) and info.sandbox_bin_problem is None

    def test_a_foreign_bin_without_proof_is_not(self, tmp_path: Path) -> None:
        folder = self.shims(tmp_path)
        info = self.sandbox_info(tmp_path, {"bin": str(folder)})
        assert info.sandbox_bin is None
        assert "carries no proof that k8s-tutor made it" in info.sandbox_bin_problem

    def test_a_proof_for_another_folder_is_not(self, tmp_path: Path) -> None:
        folder = self.shims(tmp_path)
        info = self.sandbox_info(tmp_path, {"bin": str(folder), "binProof": provenance.sign(tmp_path / "elsewhere")})
        assert info.sandbox_bin is None and "does not match" in info.sandbox_bin_problem

    @pytest.mark.parametrize("what", ["folder", "file", "symlink", "parent"])
    def test_a_signed_folder_others_could_change_is_not(self, tmp_path: Path, what: str) -> None:
        folder = self.shims(tmp_path)
        proof = provenance.sign(folder)
        if what == "folder":
            folder.chmod(0o777)
        elif what == "file":
            (folder / "minikube").chmod(0o722)
        elif what == "parent":
            folder.parent.chmod(0o777)
        else:
            (folder / "kubectl").unlink()
            (folder / "kubectl").symlink_to("/bin/sh")
        info = self.sandbox_info(tmp_path, {"bin": str(folder), "binProof": proof})
        assert info.sandbox_bin is None, what
        assert info.sandbox_bin_problem

    def test_a_key_others_can_read_proves_nothing(self, tmp_path: Path) -> None:
        folder = self.shims(tmp_path)
        proof = provenance.sign(folder)
        provenance.key_path().chmod(0o644)
        info = self.sandbox_info(tmp_path, {"bin": str(folder), "binProof": proof})
        assert info.sandbox_bin is None and "not a private file" in info.sandbox_bin_problem

    def test_the_extension_never_makes_a_remote_server_local(self, tmp_path: Path) -> None:
        folder = self.shims(tmp_path)
        ext = {"bin": str(folder), "binProof": provenance.sign(folder)}
        ext_list = [{"name": "k8s-tutor-sandbox", "extension": ext}]
        info = info_of(tmp_path, "mc-demo", "https://10.0.0.1:6443", **{"mc-demo": ext_list})
        assert info.is_sandbox and not info.is_local


class TestGuard:
    def test_remote_current_context_is_refused_with_a_way_forward(self, tmp_path: Path) -> None:
        info = info_of(tmp_path, "prod", "https://10.0.0.1:6443")
        decision = decide(info, explicit=False)
        assert not decision.allowed and not decision.needs_confirmation
        assert decision.message.startswith("k8s-tutor only acts on clusters on this machine")
        assert "run with --context prod to be asked" in decision.message

    def test_named_remote_context_needs_confirmation_then_is_allowed(self, tmp_path: Path) -> None:
        info = info_of(tmp_path, "prod", "https://10.0.0.1:6443")
        asking = decide(info, explicit=True)
        assert (asking.allowed, asking.needs_confirmation, asking.context) == (False, True, "prod")
        assert "not a cluster on this machine" in asking.message
        assert "--yes does not confirm it" in asking.refusal()
        assert decide(info, explicit=True, confirmed=True).allowed

    @pytest.mark.parametrize(
        ("user", "program"),
        [
            ({"exec": {"command": "aws", "args": ["eks", "get-token"]}}, "the credential plugin aws"),
            ({"auth-provider": {"name": "oidc", "config": {}}}, "the auth-provider oidc"),
        ],
    )
    def test_a_local_context_that_runs_a_program_to_log_in_needs_confirmation(
        self, tmp_path: Path, user: dict[str, Any], program: str
    ) -> None:
        path = kubeconfig(tmp_path / "c", ("kind-x", "https://127.0.0.1:6443"), current="kind-x")
        data = yaml.safe_load(path.read_text())
        data["users"][0]["user"] = user
        path.write_text(yaml.safe_dump(data))
        info = load(Source.resolve(path)).info
        assert info.is_local and info.programs == (program,)
        assert not decide(info, explicit=False).allowed
        asking = decide(info, explicit=True)
        assert asking.needs_confirmation and program in asking.message
        assert "a cluster on this machine needs no such program" in asking.message

    def test_the_connection_never_reaches_a_refused_cluster(self, tmp_path: Path) -> None:
        path = kubeconfig(tmp_path / "c", ("prod", "https://10.0.0.1:6443"), current="prod")
        connection = ClusterConnection(Source.resolve(path))
        status = connection.open()
        assert status.state == "refused"
        assert connection.client() is None
        assert connection.node_ip() is None
        connection.close()

    def test_a_confirmation_holds_for_the_server_confirmed_only(self, tmp_path: Path) -> None:
        path = kubeconfig(tmp_path / "c", ("prod", "https://10.0.0.1:6443"))
        connection = ClusterConnection(Source.resolve(path, "prod"), pin=True)
        try:
            assert connection.open().state == "refused"
            assert connection.confirm().state == "connecting"
            assert connection.pin is not None and connection.pin.context == "prod"
            # Someone repoints the context while the tutor runs: asked again, not followed.
            kubeconfig(path, ("prod", "https://10.0.0.2:6443"))
            assert connection.refresh().state == "refused"
            assert connection.client() is None and connection.pin.context is None
        finally:
            connection.close()

    def test_a_local_context_repointed_off_this_machine_is_dropped(self, tmp_path: Path) -> None:
        path = kubeconfig(tmp_path / "c", ("mc-demo", "https://127.0.0.1:6443"), current="mc-demo")
        connection = ClusterConnection(Source.resolve(path, "mc-demo"), pin=True)
        try:
            assert connection.open().state == "connecting"
            kubeconfig(path, ("mc-demo", "https://10.0.0.1:6443"), current="mc-demo")
            assert connection.refresh().state == "refused"
            assert connection.pin is not None and connection.pin.context is None
        finally:
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

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"clusters: []\ncurrent-context: caf\xe9\n", "is not UTF-8 text"),
            (b"\x00\x01\x02\xff\xfe", "is not UTF-8 text"),
            (b"- just\n- a list\n", "no mapping at the top"),
            (b"clusters: a string\n", "clusters must be a list, not a string"),
            (b"clusters: [42]\n", "clusters[0] must be a mapping, not a number"),
            (b"clusters: [{cluster: {server: x}}]\n", "clusters[0] has no name"),
            (b"clusters: [{name: c, cluster: [1, 2]}]\n", "cluster must be a mapping, not a list"),
            (b"users: [{name: u, user: {exec: {args: [x]}}}]\n", "exec needs a command"),
            (b"current-context: [a]\n", "current-context must be a string"),
            (b"a: &x [1]\nb: *x\n", "YAML aliases are not allowed here"),
            (
                b"current-context: c\ncontexts: [{name: c, context: {cluster: c}}]\n"
                b"clusters: [{name: c, cluster: {server: 6443}}]\n",
                "server must be a string, not a number",
            ),
            (
                b"current-context: c\ncontexts: [{name: c, context: {cluster: [c]}}]\n",
                "cluster must be a string, not a list",
            ),
            (
                b"current-context: c\ncontexts: [{name: c, context: {cluster: c}}]\n"
                b"clusters: [{name: c, cluster: {server: 'ftp://127.0.0.1'}}]\n",
                "is not an http(s) URL",
            ),
        ],
    )
    def test_wrong_types_anywhere_are_a_message(self, tmp_path: Path, content: bytes, message: str) -> None:
        path = tmp_path / "config"
        path.write_bytes(content)
        with pytest.raises(BadKubeconfig) as caught:
            load(Source.resolve(path))
        assert message in str(caught.value)
        assert str(path) in str(caught.value) or "cluster" in str(caught.value)

    @pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
    def test_what_is_not_a_file_is_a_message_and_never_blocks(self, tmp_path: Path, kind: str) -> None:
        if kind == "fifo":
            path = tmp_path / "fifo"
            os.mkfifo(path)
        elif kind == "device":
            path = Path("/dev/zero")
        else:
            path = tmp_path
        with pytest.raises(BadKubeconfig) as caught:
            load(Source.resolve(path))
        assert "not a regular file" in str(caught.value) or "cannot read" in str(caught.value)

    def test_connection_reports_no_cluster_as_a_status(self, tmp_path: Path) -> None:
        connection = ClusterConnection(Source.resolve(tmp_path / "nothing-here"))
        status = connection.open()
        assert status.state == "no_cluster"
        assert status.message.startswith("no cluster yet: run the first step (minikube start)")
        connection.close()

    def test_a_bad_kubeconfig_is_a_status_not_an_exception(self, tmp_path: Path) -> None:
        path = tmp_path / "config"
        path.write_bytes(b"clusters: {oops: 1}\n")
        connection = ClusterConnection(Source.resolve(path))
        status = connection.open()
        assert status.state == "no_cluster" and "clusters must be a list" in status.message
        connection.close()
