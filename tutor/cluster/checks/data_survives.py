"""`data_survives`: what an earlier check remembered is still served after a pod was replaced.

Two facts make it pass: the pod named by `replaced` is a different pod from the one
that was running when the data was remembered (its uid differs; for records without
that pod's uid, it was created after the data was remembered), and every remembered
entry is still in what the URL serves.

Without a record (the lesson was done by hand, or its progress kept elsewhere, and checked
with `k8s-tutor check`, which keeps nothing), the cluster's own evidence is used, and the
reason says so: the namespace's events name an earlier pod of that name (another uid:
the kubelet's `Killing`, the scheduler's `Scheduled`), or, once those events have expired
(an hour on most clusters), the pod is younger than the claim it mounts by more than a
StatefulSet takes to create its first pod; and the URL still serves data. It cannot tell
an entry that survived from one saved after the replacement.
"""

from __future__ import annotations

import json
from typing import Any

from tutor.cluster import http_probe, objects
from tutor.cluster.checks.base import Check, CheckError
from tutor.cluster.checks.context import CheckContext, Remembered
from tutor.cluster.checks.http import node_addresses, short
from tutor.cluster.checks.served_by import ServedBy
from tutor.cluster.results import CheckResult, Subject, failed, passed, waiting
from tutor.cluster.view import ClusterView, Dependency, WatchKey, find

_ABSENT = object()

REPLACED_AFTER = 20.0
"""Seconds by which a pod younger than its claim must have been created again: a
StatefulSet creates a replica's claim and its first pod in the same pass."""


def missing_entries(current: Any, remembered: Any) -> list[Any]:
    """Remembered entries absent from `current` (list items, mapping items, or the value itself)."""
    if isinstance(remembered, list):
        items = current if isinstance(current, list) else []
        return [item for item in remembered if item not in items]
    if isinstance(remembered, dict):
        mapping = current if isinstance(current, dict) else {}
        return [{key: value} for key, value in remembered.items() if mapping.get(key, _ABSENT) != value]
    return [] if current == remembered else [remembered]


def entry_text(entry: Any) -> str:
    if isinstance(entry, dict) and "name" in entry and "score" in entry:
        return f"{entry['name']} {entry['score']}"
    return short(json.dumps(entry, sort_keys=True), 80)


