"""`minikube` for the sandbox: the commands the lessons use, printed the way minikube prints them.

This runs in the learner's shell (through the shim on PATH) and asks the sandbox's
control endpoint to act. Lines, exit codes and error messages follow minikube's own
(v1.3x) where a learner or the tutor looks at them: `Done! kubectl is now configured
...`, `Exiting due to K8S_OLD_UNSUPPORTED` (106), `Profile "X" not found` (85), the
status bitmask, `Tunnel successfully started`. A line marked 🧪 (or `*` without emoji)
says what the sandbox does differently.

Flags may come anywhere (`minikube -p mc-demo addons enable ingress`,
`minikube addons enable ingress --profile=mc-demo`), as with minikube's cobra parser.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tutor.sandbox.control_client import ControlAddress, ControlError, SandboxUnreachable, call
from tutor.sandbox.minikube.output import Printer
from tutor.sandbox.versions import (
    MINIKUBE_COMMIT,
    MINIKUBE_VERSION,
    OLDEST_KUBERNETES,
    RUNTIME_ALIASES,
    RUNTIMES,
    runtime_info,
)

VERSION = MINIKUBE_VERSION
OLDEST_K8S = OLDEST_KUBERNETES
ADDON_WAIT_SECONDS = 360.0

EX_USAGE = 14
EX_PROGRAM_ERROR = 10
EX_GUEST_NOT_FOUND = 85
EX_GUEST_UNAVAILABLE = 89
EX_K8S_UNSUPPORTED = 106
EX_SANDBOX_DOWN = 80

# Flags that take a value; every other known flag is a switch. Unknown flags are an error.
GLOBAL_VALUE_FLAGS = {
    "-p",
    "--profile",
    "-v",
    "--v",
    "--log_dir",
    "--log_file",
    "--user",
    "-b",
    "--bootstrapper",
    "--rootless",
}
GLOBAL_SWITCHES = {
    "--alsologtostderr",
    "--logtostderr",
    "--skip-audit",
    "--skip_headers",
    "-h",
    "--help",
    "--add_dir_header",
}
COMMAND_FLAGS: dict[str, tuple[set[str], set[str]]] = {
    # command: (flags with a value, switches)
    "start": (
        {
            "--kubernetes-version",
            "--container-runtime",
            "-c",
            "--addons",
            "--apiserver-port",
            "--driver",
            "--vm-driver",
            "-d",
            "--memory",
            "--cpus",
            "--disk-size",
            "--nodes",
            "-n",
            "--cni",
            "--network-plugin",
            "--extra-config",
            "--wait",
            "--wait-timeout",
            "--apiserver-name",
            "--apiserver-names",
            "--apiserver-ips",
            "--listen-address",
            "--ports",
            "--image-repository",
            "--base-image",
            "--insecure-registry",
            "--registry-mirror",
            "--feature-gates",
            "--mount-string",
            "--static-ip",
            "--subnet",
            "--gpus",
            "--network",
            "--dns-domain",
            "--service-cluster-ip-range",
            "--docker-env",
            "--docker-opt",
            "--kvm-network",
            "--hyperv-virtual-switch",
            "--iso-url",
            "--cache-images",
            "--output",
            "-o",
            "--auto-pause-interval",
            "--cert-expiration",
        },
        {
            "--force",
            "--embed-certs",
            "--install-addons",
            "--keep-context",
            "--delete-on-failure",
            "--dry-run",
            "--interactive",
            "--native-ssh",
            "--preload",
            "--ha",
            "--mount",
            "--download-only",
            "--force-systemd",
            "--disable-driver-mounts",
            "--disable-metrics",
            "--disable-optimizations",
            "--no-kubernetes",
            "--no-vtx-check",
            "--auto-update-drivers",
        },
    ),
    "stop": (
        {"--schedule", "-o", "--output"},
        {"--all", "--keep-context-active", "--cancel-scheduled"},
    ),
    "delete": (set(), {"--all", "--purge"}),
    "status": (
        {"-o", "--output", "-f", "--format", "-l", "--layout", "-n", "--node", "-w", "--watch"},
        set(),
    ),
    "ip": ({"-n", "--node"}, set()),
    "addons": (
        {"--images", "--registries", "-o", "--output", "-f", "--format"},
        {"--force", "--refresh", "-d", "--docs"},
    ),
    "profile": ({"-o", "--output"}, {"-l", "--light"}),
    "tunnel": ({"--bind-address"}, {"-c", "--cleanup"}),
    "version": ({"-o", "--output"}, {"--short", "--components"}),
}


class UsageError(Exception):
    pass


@dataclass
class Args:
    command: str = ""
    positional: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    switches: dict[str, bool] = field(default_factory=dict)

    def value(self, *names: str) -> str | None:
        for name in names:
            if name in self.values:
                return self.values[name][-1]
        return None

    def all_values(self, *names: str) -> list[str]:
        return [v for name in names for v in self.values.get(name, [])]

    def switch(self, *names: str) -> bool:
        return any(self.switches.get(name, False) for name in names)


def parse(argv: Sequence[str]) -> Args:
    args = Args()
    items = list(argv)
    # The command is the first positional word; flags may come before it.
    i = 0
    pending: list[str] = []
    while i < len(items):
        item = items[i]
        if item == "--":
            pending.extend(items[i + 1 :])
            break
        if item.startswith("-") and len(item) > 1:
            name, eq, inline = item.partition("=")
            command_values, command_switches = COMMAND_FLAGS.get(args.command, (set(), set()))
            if name in GLOBAL_VALUE_FLAGS or name in command_values:
                if eq:
                    value = inline
                else:
                    i += 1
                    if i >= len(items):
                        raise UsageError(f"flag needs an argument: {name}")
                    value = items[i]
                args.values.setdefault(name, []).append(value)
            elif name in GLOBAL_SWITCHES or name in command_switches:
                args.switches[name] = inline.lower() not in ("false", "0") if eq else True
            elif not args.command and name.startswith("-p") and len(name) > 2:
                args.values.setdefault("-p", []).append(name[2:])
            else:
                raise UsageError(
                    f"unknown flag: {name}"
                    if name.startswith("--")
                    else f"unknown shorthand flag: {name[1:2]!r} in {item}"
                )
        elif not args.command:
            args.command = item
        else:
            pending.append(item)
        i += 1
    args.positional = pending
    return args


def profile_of(args: Args) -> str:
    return args.value("-p", "--profile") or os.environ.get("MINIKUBE_PROFILE") or "minikube"


def example(profile: str, action: str) -> str:
    return f"minikube {action}" if profile == "minikube" else f"minikube {action} -p {profile}"


def _os_name() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            info = dict(line.strip().split("=", 1) for line in f if "=" in line)
        name = info.get("NAME", "Linux").strip('"')
        version = info.get("VERSION_ID", "").strip('"')
        return f"{name} {version}".strip()
    except OSError:
        return platform.system()


def parse_k8s_version(text: str) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", text.strip())
    if not match:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


class Command:
    """One invocation: parsed flags, a printer, the sandbox's address."""

    def __init__(self, args: Args, printer: Printer, address: ControlAddress | None) -> None:
        self.args = args
        self.out = printer
        self.address = address
        self.profile = profile_of(args)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 600) -> dict[str, Any]:
        if self.address is None:
            raise SandboxUnreachable("no sandbox control address in the environment")
        return call(self.address, method, path, body, timeout=timeout)

    def info(self) -> dict[str, Any]:
        return self.call("GET", "/v1/info")

    def profiles(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.info()["profiles"]}

    def not_found(self) -> int:
        self.out.step(
            "shrug",
            f'Profile "{self.profile}" not found. Run "minikube profile list" to view all profiles.',
        )
        self.out.step("workaround", f'To start a cluster, run: "{example(self.profile, "start")}"')
        return EX_GUEST_NOT_FOUND

    def existing(self) -> dict[str, Any] | None:
        return self.profiles().get(self.profile)

    def must_run(self) -> dict[str, Any] | int:
        profile = self.existing()
        if profile is None:
            return self.not_found()
        if not profile["running"]:
            self.out.step("shrug", "The control plane node must be running for this command")
            self.out.step("workaround", f'To fix this, run: "{example(self.profile, "start")}"')
            return EX_GUEST_UNAVAILABLE
        return profile

    # ---- start -------------------------------------------------------------------

    def start(self) -> int:
        version_text = self.args.value("--kubernetes-version")
        runtime = self.args.value("--container-runtime", "-c")
        addons = [a.strip() for v in self.args.all_values("--addons") for a in v.split(",") if a.strip()]
        port_text = self.args.value("--apiserver-port")
        if port_text is not None and not port_text.isdigit():
            raise UsageError(
                f'invalid argument "{port_text}" for "--apiserver-port" flag: strconv.ParseInt: '
                f'parsing "{port_text}": invalid syntax'
            )
        if runtime is not None and runtime not in RUNTIMES and runtime not in RUNTIME_ALIASES:
            self.out.exiting(
                "MK_USAGE",
                f"Invalid Container Runtime: {runtime}. Valid runtimes are: containerd, cri-o, docker",
            )
            return EX_USAGE
        existing = self.existing()
        self.out.step("happy", f"[{self.profile}] minikube {VERSION} on {_os_name()} (k8s-tutor sandbox)")
        self.out.step(
            "sandbox",
            "This cluster is SIMULATED by k8s-tutor's sandbox: nothing is downloaded, and no VM or container runs.",
        )
        if version_text and version_text not in ("stable", "latest"):
            parsed = parse_k8s_version(version_text)
            if parsed is None:
                self.out.exiting(
                    "K8S_VERSION_INVALID",
                    f'Unable to parse "{version_text}": No Major.Minor.Patch elements found',
                )
                return EX_USAGE
            shown = version_text.lstrip("v")
            if parsed < OLDEST_K8S:
                oldest = "v{}.{}.{}".format(*OLDEST_K8S)
                self.out.warn(
                    "warning",
                    f"Specified Kubernetes version {shown} is less than the oldest supported "
                    f"version: {oldest}. "
                    "Use `minikube config defaults kubernetes-version` for details.",
                )
                if not self.args.switch("--force"):
                    self.out.warn(
                        "warning",
                        "You can force an unsupported Kubernetes version via the --force flag",
                    )
                    self.out.exiting(
                        "K8S_OLD_UNSUPPORTED",
                        f"Kubernetes {shown} is not supported by this release of minikube",
                    )
                    return EX_K8S_UNSUPPORTED
            version_text = "v" + shown
        elif version_text in ("stable", "latest"):
            version_text = None
        self.out.step(
            "sparkle",
            "Using the sandbox driver based on " + ("existing profile" if existing else "user configuration"),
        )
        self.out.step(
            "thumbs_up",
            f'Starting "{self.profile}" primary control-plane node in "{self.profile}" cluster',
        )
        if existing is None:
            self.out.step("starting_vm", "Creating sandbox container (CPUs=2, Memory=4000MB) ...")
        elif existing["running"]:
            self.out.step("running", f'Updating the running sandbox "{self.profile}" container ...')
        else:
            self.out.step("restarting", f'Restarting existing sandbox container for "{self.profile}" ...')
        try:
            result = self.call(
                "POST",
                "/v1/minikube/start",
                {
                    "profile": self.profile,
                    "kubernetes_version": version_text,
                    "container_runtime": runtime,
                    "apiserver_port": int(port_text) if port_text else None,
                    "addons": addons,
                },
            )
        except ControlError as error:
            return self._refused(error)
        profile = result["profile"]
        if result.get("version_ignored"):
            self.out.warn(
                "sandbox",
                f'sandbox: profile "{self.profile}" keeps Kubernetes '
                f"{profile['kubernetes_version']}; "
                f"delete it to start another version.",
            )
        rt = profile["container_runtime"]
        style = {"docker": "docker", "containerd": "containerd"}.get(rt, "crio")
        rt_name = {
            "docker": "Docker",
            "containerd": "containerd",
            "cri-o": "CRI-O",
            "crio": "CRI-O",
        }.get(rt, rt)
        self.out.step(
            style,
            f"Preparing Kubernetes {profile['kubernetes_version']} on {rt_name} {runtime_info(rt)[1]} ...",
        )
        if result["state"] == "created":
            for sub in (
                "Generating certificates and keys ...",
                "Booting up control plane ...",
                "Configuring RBAC rules ...",
            ):
                self.out.step("sub_step", sub)
        if rt != "docker":
            self.out.step("starting_ssh", "Configuring CNI (Container Networking Interface) ...")
        self.out.step("verifying", "Verifying Kubernetes components...")
        for addon in result["enabled"]:
            for image in result["images"].get(addon, []):
                self.out.step("option", f"Using image {image}")
        for addon in result["verify"]:
            if addon not in addons and result["state"] == "running":
                continue
            self.out.step("verifying", f"Verifying {addon} addon...")
            code = self._wait_addon(addon)
            if code:
                return code
        self.out.step("addon_enable", "Enabled addons: " + ", ".join(result["enabled"]))
        self.out.step(
            "ready",
            f'Done! kubectl is now configured to use "{self.profile}" cluster and "default" namespace by default',
        )
        return 0

    def _wait_addon(self, addon: str) -> int:
        answer = self.call(
            "POST",
            "/v1/minikube/addons/wait",
            {"profile": self.profile, "addon": addon, "timeout": ADDON_WAIT_SECONDS},
        )
        if answer["ready"]:
            return 0
        self.out.exiting(
            "MK_ADDON_ENABLE",
            f"enable failed: run callbacks: running callbacks: [waiting for {addon} pods: "
            f"{answer['waiting']}: context deadline exceeded]",
        )
        return EX_PROGRAM_ERROR

    def _refused(self, error: ControlError) -> int:
        if isinstance(error, SandboxUnreachable):
            raise error
        self.out.exiting(
            "MK_USAGE" if "sandbox" in str(error) else "GUEST_START",
            f"sandbox: {error}" if "sandbox" not in str(error) else str(error),
        )
        return EX_USAGE

    # ---- stop / delete -----------------------------------------------------------

    def stop(self) -> int:
        if self.existing() is None:
            return self.not_found()
        self.out.step("stopping", f'Stopping node "{self.profile}"  ...')
        self.call("POST", "/v1/minikube/stop", {"profile": self.profile})
        self.out.step("stopped", "1 node stopped.")
        return 0

    def delete(self) -> int:
        # As minikube v1.38's cmd/minikube/cmd/delete.go: arguments are a usage error (14);
        # a profile that does not exist is only a warning ("trying anyways"), followed by
        # the same last line and exit 0, so that `minikube delete` is safe to repeat.
        if self.args.positional:
            self.out.exiting("MK_USAGE", "Usage: minikube delete")
            return EX_USAGE
        names = list(self.profiles()) if self.args.switch("--all") else [self.profile]
        for name in names:
            answer = self.call("POST", "/v1/minikube/delete", {"profile": name})
            if not answer["existed"]:
                self.out.warn("meh", f'"{name}" profile does not exist, trying anyways.')
            else:
                self.out.step("deleting", f'Deleting "{name}" in sandbox ...')
            self.out.step("deleted", f'Removed all traces of the "{name}" cluster.')
        if self.args.switch("--all"):
            self.out.step("deleting", "Successfully deleted all profiles")
        if self.args.switch("--purge"):
            self.out.step("sandbox", "sandbox: there is no .minikube directory to purge; the sandbox keeps no files")
        return 0

    # ---- status / ip -------------------------------------------------------------

    def status(self) -> int:
        output = (self.args.value("-o", "--output") or "text").lower()
        if output not in ("text", "json"):
            self.out.exiting("MK_USAGE", f"invalid output format: {output}. Valid values: 'text', 'json'")
            return EX_USAGE
        profile = self.existing()
        if profile is None:
            return self.not_found()
        state = "Running" if profile["running"] else "Stopped"
        kubeconfig = "Configured" if profile["running"] else "Stopped"
        if output == "json":
            self.out.line(
                json.dumps(
                    {
                        "Name": self.profile,
                        "Host": state,
                        "Kubelet": state,
                        "APIServer": state,
                        "Kubeconfig": kubeconfig,
                        "Worker": False,
                    },
                    separators=(",", ":"),
                )
            )
        else:
            self.out.line(
                f"{self.profile}\ntype: Control Plane\nhost: {state}\nkubelet: {state}\n"
                f"apiserver: {state}\nkubeconfig: {kubeconfig}\n"
            )
        return 0 if profile["running"] else 7

    def ip(self) -> int:
        profile = self.must_run()
        if isinstance(profile, int):
            return profile
        self.out.line("127.0.0.1")
        return 0

    # ---- addons ------------------------------------------------------------------

    def addons(self) -> int:
        if not self.args.positional:
            raise UsageError("usage: minikube addons [enable|disable|list] ...")
        action, rest = self.args.positional[0], self.args.positional[1:]
        if action == "list":
            return self.addons_list()
        if action not in ("enable", "disable"):
            raise UsageError(f'unknown command "{action}" for "minikube addons"')
        if len(rest) != 1:
            self.out.exiting("MK_USAGE", f"usage: minikube addons {action} ADDON_NAME")
            return EX_USAGE
        addon = rest[0]
        profile = self.must_run()
        if isinstance(profile, int):
            return profile
        if action == "disable":
            try:
                self.call("POST", "/v1/minikube/addons/disable", {"profile": self.profile, "addon": addon})
            except ControlError as error:
                return self._addon_error(error)
            # minikube's own message has this one opening quote.
            self.out.step("addon_disable", f"\"The '{addon}' addon is disabled")
            return 0
        try:
            answer = self.call("POST", "/v1/minikube/addons/enable", {"profile": self.profile, "addon": addon})
        except ControlError as error:
            return self._addon_error(error)
        if answer["maintainer"] in ("Kubernetes", "minikube"):
            self.out.step(
                "tip",
                f"{addon} is an addon maintained by {answer['maintainer']}. For any concerns "
                "contact minikube on GitHub.\n"
                "You can view the list of minikube maintainers at: "
                "https://github.com/kubernetes/minikube/blob/master/OWNERS",
            )
        if answer["needs_volumesnapshots"]:
            self.out.warn(
                "plain",
                "[WARNING] For full functionality, the 'csi-hostpath-driver' addon requires the "
                "'volumesnapshots' addon to be enabled.\n\n"
                "You can enable 'volumesnapshots' addon by running: 'minikube addons enable "
                "volumesnapshots'\n",
            )
        for image in answer["images"]:
            self.out.step("option", f"Using image {image}")
        if answer["verify"]:
            self.out.step("verifying", f"Verifying {addon} addon...")
            code = self._wait_addon(addon)
            if code:
                return code
        self.out.step("addon_enable", f"The '{addon}' addon is enabled")
        return 0

    def _addon_error(self, error: ControlError) -> int:
        if isinstance(error, SandboxUnreachable):
            raise error
        text = str(error)
        action = "ENABLE" if "enable" in text or "simulated" in text else "DISABLE"
        self.out.exiting(f"MK_ADDON_{action}", text)
        return EX_PROGRAM_ERROR

    def addons_list(self) -> int:
        from tutor.sandbox.minikube.addons import ADDONS

        output = (self.args.value("-o", "--output") or "list").lower()
        profile = self.existing()
        if profile is None:
            if output == "json":
                self.out.line(json.dumps({name: {} for name in sorted(ADDONS)}))
                return 0
            return self.not_found()
        enabled = profile["addons"]
        if output == "json":
            self.out.line(
                json.dumps(
                    {
                        name: {
                            "Profile": self.profile,
                            "Status": "enabled" if enabled.get(name) else "disabled",
                        }
                        for name in sorted(ADDONS)
                    }
                )
            )
            return 0
        rows = [
            [
                name,
                self.profile,
                "enabled ✅" if enabled.get(name) else "disabled",
                ADDONS[name].maintainer,
            ]
            for name in sorted(ADDONS)
        ]
        self.out.line(table(["ADDON NAME", "PROFILE", "STATUS", "MAINTAINER"], rows))
        if not self.out.styled:
            pass
        self.out.step("tip", "To see addons list for other profiles use: `minikube addons -p name list`")
        return 0

    # ---- profile -----------------------------------------------------------------

    def profile_cmd(self) -> int:
        if not self.args.positional:
            self.out.line(self.profile)
            return 0
        if self.args.positional[0] != "list":
            self.out.exiting(
                "MK_USAGE",
                "sandbox: switching the active profile is not simulated; pass -p NAME to each command instead",
            )
            return EX_USAGE
        output = (self.args.value("-o", "--output") or "table").lower()
        info = self.info()
        context = current_context()
        valid = []
        for p in info["profiles"]:
            status = "OK" if p["running"] else "Stopped"
            valid.append((p, status))
        if output == "json":
            self.out.line(
                json.dumps(
                    {
                        "invalid": [],
                        "valid": [
                            {
                                "Name": p["name"],
                                "Status": status,
                                "Config": _cluster_config(p),
                                "Active": p["name"] == (os.environ.get("MINIKUBE_PROFILE") or "minikube"),
                                "ActiveKubeContext": p["name"] == context,
                            }
                            for p, status in valid
                        ],
                    }
                )
            )
            return 0
        if not valid:
            self.out.exiting("MK_USAGE_NO_PROFILE", "No minikube profile was found.")
            self.out.warn("tip", "Suggestion: \n\n    You can create one using 'minikube start'.\n    ")
            return EX_USAGE
        rows = [
            [
                p["name"],
                p["driver"],
                p["container_runtime"],
                "127.0.0.1",
                str(p["apiserver_port"]),
                p["kubernetes_version"],
                status,
                "1",
                "*" if p["name"] == (os.environ.get("MINIKUBE_PROFILE") or "minikube") else "",
                "*" if p["name"] == context else "",
            ]
            for p, status in valid
        ]
        self.out.line(
            table(
                [
                    "PROFILE",
                    "DRIVER",
                    "RUNTIME",
                    "IP",
                    "PORT",
                    "VERSION",
                    "STATUS",
                    "NODES",
                    "ACTIVE PROFILE",
                    "ACTIVE KUBECONTEXT",
                ],
                rows,
            )
        )
        return 0

    def version(self) -> int:
        output = (self.args.value("-o", "--output") or "").lower()
        if self.args.switch("--short"):
            self.out.line(VERSION)
        elif output == "json":
            self.out.line(json.dumps({"commit": MINIKUBE_COMMIT, "minikubeVersion": VERSION}))
        elif output == "yaml":
            self.out.line(f"commit: {MINIKUBE_COMMIT}\nminikubeVersion: {VERSION}")
        else:
            self.out.line(f"minikube version: {VERSION}\ncommit: {MINIKUBE_COMMIT} (simulated minikube)")
        return 0

    def tunnel(self) -> int:
        from tutor.sandbox import tunnel

        profile = self.must_run()
        if isinstance(profile, int):
            return profile
        bind = self.args.value("--bind-address")
        if bind not in (None, "", "*", "127.0.0.1", "localhost"):
            self.out.exiting(
                "MK_USAGE",
                f"sandbox: the tunnel binds 127.0.0.1 only; refusing --bind-address={bind}",
            )
            return EX_USAGE
        assert self.address is not None
        return tunnel.run(self.address, self.profile, self.out)


