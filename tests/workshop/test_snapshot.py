"""The snapshot schema: what it carries, and everything it refuses."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.workshop.notices import GoToStep, RoomMessage, parse_notice
from tutor.workshop.snapshot import (
    MAX_BODY_BYTES,
    MAX_HEADLINE,
    MAX_PROCESSES,
    MAX_STEPS,
    MAX_TITLE,
    CheckCounts,
    Cluster,
    Process,
    Snapshot,
    SnapshotError,
    StepState,
    Stuck,
    check_text,
    clip,
)

from .helpers import snapshot


def body() -> dict[str, Any]:
    return snapshot(3, done=1, stuck=True).to_json()


def refusal(data: Any) -> SnapshotError:
    with pytest.raises(SnapshotError) as caught:
        Snapshot.from_json(data)
    return caught.value


def test_a_snapshot_survives_the_wire_unchanged() -> None:
    snap = snapshot(7, done=2, stuck=True)
    assert Snapshot.from_json(json.loads(json.dumps(snap.to_json()))) == snap
    assert not snap.done
    assert snapshot(done=3).done


def test_an_unknown_field_is_refused_at_any_depth_and_named() -> None:
    data = body()
    data["environment"] = {"KUBECONFIG": "/home/ana/.kube/config"}
    assert refusal(data).field == ""
    assert "environment" in str(refusal(data))
    data = body()
    data["steps"][1]["output"] = "token: abc"
    assert refusal(data).field == "steps[1]"
    data = body()
    data["stuck"]["evidence"] = ["kubectl get secret -o yaml"]
    assert refusal(data).field == "stuck"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("seq",), True, "seq"),
        (("seq",), 1.5, "seq"),
        (("seq",), -1, "seq"),
        (("questions_answered",), "3", "questions_answered"),
        (("steps", 0, "checks", "pass"), False, "steps[0].checks.pass"),
        (("steps", 0, "checks", "fail"), 10**6, "steps[0].checks.fail"),
        (("steps", 0, "done"), 1, "steps[0].done"),
        (("steps", 2, "title"), "x" * (MAX_TITLE + 1), "steps[2].title"),
        (("steps", 2, "title"), "two\nlines", "steps[2].title"),
        (("steps", 2, "title"), "\x1b[31mred", "steps[2].title"),
        (("steps", 2, "title"), "", "steps[2].title"),
        (("steps", 1, "id"), "../../etc", "steps[1].id"),
        (("stuck", "headline"), "h" * (MAX_HEADLINE + 1), "stuck.headline"),
        (("stuck", "for_seconds"), 10**9, "stuck.for_seconds"),
        (("stuck", "step"), "nowhere", "stuck.step"),
        (("on_screen",), "nowhere", "on_screen"),
        (("cluster",), "prod", "cluster"),
        (("tutor_version",), "1.0; rm -rf /", "tutor_version"),
        (("sent_at",), math.nan, "sent_at"),
        (("sent_at",), 12.0, "sent_at"),
        (("lesson", "title"), ["a list"], "lesson.title"),
        (("processes", 0, "up"), "yes", "processes[0].up"),
        (("processes", 0, "name"), "kubectl port-forward svc/x 8080:80", "processes[0].name"),
    ],
)
def test_a_wrong_value_is_refused_with_its_path(path: tuple[Any, ...], value: Any, field: str) -> None:
    data = body()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert refusal(data).field == field


def test_lists_and_versions_are_bounded() -> None:
    data = body()
    data["steps"] = [dict(data["steps"][0], id=f"s{i}") for i in range(MAX_STEPS + 1)]
    data["on_screen"], data["stuck"] = None, None
    assert refusal(data).field == "steps"
    data = body()
    data["processes"] = [{"name": f"p{i}", "up": True} for i in range(MAX_PROCESSES + 1)]
    assert refusal(data).field == "processes"
    data = body()
    data["steps"][1]["id"] = data["steps"][0]["id"]
    assert "repeats" in str(refusal(data))
    data = body()
    data["schema"] = 2
    assert refusal(data).field == "schema"
    assert "version 2" in str(refusal(data))
    assert refusal([body()]).field == ""
    assert refusal(None).field == ""


def test_the_largest_valid_snapshot_fits_the_body_limit() -> None:
    wide = "\U0001f600"  # four bytes of UTF-8
    steps = tuple(
        StepState(f"{i:02d}" + "s" * 62, wide * MAX_TITLE, True, CheckCounts(10_000, 10_000, 10_000), 10_000)
        for i in range(MAX_STEPS)
    )
    snap = Snapshot(
        lesson="l" * 64,
        lesson_title=wide * MAX_TITLE,
        steps=steps,
        cluster=Cluster.REAL,
        tutor_version="9" * 32,
        sent_at=4_000_000_000.123456,
        seq=2**53,
        on_screen=steps[-1].id,
        stuck=Stuck(steps[-1].id, 7 * 24 * 3600, wide * MAX_HEADLINE),
        questions_answered=10_000,
        processes=tuple(Process(f"{i:02d}" + "p" * 62, False) for i in range(MAX_PROCESSES)),
    )
    encoded = json.dumps(snap.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
    assert len(encoded) <= MAX_BODY_BYTES
    assert Snapshot.from_json(json.loads(encoded)) == snap


def test_building_an_invalid_snapshot_in_code_fails_too() -> None:
    with pytest.raises(SnapshotError):
        StepState("ok", "two\nlines")
    with pytest.raises(SnapshotError):
        snapshot(on_screen="nowhere")
    with pytest.raises(SnapshotError):
        Stuck("deploy", -1, "headline")


@given(st.text(max_size=500), st.integers(min_value=1, max_value=300))
def test_clip_makes_any_text_a_valid_field(text: str, limit: int) -> None:
    clipped = clip(text, limit)
    assert check_text(clipped, "f", limit, empty=True) == clipped


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_is_a_snapshot_or_a_clear_refusal(data: Any) -> None:
    try:
        Snapshot.from_json(data)
    except SnapshotError as err:
        message = str(err)
    else:
        return
    assert message, "a refusal says why"


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_valid_snapshot_with_one_value_changed_is_parsed_or_refused_cleanly(data: st.DataObject) -> None:
    original = body()
    path = data.draw(st.sampled_from(_paths(original)))
    changed = copy.deepcopy(original)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(_json)
    try:
        parsed = Snapshot.from_json(changed)
    except SnapshotError:
        return
    # Whatever was accepted is what a re-serialisation gives back: nothing extra was kept.
    assert Snapshot.from_json(parsed.to_json()) == parsed


def test_notices_parse_and_refuse() -> None:
    message = RoomMessage(1, 1_800_000_000.0, "Break until 11:00")
    goto = GoToStep(2, 1_800_000_000.0, "day55", "ingress")
    assert parse_notice(json.loads(json.dumps(message.to_json()))) == message
    assert parse_notice(json.loads(json.dumps(goto.to_json()))) == goto
    assert parse_notice(dict(goto.to_json(), lesson=None)) == GoToStep(2, 1_800_000_000.0, None, "ingress")
    for bad in ({"kind": "shell", "id": 3, "at": 1.0}, dict(message.to_json(), text="x" * 281), {"kind": "goto"}, []):
        with pytest.raises(SnapshotError):
            parse_notice(bad)
