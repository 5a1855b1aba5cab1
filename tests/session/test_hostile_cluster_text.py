"""Text the cluster supplies (event messages, object names, diagnosis evidence, errors) reaches
every view without control sequences: the session emits nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from tests.cluster import factory as f
from tests.lesson.helpers import write_lesson
from tests.session.fakes import FakeCluster, FakeRunner
from tutor.cluster.diagnosis import Case, diagnose
from tutor.cluster.results import CheckResult, Finding, Subject, waiting
from tutor.cluster.status import ConnectionStatus
from tutor.cluster.view import StaticView
from tutor.lesson.model import Step
from tutor.lesson.parser import load
from tutor.safe_text import has_controls
from tutor.session.backends import LineCallback, RunOutcome
from tutor.session.events import CheckId, Event, OutputLine, StepCheck
from tutor.session.session import LessonSession

LESSON = """\
---
id: one
title: One step
---

::: step {#one title="One"}
```sh
tool do:one
```

> [!TIP]
> Hint.

```yaml {checks}
- kind: exists
  object: deployment/one
```
:::
"""
EVIL = "\x1b]52;c;aGFja2Vk\x07\x1b]0;PWNED\x07\x1b[2J\x9b5A\u202e"


class HostileCluster(FakeCluster):
    """Reports what a hostile cluster would: a diagnosis quoting an event message, and worse."""

    def results(self, step: Step) -> tuple[StepCheck, ...]:
        items = [
            f.pod("mongo-0", phase="Pending"),
            f.event("mongo-0", "FailedScheduling", f"0/1 nodes are available{EVIL}", type_="Warning"),
        ]
        findings = tuple(diagnose(Case(StaticView(items), (Subject("pod", "mongo-0", "pacman"),))))
        assert any(EVIL in text for finding in findings for text in strings(finding))  # raw from the cluster
        diagnosed = StepCheck(CheckId(step.id, 0), f"title{EVIL}", waiting("waiting").with_findings(findings))
        made_up = Finding("made_up", f"event{EVIL} says", (f"pod/mongo{EVIL}-0",), f"kubectl get{EVIL} pods")
        failing = CheckResult("fail", f"reason{EVIL}", findings=(made_up,))
        return (diagnosed, StepCheck(CheckId(step.id, 1), f"title{EVIL}", failing))


class HostileRunner(FakeRunner):
    def run(self, argv: Sequence[str], *, on_line: LineCallback, **kwargs: Any) -> RunOutcome:
        on_line(f"\x1b[32mgreen\x1b[0m{EVIL}")
        return super().run(argv, on_line=on_line, **kwargs)


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [text for item in value for text in strings(item)]
    if is_dataclass(value) and not isinstance(value, type):
        return [text for item in fields(value) for text in strings(getattr(value, item.name))]
    return []


def test_every_event_the_session_emits_is_plain_text(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, LESSON))
    cluster = HostileCluster()
    session = LessonSession(lesson, variables=lesson.defaults())
    session.attach(cluster, HostileRunner(cluster), cluster=f"kind{EVIL}")
    events: list[Event] = []
    session.subscribe(events.append)
    session.open()
    assert cluster.connection is not None
    cluster.connection(ConnectionStatus("unreachable", 0.0, f"server said{EVIL}", context=f"kind{EVIL}"))
    session.run_step()
    texts = [text for event in events if not isinstance(event, OutputLine) for text in strings(event)]
    assert not any(has_controls(text) for text in texts)
    for expected in ("title", "reason", "event says", "kubectl get pods", "server said", "kind"):
        assert expected in texts
    assert any("0/1 nodes are available" in text for text in texts)
    output = [event.text for event in events if isinstance(event, OutputLine)]
    assert output[0] == "\x1b[32mgreen\x1b[0m"  # colours stay, nothing else