def _cluster_config(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": p["name"],
        "Driver": p["driver"],
        "Memory": 4000,
        "CPUs": 2,
        "APIServerPort": p["apiserver_port"],
        "KubernetesConfig": {
            "KubernetesVersion": p["kubernetes_version"],
            "ClusterName": p["name"],
            "ContainerRuntime": p["container_runtime"],
        },
        "Nodes": [
            {
                "Name": "",
                "IP": "127.0.0.1",
                "Port": p["apiserver_port"],
                "KubernetesVersion": p["kubernetes_version"],
                "ContainerRuntime": p["container_runtime"],
                "ControlPlane": True,
                "Worker": True,
            }
        ],
        "Addons": p["addons"],
    }


def current_context() -> str | None:
    """The kubeconfig's current-context, read the way kubectl merges $KUBECONFIG."""
    from tutor.sandbox.kubectx import load

    try:
        return load().current_context
    except Exception:
        return None


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A table in minikube's tablewriter style: pipes, dashes, centred headings."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    head = "|" + "|".join(f" {h.center(w)} " for h, w in zip(headers, widths, strict=True)) + "|"
    body = ["|" + "|".join(f" {c.ljust(w)} " for c, w in zip(r, widths, strict=True)) + "|" for r in rows]
    return "\n".join([rule, head, rule, *body, rule])


