"""What a learner's tutor tells the workshop board, built from the session's events: when it
sends, what a snapshot says, when a step counts as stuck, and what it never carries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.lesson.helpers import write_lesson
from tests.session.fakes import FakeCluster, attached
from tutor.cluster.results import CheckResult, Finding
from tutor.lesson.model import Step
from tutor.lesson.parser import load
from tutor.run import ProcessState
from tutor.session.events import CheckId, CommandFinished, Notice, OutputLine, ProcessChanged, StepCheck
from tutor.session.session import LessonSession
from tutor.session.workshop import OfferKind, WorkshopReporter, headline, offer_for
from tutor.workshop.notices import GoToStep
from tutor.workshop.snapshot import Snapshot

LESSON = """\
---
id: three
title: Three steps
---

::: step {#one title="One"}
```sh
tool do:one
```

> [!TIP]
> First hint.

```yaml {checks}
- kind: exists
  object: deployment/one
- kind: exists
  object: deployment/other
```
:::

::: step {#two title="Two"}
```sh {background id=fwd ready="ready"}
forward do:two
```

```yaml {checks}
- kind: process_alive
  process: fwd
```
:::

::: step {#three title="Three"}
```sh
tool do:three
```

```yaml {checks}
- kind: exists
  object: deployment/three
```

```yaml {question}
ask: Which object asks for storage?
choices:
  - text: The claim
    correct: true
    why: A claim is the request.
  - text: The volume
    why: The volume is the storage itself.
```

```yaml {question}
ask: What does RWO stand for?
answer: ReadWriteOnce
why: One node at a time.
otherwise: Look at the claim's spec.accessModes.
```
:::
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path, cluster: FakeCluster | None = None, lesson_text: str = LESSON) -> Any:
    lesson = load(write_lesson(tmp_path, lesson_text))
    session = LessonSession(lesson, variables=lesson.defaults(), cluster="kind-test", store=None)
    cluster = cluster or FakeCluster()
    runner = attached(session, cluster)
    sent: list[Snapshot] = []
    clock = Clock()
    reporter = WorkshopReporter(session, sent.append, clock=clock, wall=lambda: 1_767_225_600.0)
    return session, cluster, runner, reporter, sent, clock


def test_a_snapshot_follows_what_the_instructor_cares_about_and_nothing_else(tmp_path: Path) -> None:
    session, cluster, runner, _, sent, _ = make(tmp_path)
    assert sent == [], "nothing before the lesson is open"
    session.open()
    first = sent[-1]
    assert (first.lesson, first.lesson_title, first.on_screen) == ("three", "Three steps", "one")
    assert [(s.id, s.done) for s in first.steps] == [("one", False), ("two", False), ("three", False)]
    assert first.steps[0].checks.waiting == 2 and first.cluster.value == "real" and first.stuck is None

    count = len(sent)
    session.hint()
    assert sent[-1].steps[0].hints_used == 1 and len(sent) == count + 1

    count = len(sent)
    session._emit(OutputLine("r1", "a line of output"))  # output is no news to the board
    session._emit(Notice("something for the learner"))
    assert len(sent) == count

    cluster.satisfy("one")
    done = sent[-1]
    assert done.steps[0].done and done.steps[0].checks.passed == 2
    session.show("two")
    session.run_step("two")
    latest = sent[-1]
    assert latest.on_screen == "two"
    assert [(p.name, p.up) for p in latest.processes] == [("fwd", True)]
    assert latest.steps[1].done
    runner.stop("fwd")
    assert [(p.name, p.up) for p in sent[-1].processes] == [("fwd", False)]
    # Numbered in order, each one schema-valid as the server parses it.
    assert [s.seq for s in sent] == sorted({s.seq for s in sent})
    for snapshot in sent:
        assert Snapshot.from_json(json.loads(json.dumps(snapshot.to_json()))) == snapshot


def test_questions_answered_count_questions_tried_not_tries(tmp_path: Path) -> None:
    session, _, _, _, sent, _ = make(tmp_path)
    session.open()
    assert sent[-1].questions_answered == 0
    first, second = session.lesson.step("three").questions
    session.answer("three", first.id, "b")  # wrong, but answered
    assert sent[-1].questions_answered == 1
    session.answer("three", first.id, "a")
    assert sent[-1].questions_answered == 1, "a second try at the same question is not another question"
    session.answer("three", second.id, "z z z")
    session.reveal("three", second.id)  # wrong, then a peek: still one try
    assert sent[-1].questions_answered == 2


def test_a_peek_at_the_answer_is_not_an_answer(tmp_path: Path) -> None:
    session, _, _, _, sent, _ = make(tmp_path)
    session.open()
    question = session.lesson.step("three").questions[0]
    session.reveal("three", question.id)
    assert sent[-1].questions_answered == 0


def test_a_step_that_has_not_passed_for_two_minutes_is_stuck_with_its_headline(tmp_path: Path) -> None:
    session, cluster, _, reporter, sent, clock = make(tmp_path)
    session.open()
    clock.now += 119
    assert reporter.update() is None, "not stuck yet, and nothing else changed: nothing sent"
    clock.now += 2
    stuck = reporter.update()
    assert stuck is not None and stuck.stuck is not None
    assert (stuck.stuck.step, stuck.stuck.for_seconds, stuck.stuck.headline) == ("one", 121, "not yet")
    clock.now += 60
    assert reporter.update() is None, "still stuck on the same thing: the board counts the minutes itself"
    cluster.satisfy("one")
    assert sent[-1].stuck is None, "step two has only just become the one to do"
    clock.now += 121
    assert reporter.update() is not None and sent[-1].stuck is not None and sent[-1].stuck.step == "two"


class Hostile(FakeCluster):
    """A cluster whose checks' words carry what must never leave the machine."""

    def results(self, step: Step) -> tuple[StepCheck, ...]:
        token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJzeXN0ZW0ifQ.Zm9vYmFy"
        reason = f"mongo-0: 0/1 ready\n\x1b[2Jtoken: {token}\x1b]0;PWNED\x07 and more"
        finding = Finding("made_up", "secret value: hunter2", ("KUBECONFIG=/home/ana/.kube/config",), "kubectl")
        return (StepCheck(CheckId(step.id, 0), "Title\x1b[31m", CheckResult("fail", reason, findings=(finding,))),)


HOSTILE_LESSON = LESSON.replace("tool do:one", "tool do:one --token=S3cr3tT0k3nValue0123456789").replace(
    'title="Two"', 'title="Two\x1b]0;PWNED\x07 steps"'
)


def test_hostile_event_content_never_reaches_the_board(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret-42")
    session, _, _, reporter, sent, clock = make(tmp_path, Hostile(), HOSTILE_LESSON)
    session.open()
    session.run_step("one")  # its output (the fake runner prints the command line) is the token
    session._emit(CommandFinished("r9", "one", "cat ~/.kube/config", False, 1, "apiVersion: v1\nclusters: ..."))
    session._emit(ProcessChanged("fwd\nevil", ProcessState.READY, "detail: hunter2"))
    clock.now += 200
    reporter.update()
    assert sent
    wire = [json.dumps(snapshot.to_json(), ensure_ascii=False) for snapshot in sent]
    for text in wire:
        for secret in ("S3cr3tT0k3n", "eyJhbGci", "hunter2", "KUBECONFIG", "apiVersion", "envsecret", "PWNED", "\x1b"):
            assert secret not in text, secret
    stuck = sent[-1].stuck
    assert stuck is not None
    assert stuck.headline == "mongo-0: 0/1 ready token: [redacted] and more"
    assert sent[-1].steps[1].title == "Two steps", "a lesson's title is one clean line too"
    # Only the schema's own fields travel; a process id that is not an id is left out.
    assert set(json.loads(wire[-1])) == {
        "schema", "lesson", "on_screen", "steps", "stuck", "questions_answered", "processes", "cluster",
        "tutor_version", "sent_at", "seq",
    }  # fmt: skip
    assert all(process.name != "fwd\nevil" for snapshot in sent for process in snapshot.processes)


def test_a_learner_whose_clock_was_never_set_still_reaches_the_board(tmp_path: Path) -> None:
    lesson = load(write_lesson(tmp_path, LESSON))
    session = LessonSession(lesson, variables=lesson.defaults(), cluster="kind-test", store=None)
    cluster = FakeCluster()
    attached(session, cluster)
    sent: list[Snapshot] = []
    WorkshopReporter(session, sent.append, wall=lambda: 0.0)  # 1970
    session.open()
    cluster.satisfy("one")
    assert sent and sent[-1].steps[0].done and sent[-1].sent_at >= 1_577_836_800.0


def test_a_headline_keeps_kubernetes_names_and_drops_what_looks_like_a_credential() -> None:
    assert headline("pvc-3f2c9a1e-8b7d-4c1e-9f2a-1b2c3d4e5f60: Pending") == (
        "pvc-3f2c9a1e-8b7d-4c1e-9f2a-1b2c3d4e5f60: Pending"
    )
    assert headline("Bearer AbCdEf0123456789GhIjKl") == "Bearer [redacted]"
    assert len(headline("x " * 500)) <= 200


def test_everyone_go_to_a_step_is_an_offer_that_explains_a_locked_step(tmp_path: Path) -> None:
    session, cluster, _, _, _, _ = make(tmp_path)
    session.open()
    locked = offer_for(session, GoToStep(1, 0.0, "three", "two"))
    assert (locked.kind, locked.number, locked.waits_for) == (OfferKind.LOCKED, 2, "One")
    assert offer_for(session, GoToStep(2, 0.0, None, "one")).kind is OfferKind.HERE
    assert offer_for(session, GoToStep(3, 0.0, "day55", "two")).kind is OfferKind.ELSEWHERE
    assert offer_for(session, GoToStep(4, 0.0, None, "nine")).kind is OfferKind.ELSEWHERE
    cluster.satisfy("one")
    go = offer_for(session, GoToStep(5, 0.0, "three", "two"))
    assert (go.kind, go.title) == (OfferKind.GO, "Two")
    assert session.viewing.id == "one", "an offer moves nobody"
