"""`k8s-tutor doctor [LESSON]`: will this machine and cluster run the lesson?

Each finding is one line: `ok`, `warn` (it will work, with a caveat worth knowing) or
`fail` (it will not, and what to do). Exit status 1 when anything fails.

It looks at the cluster a lesson session would use, through the same guard
(`session.guarded`), with the same variables (`Setup.variables`), and runs its commands
(`kubectl version`, `minikube profile list`, ...) through the same command policy
(`targeting`): on that cluster only, minikube on the lesson's profile. A context that is
not on this machine is asked about on a terminal (type its name) and is a failure
otherwise.
"""

from __future__ import annotations

import json
import os
import platform
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import BadKubeconfig, KubeconfigProblem, Source, load
from tutor.commands.exit_codes import FAIL, OK, UsageError
from tutor.commands.lessons import find_lesson
from tutor.commands.options import ClusterChoice
from tutor.lesson import variables as typed
from tutor.lesson.model import Lesson
from tutor.progress import default_root
from tutor.run import ShExecutor, install_advice, which
from tutor.safe_text import strip_controls
from tutor.session.asking import confirm_cluster, on_terminal
from tutor.session.guarded import open_guarded, refusal
from tutor.session.setup import Setup, target_context
from tutor.session.targeting import ClusterCommands

Level = Literal["ok", "warn", "fail"]
TIMEOUT = 15.0


@dataclass(frozen=True)
class DoctorOptions:
    lesson: str | None = None
    cluster: ClusterChoice = field(default_factory=ClusterChoice)
    lessons: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    message: str


def platform_name() -> str:
    """linux, wsl, darwin or windows: where the learner's terminal runs."""
    system = platform.system().lower()
    if system == "linux" and (os.environ.get("WSL_DISTRO_NAME") or _proc_mentions_microsoft()):
        return "wsl"
    return system


def _proc_mentions_microsoft() -> bool:
    try:
        return "microsoft" in Path("/proc/version").read_text().lower()
    except OSError:
        return False


