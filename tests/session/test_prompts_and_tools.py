"""Commands that need the learner: a password prompt is surfaced, a missing tool is named."""

from __future__ import annotations

import os
from pathlib import Path

from tests.lesson.helpers import write_lesson
from tests.session.fakes import FakeCluster
from tutor.lesson.parser import load
from tutor.run import ShExecutor
from tutor.session.events import CommandFinished, Event, InputNeeded, Notice, ProcessChanged
from tutor.session.process_runner import ProcessRunner
from tutor.session.session import LessonSession

LESSON = """\
---
id: prompts
title: Prompts
requires: [fake-tunnel, no-such-tool-xyz]
---

::: step {#tunnel title="Tunnel"}
```sh {background id=tunnel ready="Tunnel successfully started"}
fake-tunnel
```

```sh
no-such-tool-xyz --version
```

> [!TIP]
> It asks for a password.

```yaml {checks}
- kind: process_alive
  process: tunnel
```
:::
"""

# As `minikube tunnel` does for ports 80/443 on macOS or WSL: it runs sudo, which asks
# for a password at a terminal, and without one says so and fails.
FAKE_TUNNEL = """#!/bin/sh
echo "The service/ingress pacman-ingress requires privileged ports to be exposed: [80 443]"
echo "sudo permission will be asked for it."
if [ -t 0 ]; then printf '[sudo] password for learner: '; read answer; echo 'Tunnel successfully started'; sleep 60; fi
echo "sudo: a terminal is required to read the password; either use the -S option to read from standard input" >&2
exit 1
"""


def test_a_password_prompt_reaches_the_learner_and_nothing_hangs(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "fake-tunnel"
    tool.write_text(FAKE_TUNNEL)
    tool.chmod(0o755)
    lesson = load(write_lesson(tmp_path, LESSON))
    executor = ShExecutor(env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    runner = ProcessRunner(executor)  # no view lends the terminal here (CI, a pipe)
    session = LessonSession(lesson, variables=lesson.defaults())
    session.attach(FakeCluster(), runner, cluster="c")
    events: list[Event] = []
    session.subscribe(events.append)
    try:
        session.open()
        notices = [e.text for e in events if isinstance(e, Notice)]
        assert any("no-such-tool-xyz is not installed" in text for text in notices), notices
        outcomes = session.run_step("tunnel")
    finally:
        session.close()
    asked = [e for e in events if isinstance(e, InputNeeded)]
    assert asked and "a terminal is required to read the password" in asked[0].prompt
    assert not asked[0].lent
    assert not outcomes[0].ok
    states = [e.state for e in events if isinstance(e, ProcessChanged)]
    assert "ready" not in states and states[-1] in ("failed", "needs-terminal", "stopped")
    missing = [e for e in events if isinstance(e, CommandFinished) and e.text.startswith("no-such-tool-xyz")]
    assert missing and not missing[0].ok and "no-such-tool-xyz: command not found" in missing[0].detail
