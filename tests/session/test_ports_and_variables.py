"""A background command's port, with a fake cluster and runner: taken, already served, moved."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.lesson.helpers import write_lesson
from tests.session.fakes import FakeCluster, FakeRunner
from tutor.cluster.kubeconfig import ContextInfo
from tutor.lesson.parser import load
from tutor.plain.view import PlainView
from tutor.run.ports import PortHolder, PortUse
from tutor.session.commands import BadVariable
from tutor.session.events import (
    AlreadyServed,
    Event,
    OutputLine,
    PortTaken,
    ProcessChanged,
    ShellSetup,
    VariableChanged,
)
from tutor.session.factory import Setup, shell_setup
from tutor.session.session import LessonSession

LESSON = """\
---
id: ports
title: Ports
variables:
  local_port: 9090
  ingress_port: 80
  player: someone
---

::: step {#forward title="Forward" timeout=2}
Open http://localhost:{local_port} once it runs.

```sh {background id=fwd ready="ready" port="{local_port}"}
forward {local_port}:80 do:forward
```

> [!TIP]
> Another port: --set local_port=9191.

```yaml {checks}
- kind: http
  url: http://127.0.0.1:{local_port}/location/metadata
```
:::

::: step {#tunnel title="Tunnel" timeout=2}
```sh {background id=tun port="{ingress_port}"}
tunnel do:tunnel
```

> [!TIP]
> The tunnel chooses its own port.

```yaml {checks}
- kind: http
  urls:
    - http://127.0.0.1:{ingress_port}/
    - http://192.168.49.2/
```
:::
"""

HOLDER = PortUse(9090, (PortHolder(4242, "python3", "python3 -m http.server 9090"),))


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.lesson = load(write_lesson(tmp_path, LESSON))
        self.cluster = FakeCluster()
        self.runner = FakeRunner(self.cluster)
        self.session = LessonSession(self.lesson, variables=self.lesson.defaults())
        self.session.attach(self.cluster, self.runner, cluster="c")
        self.events: list[Event] = []
        self.session.subscribe(self.events.append)
        self.session.open()

    def of(self, kind: type[Event]) -> list[Event]:
        return [event for event in self.events if isinstance(event, kind)]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


class TestBeforeItStarts:
    def test_a_taken_port_is_said_with_its_holder_and_nothing_starts(self, world: World) -> None:
        world.runner.taken[9090] = HOLDER
        (outcome,) = world.session.run_step("forward")
        assert not outcome.ok and outcome.detail == HOLDER.describe()
        assert world.runner.ran == []
        (taken,) = world.of(PortTaken)
        assert isinstance(taken, PortTaken)
        assert (taken.process, taken.port, taken.variable, taken.suggestion) == ("fwd", 9090, "local_port", 9091)
        assert "python3 (pid 4242)" in taken.use.describe()

    def test_the_learners_own_forward_is_not_started_again(self, world: World) -> None:
        # Something holds the port, and the step's checks on that port pass: the app answers there.
        world.runner.taken[9090] = HOLDER
        world.cluster.satisfy("forward")
        (outcome,) = world.session.run_step("forward")
        assert outcome.ok and world.runner.ran == []
        assert [(e.process, e.port) for e in world.of(AlreadyServed)] == [("fwd", 9090)]  # type: ignore[attr-defined]
        assert world.of(PortTaken) == []

    def test_a_port_the_command_cannot_move_offers_no_other(self, world: World) -> None:
        world.runner.taken[80] = PortUse(80)
        world.cluster.satisfy("forward")
        world.session.show("tunnel")
        world.session.run_step("tunnel")
        (taken,) = world.of(PortTaken)
        assert (taken.variable, taken.suggestion) == (None, None)  # type: ignore[attr-defined]

    def test_another_address_of_the_check_does_not_make_the_port_served(self, world: World) -> None:
        # The tunnel's check also accepts the node's address; only 127.0.0.1:80 is asked.
        world.runner.taken[80] = PortUse(80)
        world.cluster.satisfy("forward")
        narrowed = world.lesson.step("tunnel").checks[0].on_local_port(world.session.variables, 80)
        assert narrowed is not None and narrowed.fields["urls"] == ["http://127.0.0.1:80/"]
        assert world.lesson.step("tunnel").checks[0].on_local_port(world.session.variables, 9090) is None

    def test_a_free_port_starts_the_command(self, world: World) -> None:
        (outcome,) = world.session.run_step("forward")
        assert outcome.ok and world.runner.ran == [["forward", "9090:80", "do:forward"]]


class TestAnotherPort:
    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("local_port", "lots", "'lots' is not a port: a port is a whole number from 1 to 65535"),
            ("local_port", "0", "'0' is not a port"),
            ("local_port", "70000", "'70000' is not a port"),
            ("local_port", "-1", "'-1' is not a port"),
            ("local_port", "²", "'²' is not a port"),
            ("local_port", "80", "ports below 1024 are privileged"),
            ("player", "x", "player cannot be changed during the lesson; what can: local_port"),
            ("ingress_port", "8080", "ingress_port cannot be changed during the lesson"),
            ("local_port", "9191", "port 9191 on 127.0.0.1 is taken by python3 (pid 4242)"),
        ],
    )
    def test_what_is_refused(self, world: World, name: str, value: str, message: str) -> None:
        world.runner.taken[9191] = PortUse(9191, HOLDER.holders)
        with pytest.raises(BadVariable) as refused:
            world.session.set_variable(name, value)
        assert message in str(refused.value)
        assert world.session.variables[name] == world.lesson.defaults()[name]
        assert world.of(VariableChanged) == []

    def test_the_rest_of_the_lesson_uses_the_new_port(self, world: World) -> None:
        world.runner.taken[9090] = HOLDER
        world.session.run_step("forward")
        activations = len(world.cluster.variables)
        changed = world.session.set_variable("local_port", "9191")
        assert changed == VariableChanged("local_port", "9191") and world.of(VariableChanged) == [changed]
        command = world.lesson.step("forward").commands[0]
        assert command.display(world.session.variables) == "forward 9191:80 do:forward"
        # The checks are watched anew, with the new port in their URLs.
        assert world.cluster.variables[activations:] == [world.session.variables]
        assert world.session.variables["local_port"] == "9191"
        (outcome,) = world.session.run_step("forward")
        assert outcome.ok and world.runner.ran == [["forward", "9191:80", "do:forward"]]

    def test_a_forward_on_the_old_port_is_stopped(self, world: World) -> None:
        world.session.run_step("forward")
        assert world.runner.process_state("fwd") == "ready"
        changed = world.session.set_variable("local_port", "9191")
        assert changed.stopped == ("fwd",)
        assert world.runner.process_state("fwd") == "stopped"
        assert any(isinstance(e, ProcessChanged) and e.state == "stopped" for e in world.events)


class TestRepeatedLines:
    def test_a_line_that_keeps_coming_is_counted(self, world: World) -> None:
        handling = "Handling connection for 9090"
        world.runner.chatter = ["Forwarding from 127.0.0.1:9090 -> 8080", handling, handling, handling, "E lost"]
        world.session.run_step("forward")
        output = [e for e in world.events if isinstance(e, OutputLine)]
        run = output[0].run  # type: ignore[attr-defined]
        assert output == [
            OutputLine(run, "Forwarding from 127.0.0.1:9090 -> 8080"),
            OutputLine(run, handling),
            OutputLine(run, handling, 2),
            OutputLine(run, handling, 3),
            OutputLine(run, "E lost"),
        ]

    def test_plain_mode_says_the_count_once_the_line_stops_coming(self, world: World) -> None:
        out = io.StringIO()
        PlainView(world.session, out, interactive=True)
        handling = "Handling connection for 9090"
        world.runner.chatter = ["Forwarding from 127.0.0.1:9090 -> 8080", *[handling] * 37]
        world.session.run_step("forward")
        world.session.close()
        lines = out.getvalue().splitlines()
        assert lines.count(f"  | fwd: {handling}") == 1
        count = lines.index(f"  | fwd: (“{handling}” came 37 times in a row)")
        assert lines[count + 1] == "[background] fwd stopped"


class TestPlainMode:
    def test_a_taken_port_and_another_one_typed(self, world: World) -> None:
        out = io.StringIO()
        view = PlainView(world.session, out, interactive=True)
        world.runner.taken[9090] = HOLDER
        world.session.run_step("forward")
        text = out.getvalue()
        assert f"[background] fwd not started: {HOLDER.describe()}." in text
        assert "To use another port for the rest of the lesson, type: set local_port=9091" in text
        view._handle("set local_port=lots")
        assert "Cannot set local_port: 'lots' is not a port" in out.getvalue()
        view._handle("set local_port 9091")
        text = out.getvalue()
        assert "local_port is now 9091, for the rest of the lesson." in text
        # The step is shown again with what to type now.
        assert text.rindex("    $ forward 9091:80 do:forward") > text.index("local_port is now 9091")
        assert "Open http://localhost:9091 once it runs." in text

    def test_the_learners_own_forward(self, world: World) -> None:
        out = io.StringIO()
        PlainView(world.session, out, interactive=False)
        world.runner.taken[9090] = HOLDER
        world.cluster.satisfy("forward")
        world.session.run_step("forward")
        assert "[background] fwd not started: the lesson's app already answers on port 9090" in out.getvalue()


class TestYourOwnTerminal:
    def info(self, *, sandbox: bool = False) -> ContextInfo:
        return ContextInfo("mc-demo", "mc-demo", "mc-demo", "https://192.168.49.2:8443", sandbox=sandbox)

    def test_the_sandbox_is_reached_through_its_script(self, tmp_path: Path) -> None:
        script = tmp_path / "with space" / "env.sh"
        shell = shell_setup(Setup(sandbox=True, shell_env=script), None, "mc-demo")
        assert shell is not None and shell.line == f"source '{script}'"

    def test_a_real_cluster_names_the_context_the_lesson_uses(self, tmp_path: Path) -> None:
        shell = shell_setup(Setup(), self.info(), "mc-demo")
        assert shell is not None and shell.line == "kubectl config use-context mc-demo"
        assert "mc-demo" in shell.about
        config = tmp_path / "local.yaml"
        shell = shell_setup(Setup(kubeconfig=config), self.info(), "mc-demo")
        assert shell is not None and shell.line == f"export KUBECONFIG={config}; kubectl config use-context mc-demo"

    def test_a_sandbox_without_its_script_offers_no_line(self) -> None:
        # A context alone would leave minikube (a stand-in on the sandbox's PATH) out.
        assert shell_setup(Setup(), self.info(sandbox=True), "mc-demo") is None

    def test_plain_mode_prints_the_line_at_start(self, tmp_path: Path) -> None:
        lesson = load(write_lesson(tmp_path, LESSON))
        cluster = FakeCluster()
        shell = ShellSetup("source /tmp/x/env.sh", "points kubectl at the sandbox")
        session = LessonSession(lesson, variables=lesson.defaults())
        session.attach(cluster, FakeRunner(cluster), cluster="c", shell=shell)
        out = io.StringIO()
        PlainView(session, out, interactive=False)
        session.open()
        assert "Your own terminal: source /tmp/x/env.sh\n  (points kubectl at the sandbox;" in out.getvalue()