class Doctor:
    def __init__(self, lesson: Lesson | None, choice: ClusterChoice, executor: ShExecutor | None = None) -> None:
        self.lesson = lesson
        self.choice = choice
        self.connection: ClusterConnection | None = None
        self.findings: list[Finding] = []
        confirm = confirm_cluster if on_terminal() else None
        if lesson is not None:
            self.setup = choice.setup(lesson, confirm=confirm)
            self.variables = self.setup.variables(lesson)
        else:
            if choice.sets:
                raise UsageError("--set gives a lesson's variable a value: name the lesson (k8s-tutor doctor LESSON)")
            wrong = typed.problem("name", choice.profile) if choice.profile else None
            if wrong:
                raise UsageError(f"--profile: {choice.profile!r} is not a name: {wrong}")
            self.setup = Setup(kubeconfig=choice.kubeconfig, context=choice.context, confirm=confirm)
            self.variables = {"profile": choice.profile or "minikube"}
        self.executor = executor or ShExecutor()

    def add(self, level: Level, topic: str, message: str) -> None:
        self.findings.append(Finding(level, topic, message))

    def run(self) -> list[Finding]:
        self.add("ok", "python", f"Python {platform.python_version()} on {platform_name()}")
        sandbox = self.choice.sandbox
        requires = list(self.lesson.requires) if self.lesson else ["minikube", "kubectl"]
        if sandbox:
            requires = [tool for tool in requires if tool != "minikube"]
            self.add("ok", "sandbox", "--sandbox: the simulated cluster needs no minikube and no container engine")
        else:
            self.connect()
        self.tools(requires)
        self.state_folder()
        if sandbox:
            return self.findings
        self.ports()
        self.kubeconfig()
        if "minikube" in requires and which("minikube", self.executor.environment()):
            self.minikube()
        return self.findings

    # --- what is checked ----------------------------------------------------------------

    def tools(self, programs: Sequence[str]) -> None:
        for program in programs:
            path = which(program, self.executor.environment())
            if path is None:
                advice = install_advice(program)
                if program == "minikube":
                    lesson = self.lesson.id if self.lesson else "LESSON"
                    advice += f"; or take the lesson on a simulated cluster: k8s-tutor {lesson} --sandbox"
                self.add("fail", program, f"{program} is not installed: {advice}")
                continue
            version = self.version(program) or "(version unknown)"
            if version.lower().startswith(program + " "):
                version = version[len(program) + 1 :]
            self.add("ok", program, f"{program} {version} at {path}")

    def version(self, program: str) -> str | None:
        argv = {
            "kubectl": ["kubectl", "version", "--client", "-o", "json"],
            "minikube": ["minikube", "version", "--short"],
        }.get(program, [program, "--version"])
        code, output = self.capture(argv)
        if code != 0 or not output.strip():
            return None
        if program == "kubectl":
            try:
                return str(json.loads(output)["clientVersion"]["gitVersion"])
            except (ValueError, KeyError, TypeError):
                return None
        return output.strip().splitlines()[0].split(" (")[0][:60]

    def state_folder(self) -> None:
        folder = default_root()
        probe = folder if folder.exists() else next((p for p in folder.parents if p.exists()), Path("/"))
        if os.access(probe, os.W_OK):
            self.add("ok", "progress", f"progress is saved in {folder}")
        else:
            self.add("fail", "progress", f"cannot write {folder}: set K8S_TUTOR_STATE_DIR to a writable folder")

    def ports(self) -> None:
        port = self.variables.get("local_port")
        if port and port.isdigit():
            if _can_bind(int(port)):
                self.add("ok", "port", f"port {port} is free for the port-forward")
            else:
                self.add("warn", "port", f"port {port} is in use: start with --set local_port=ANOTHER")
        ingress = self.variables.get("ingress_port")
        if ingress and ingress.isdigit() and int(ingress) < 1024 and not _can_bind(int(ingress)):
            self.add(
                "warn",
                "tunnel",
                f"port {ingress} is privileged here: `minikube tunnel` will ask for your password (sudo)",
            )

    def connect(self) -> None:
        """The lesson's cluster, as a session would reach it; the commands go there from now on."""
        named = self.setup.context
        target = target_context(self.lesson, named, self.variables["profile"]) if self.lesson else named
        self.connection = open_guarded(self.setup, target)
        info = self.connection.info
        if self.lesson is not None and info is not None:
            self.variables = self.setup.variables(self.lesson, info.variables)
        self.executor.close()
        self.executor = ShExecutor(policy=ClusterCommands(self.connection, profile=self.variables["profile"]))

    def kubeconfig(self) -> None:
        try:
            current = load(Source.resolve(self.setup.kubeconfig, None)).info
            self.add("ok", "context", f"kubectl's current context is {current.name} ({current.describe()})")
        except BadKubeconfig as err:
            current = None
            self.add("fail", "context", str(err))
        except KubeconfigProblem as err:
            current = None
            self.add("warn", "context", f"no usable current context yet: {err}")
        connection = self.connection
        if connection is None:
            return
        target = connection.source.context
        if target is not None and current is not None and current.name != target:
            self.add(
                "warn",
                "context",
                f"the lesson uses context {target}, but kubectl points at {current.name}: "
                "commands you type go there (kubectl config use-context " + target + ")",
            )
        status = connection.status
        info = connection.info
        if status.state == "no_cluster" or info is None:
            self.add("warn", "cluster", status.message or f"there is no context {target or ''} yet")
            return
        refused = refusal(connection)
        if refused is not None:
            self.add("fail", "cluster", refused)
            return
        if info.sandbox_bin_problem:
            self.add("warn", "sandbox", f"{info.sandbox_bin_problem}: the lesson's minikube commands will be refused")
        address = connection.node_ip(self.variables["profile"])
        if address is None:
            self.add("warn", "cluster", f"{info.describe()} does not answer at {info.server}: is it running?")
        else:
            self.add("ok", "cluster", f"{info.describe()} answers; its node is at {address}")
            self.skew()

    def skew(self) -> None:
        _, output = self.capture(["kubectl", "version", "-o", "json"])
        try:
            data = json.loads(output)
            client = int(data["clientVersion"]["minor"].rstrip("+"))
            server = int(data["serverVersion"]["minor"].rstrip("+"))
        except (ValueError, KeyError, TypeError):
            return
        if abs(client - server) > 1:
            self.add(
                "warn", "kubectl", f"kubectl 1.{client} and the cluster's 1.{server} are more than one minor apart"
            )

    def minikube(self) -> None:
        profile = self.variables["profile"]
        _, output = self.capture(["minikube", "profile", "list", "-o", "json"])
        try:
            valid = json.loads(output).get("valid") or []
        except (ValueError, AttributeError):
            valid = []
        entry = next((item for item in valid if item.get("Name") == profile), None)
        if entry is None:
            self.add("ok", "minikube", f"no profile {profile} yet: the lesson's first step creates it")
            return
        config = entry.get("Config") or {}
        driver = str(config.get("Driver") or "unknown")
        version = str((config.get("KubernetesConfig") or {}).get("KubernetesVersion") or "unknown")
        self.add(
            "ok", "minikube", f"profile {profile}: {entry.get('Status', '?')}, driver {driver}, Kubernetes {version}"
        )
        where = platform_name()
        if driver in ("docker", "podman") and where in ("darwin", "windows", "wsl"):
            self.add(
                "warn",
                "ingress",
                f"with the {driver} driver on {where} the node's address is not reachable from here: "
                "the Ingress step needs `minikube tunnel` (it uses 127.0.0.1)",
            )
        _, output = self.capture(["minikube", "-p", profile, "addons", "list", "-o", "json"])
        try:
            addons = json.loads(output)
        except ValueError:
            return
        wanted = sorted(
            {
                str(spec.fields.get("addon"))
                for step in (self.lesson.steps if self.lesson else ())
                for spec in step.checks
                if spec.kind == "addon_enabled"
            }
        )
        for addon in wanted:
            status = (addons.get(addon) or {}).get("Status", "unknown")
            self.add("ok", "addon", f"{addon}: {status}" + ("" if status == "enabled" else " (the lesson enables it)"))

    def capture(self, argv: list[str]) -> tuple[int | None, str]:
        lines: list[str] = []
        try:
            result = self.executor.run(argv, lambda line: lines.append(line.text), timeout=TIMEOUT)
        except Exception as err:  # a broken tool must not break the doctor
            return None, str(err)
        return result.exit_code, "\n".join(lines)


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run(options: DoctorOptions, out: Callable[[str], None] | None = None) -> int:
    lesson = find_lesson(options.lessons, options.lesson) if options.lesson else None
    # Tool versions and cluster names come from elsewhere: text only on the terminal.
    say = out or (lambda text: print(strip_controls(text), flush=True))
    checker = Doctor(lesson, options.cluster)
    try:
        findings = checker.run()
    finally:
        checker.executor.close()
        if checker.connection is not None:
            checker.connection.close()
    for finding in findings:
        say(f"[{finding.level:>4}] {finding.topic}: {finding.message}")
    failed = sum(1 for f in findings if f.level == "fail")
    warned = sum(1 for f in findings if f.level == "warn")
    say(f"{len(findings)} checks: {failed} failed, {warned} warnings")
    return FAIL if failed else OK