def main(argv: Sequence[str], printer: Printer | None = None) -> int:
    out = printer or Printer()
    try:
        args = parse(argv)
    except UsageError as error:
        out.err_line(f"Error: {error}")
        out.err_line("See 'minikube --help' for usage.")
        return EX_USAGE
    if args.switch("-h", "--help") or not args.command:
        out.line(HELP)
        return 0
    command = Command(args, out, ControlAddress.from_env())
    handlers: dict[str, Callable[[], int]] = {
        "start": command.start,
        "stop": command.stop,
        "delete": command.delete,
        "status": command.status,
        "ip": command.ip,
        "addons": command.addons,
        "profile": command.profile_cmd,
        "tunnel": command.tunnel,
        "version": command.version,
    }
    handler = handlers.get(args.command)
    if handler is None:
        out.err_line(f'Error: unknown command "{args.command}" for "minikube"')
        out.err_line("")
        out.err_line(
            "k8s-tutor's sandbox simulates: " + ", ".join(sorted(handlers)) + ". Run 'minikube --help' for usage."
        )
        return EX_USAGE
    if args.command == "version":
        return handler()
    try:
        return handler()
    except UsageError as error:
        out.err_line(f"Error: {error}")
        out.err_line(f"See 'minikube {args.command} --help' for usage.")
        return EX_USAGE
    except SandboxUnreachable:
        out.exiting(
            "SANDBOX_NOT_RUNNING",
            "this `minikube` is k8s-tutor's sandbox stand-in, and its sandbox is not running. "
            "Start it with `k8s-tutor sandbox` (or the tutor with --sandbox) and use the PATH it "
            "prints.",
        )
        return EX_SANDBOX_DOWN
    except ControlError as error:
        out.exiting("SANDBOX", str(error))
        return EX_PROGRAM_ERROR
    except KeyboardInterrupt:
        return 130


HELP = """minikube provisions and manages local Kubernetes clusters optimized for development
workflows.

This is k8s-tutor's sandbox stand-in for minikube: the cluster is SIMULATED.
Simulated commands:
  start        Starts a local Kubernetes cluster
  status       Gets the status of a local Kubernetes cluster
  stop         Stops a running local Kubernetes cluster
  delete       Deletes a local Kubernetes cluster
  ip           Retrieves the IP address of the specified node
  addons       Enable, disable or list addons (simulated: csi-hostpath-driver, default-storageclass,
               ingress, storage-provisioner, volumesnapshots)
  profile      Show the current profile, or `profile list`
  tunnel       Connect to LoadBalancer services and Ingresses (on 127.0.0.1)
  version      Print the version of minikube

Use "minikube -p PROFILE <command>" to act on a profile other than "minikube"."""
