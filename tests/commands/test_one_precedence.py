"""One precedence for a lesson's variables, whatever the command: the lesson's defaults, then
--profile, then what a simulated cluster's kubeconfig says, then --set.

`check`, `reset --cluster`, `doctor` and the lesson itself are given the same flags and
the same kubeconfig, and each shows what it resolved the way a learner sees it: the
context it acts on (the profile's) and the values in the commands and checks it prints.
The kubeconfig has a context for each profile the flags name, so a command that let
--profile win over --set profile would land on the other one, visibly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, free_port
from tests.lesson.helpers import write_lesson
from tutor.cli import main
from tutor.lesson.parser import load
from tutor.session.setup import Setup

LESSON = """\
---
id: agree
title: One precedence
requires: [kubectl, minikube]
profile: lesson-profile
variables:
  local_port: {default: 8080, type: port}
  greeting: {default: hello, type: name}
---

::: step {#only title="The only step"}
```sh
echo {profile} {local_port} {greeting}
```

> [!TIP]
> Nothing to see.

```yaml {checks}
- kind: exists
  object: namespace/{greeting}-{local_port}
```

```sh {cleanup}
echo cleaning {profile} {local_port} {greeting}
```
:::
"""


@dataclass
class World:
    lessons: Path
    kubeconfig: Path
    port: str

    def flags(self) -> list[str]:
        return [
            "--lessons",
            str(self.lessons),
            "--kubeconfig",
            str(self.kubeconfig),
            "--profile",
            "from-flag",
            "--set",
            "profile=from-set",
            "--set",
            f"local_port={self.port}",
        ]


def sandbox_context(name: str, server: str, variables: dict[str, str]) -> tuple[dict[str, object], ...]:
    """A context as `k8s-tutor sandbox` writes it: the sandbox's extension names its variables."""
    extension = [{"name": "k8s-tutor-sandbox", "extension": {"profile": name, "variables": variables}}]
    return (
        {"name": name, "cluster": {"server": server, "extensions": extension}},
        {"name": name, "context": {"cluster": name, "user": "u"}},
    )


@pytest.fixture
def world(tmp_path: Path) -> World:
    lessons = write_lesson(tmp_path, LESSON).parent
    server = f"http://127.0.0.1:{free_port()}"  # nothing listens: every command still shows its choices
    flag = sandbox_context("from-flag", server, {"greeting": "flagcluster", "local_port": "7001"})
    chosen = sandbox_context("from-set", server, {"greeting": "setcluster", "local_port": "7002"})
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "current-context": "from-flag",
                "clusters": [flag[0], chosen[0]],
                "contexts": [flag[1], chosen[1]],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    return World(lessons, kubeconfig, str(free_port()))


def test_check_reset_doctor_and_the_lesson_resolve_the_same_variables(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # --set profile wins over --profile; the chosen sandbox's greeting over the lesson's
    # default; --set local_port over the sandbox's port.
    expected = f"from-set {world.port} setcluster"

    assert main(["check", "agree", *world.flags(), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["context"]["name"] == "from-set"
    assert report["steps"][0]["checks"][0]["title"] == f"namespace/setcluster-{world.port} exists"

    assert main(["reset", "agree", "--cluster", "--yes", "--trust", *world.flags()]) == 0
    out = capsys.readouterr().out
    assert "Resetting agree on context from-set" in out
    assert f"$ echo cleaning {expected}" in out and f"| cleaning {expected}" in out

    main(["doctor", "agree", *world.flags()])
    out = capsys.readouterr().out
    assert "the lesson uses context from-set, but kubectl points at from-flag" in out
    assert f"port {world.port} is free for the port-forward" in out

    assert f"[run] $ echo {expected}" in lesson_output(world, tmp_path)


def lesson_output(world: World, tmp_path: Path) -> str:
    """`k8s-tutor agree --plain --autoplay` up to the step's command, then stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tutor", "agree", "--plain", "--autoplay", "--trust", *world.flags()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "KUBECACHEDIR": str(tmp_path / "cache")},
    )
    seen: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if line.startswith("[run] $ echo"):
                break
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert "Traceback" not in err, err
    return "".join(seen)


class TestSetupVariables:
    """`Setup.variables`, the one resolution the commands and the views call."""

    def lesson(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        return load(write_lesson(tmp_path, LESSON))

    def test_each_source_in_its_place(self, tmp_path: Path) -> None:
        lesson = self.lesson(tmp_path)
        assert Setup().variables(lesson)["profile"] == "lesson-profile"
        assert Setup(profile="flag").variables(lesson)["profile"] == "flag"
        assert Setup(profile="flag", overrides={"profile": "set"}).variables(lesson)["profile"] == "set"
        cluster = {"greeting": "sandbox", "local_port": "7002"}
        both = Setup(overrides={"local_port": "9191"}).variables(lesson, cluster)
        assert (both["greeting"], both["local_port"]) == ("sandbox", "9191")
        # A sandbox this run started speaks over a kubeconfig's.
        started = Setup(cluster_variables={"greeting": "mine"}).variables(lesson, cluster)
        assert (started["greeting"], started["local_port"]) == ("mine", "7002")

    def test_a_kubeconfig_cannot_reach_past_the_lessons_own_variables(self, tmp_path: Path) -> None:
        lesson = self.lesson(tmp_path)
        defaults = lesson.defaults()
        hostile = {
            "profile": "elsewhere",
            "namespace": "kube-system",
            "manifests": "/tmp/other-manifests",
            "local_port": "80; rm -rf ~",
            "greeting": "Not A Name",
            "unknown": "x",
        }
        assert Setup().variables(lesson, hostile) == defaults