class DataSurvives(Check):
    kind = "data_survives"
    polled = True
    interval = 1.0

    def setup(self) -> None:
        self.url = self.text("url")
        self.host = str(self.fields["host"]) if self.fields.get("host") else None
        self.key = self.text("remembered")
        self.target = self.ref("replaced")
        if self.target.kind.name != "pod":
            raise CheckError(f"data_survives: 'replaced' must name a pod (pod/NAME), not {self.target}")
        self.served_by = ServedBy.from_fields(self.fields.get("served_by"))

    def default_title(self) -> str:
        return f"the data kept as {self.key} survived {self.target.name}'s replacement"

    def dependencies(self) -> list[Dependency]:
        return [
            Dependency(WatchKey.of("pod", self.namespace), frozenset({self.target.name})),
            Dependency(WatchKey.of("node"), required=False),
            # The evidence of a replacement when nothing was remembered: events of an earlier
            # pod of that name, or the claim's age.
            Dependency(WatchKey.of("event", self.namespace)),
            Dependency(WatchKey.of("pvc", self.namespace)),
            *(self.served_by.dependencies(self.namespace) if self.served_by else []),
            *self.diagnosis_dependencies(),
        ]

    def _get(self, view: ClusterView, ctx: CheckContext) -> http_probe.Answer | CheckResult:
        """What the URL serves, or why that answer does not count (another program gave it)."""
        nodes = node_addresses(view)
        answer = http_probe.get(self.url, host_header=self.host, node_addresses=nodes)
        if self.served_by is not None and answer.status is not None:
            stranger = self.served_by.judge(
                view, ctx, self.namespace, answer, host_header=self.host, node_addresses=nodes
            )
            if stranger is not None:
                return stranger
        return answer

    def evaluate(self, view: ClusterView, ctx: CheckContext) -> CheckResult:
        pod_name = self.target.name
        subjects = (Subject("pod", pod_name, self.namespace),)
        record = Remembered.from_json(ctx.recall(self.key))
        if record is None:
            return self._without_record(view, ctx, subjects)
        pod = find(view, "pod", self.namespace, pod_name)
        if pod is None:
            return waiting(
                f"{pod_name} does not exist right now: its controller should create it again", subjects=subjects
            )
        old_uid = record.pods.get(self.namespace, {}).get(pod_name)
        new_uid = objects.uid(pod)
        created = objects.created(pod)
        # With the pod's old uid on record, a new uid proves the replacement; without it
        # (the pod did not exist when the data was kept), a pod created later does.
        replaced = new_uid != old_uid if old_uid else created is not None and created.timestamp() > record.at
        if not replaced or objects.terminating(pod):
            return waiting(
                f"{pod_name} has not been replaced yet: delete it with "
                f"kubectl delete pod {pod_name} -n {self.namespace}",
                subjects=subjects,
            )
        if not objects.pod_ready(pod):
            return waiting(
                f"{pod_name} was replaced and is not ready yet ({objects.pod_state_word(pod)})", subjects=subjects
            )
        answer = self._get(view, ctx)
        if isinstance(answer, CheckResult):
            return answer
        if answer.refused_by_policy:
            return failed(answer.error or "refused", subjects=subjects)
        if answer.status is None:
            return waiting(f"nothing answers at {self.url} yet: {answer.error}", subjects=subjects)
        if answer.status >= 500:
            return waiting(
                f"{self.url} answered {answer.status}: the app is reconnecting", short(answer.text), subjects=subjects
            )
        if answer.status != 200:
            return failed(f"{self.url} answered {answer.status}, expected 200", short(answer.text), subjects=subjects)
        try:
            current = json.loads(answer.text)
        except ValueError:
            current = answer.text
        lost = missing_entries(current, record.value)
        uids = f"{pod_name}: uid {old_uid or '?'} -> {new_uid}"
        if lost:
            gone = ", ".join(entry_text(entry) for entry in lost[:3])
            return failed(
                f"{len(lost)} remembered entr{'y is' if len(lost) == 1 else 'ies are'} gone: {gone}",
                uids,
                subjects=subjects,
            )
        count = len(record.value) if isinstance(record.value, list | dict) else 1
        return passed(
            f"all {count} remembered entr{'y' if count == 1 else 'ies'} survived {pod_name}'s replacement",
            uids,
            subjects=subjects,
        )

    def _without_record(self, view: ClusterView, ctx: CheckContext, subjects: tuple[Subject, ...]) -> CheckResult:
        pod_name = self.target.name
        nothing = f"nothing is remembered as {self.key} yet: the step that saves it must pass first"
        pod = find(view, "pod", self.namespace, pod_name)
        if pod is None or objects.terminating(pod):
            return waiting(nothing, subjects=subjects)
        replaced = self._replacement(view, pod)
        if replaced is None:
            return waiting(
                f"{nothing}; and nothing shows that {pod_name} was replaced: "
                f"delete it with kubectl delete pod {pod_name} -n {self.namespace}",
                subjects=subjects,
            )
        if not objects.pod_ready(pod):
            return waiting(f"{pod_name} was replaced and is not ready yet", subjects=subjects)
        answer = self._get(view, ctx)
        if isinstance(answer, CheckResult):
            return answer
        if answer.refused_by_policy:
            return failed(answer.error or "refused", subjects=subjects)
        if answer.status != 200:
            return waiting(f"nothing answers at {self.url} yet: {answer.error or answer.status}", subjects=subjects)
        try:
            current = json.loads(answer.text)
        except ValueError:
            current = answer.text
        if not current:
            return waiting(
                f"{self.url} serves nothing: the data did not survive, or was never saved", subjects=subjects
            )
        count = len(current) if isinstance(current, list | dict) else 1
        return passed(
            f"{replaced}, so it was replaced, and {self.url} still serves {count} "
            f"entr{'y' if count == 1 else 'ies'} "
            "(judged from the cluster: no record was kept of what was there before)",
            subjects=subjects,
        )

    def _replacement(self, view: ClusterView, pod: Any) -> str | None:
        """What in the cluster shows that `pod` replaced an earlier pod of its name, or None."""
        pod_name, current = objects.name(pod), objects.uid(pod)
        for event in view.objects(WatchKey.of("event", self.namespace)):
            involved = event.get("involvedObject") or event.get("regarding") or {}
            earlier = involved.get("uid") if isinstance(involved, dict) else None
            if involved.get("kind") == "Pod" and involved.get("name") == pod_name and earlier and earlier != current:
                return f"the events name an earlier {pod_name} (uid {earlier}, now {current})"
        born = objects.created(pod)
        claims = [find(view, "pvc", self.namespace, name) for name in objects.pod_claims(pod)]
        claimed = [objects.created(claim) for claim in claims if claim is not None]
        if born is None or not claims or len(claimed) != len(claims) or None in claimed:
            return None
        younger = (born - min(when for when in claimed if when is not None)).total_seconds()
        if younger < REPLACED_AFTER:
            return None
        return f"{pod_name} was created {_duration(younger)} after its claim"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"
