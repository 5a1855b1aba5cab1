"""`k8s-tutor workshop status`: the room as the board shows it, in lines of text.

It reads the API's room object (version 1). Names and headlines come from learners, so
they are clipped to one printable line again here, whatever the server sent.
"""

from __future__ import annotations

from typing import Any

from tutor.workshop.snapshot import clip

SYMBOL = {"done": "✓", "stuck": "✗", "working": "…", "joined": "·", "away": "?"}


def ago(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _text(value: object, limit: int = 60) -> str:
    return clip(str(value), limit) if value is not None else ""


def room_lines(room: dict[str, Any]) -> list[str]:
    now = float(room.get("server_time") or 0)
    learners: list[dict[str, Any]] = [item for item in room.get("learners") or [] if isinstance(item, dict)]
    totals = room.get("totals") or {}
    name = _text((room.get("workshop") or {}).get("name"), 64)
    lines = [
        f"Workshop {name}: {len(learners)} learner{'s' if len(learners) != 1 else ''}, "
        f"{totals.get('done', 0)} done, {totals.get('stuck', 0)} stuck, {totals.get('away', 0)} away"
    ]
    stuck = sorted(
        (item for item in learners if item.get("status") == "stuck"), key=lambda item: item.get("stuck_since") or now
    )
    if stuck:
        lines += ["", "Stuck, longest first:"]
        for item in stuck:
            snap = item.get("snapshot") or {}
            block = snap.get("stuck") or {}
            lines.append(
                f"  ✗ {_text(item.get('name'), 40)} on {_step_label(snap, block.get('step'))} "
                f"for {ago(now - float(item.get('stuck_since') or now))}: {_text(block.get('headline'), 200)}"
            )
    if learners:
        lines += ["", "Everyone:"]
        width = max(len(_text(item.get("name"), 40)) for item in learners)
        for item in sorted(learners, key=lambda item: str(item.get("name", "")).lower()):
            snap = item.get("snapshot") or {}
            steps = snap.get("steps") or []
            done = sum(1 for step in steps if isinstance(step, dict) and step.get("done"))
            status = str(item.get("status", ""))
            where = f"on {_step_label(snap, snap.get('on_screen'))}" if snap.get("on_screen") else "no step yet"
            cluster = f", {_text(snap.get('cluster'), 10)}" if snap else ""
            heard = ago(now - float(item.get("last_seen") or now))
            lines.append(
                f"  {SYMBOL.get(status, ' ')} {_text(item.get('name'), 40):<{width}}  {status:<7}  "
                f"{done}/{len(steps)} steps done, {where}{cluster}, last heard {heard} ago"
            )
    notices = room.get("notices") or []
    if notices:
        last = notices[-1]
        said = (
            f"'{_text(last.get('text'), 80)}'"
            if last.get("kind") == "message"
            else f"everyone, step {_text(last.get('step'), 64)}"
        )
        lines += ["", f"Last said to the room, {ago(now - float(last.get('at') or now))} ago: {said}"]
    return lines


def _step_label(snapshot: dict[str, Any], step_id: object) -> str:
    steps = [step for step in snapshot.get("steps") or [] if isinstance(step, dict)]
    for index, step in enumerate(steps, 1):
        if step.get("id") == step_id:
            return f"step {index} ({_text(step.get('title'), 50)})"
    return f"step {_text(step_id, 64)}"
