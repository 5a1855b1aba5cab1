"""The live object map against the sandbox: day55's steps run with the real kubectl, and the
map (built from the check engine's watch cache) shows what they build and how it hangs
together, `mongo-0` going Terminating and coming back under the same claim, the Ingress
in front of the game's Service."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import REPO, free_port, kubectl, tutor_threads
from tests.cluster.lesson_driver import LessonContext
from tests.polling import wait_until
from tutor.cluster import watcher
from tutor.cluster.connection import ClusterConnection
from tutor.cluster.kubeconfig import Source
from tutor.cluster.map_watch import MapWatch
from tutor.cluster.object_map import MapNode, ObjectMap
from tutor.lesson.model import Lesson
from tutor.lesson.parser import load
from tutor.lesson.place import Place
from tutor.plain.lines import map_lines
from tutor.session.cluster_checks import ClusterChecks, resolved_subjects

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="needs kubectl on PATH")


class Maps:
    """The maps the backend sends, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[ObjectMap] = []
        self.threads: set[str] = set()

    def __call__(self, found: ObjectMap) -> None:
        with self.lock:
            self.seen.append(found)
            self.threads.add(threading.current_thread().name)

    @property
    def last(self) -> ObjectMap:
        with self.lock:
            return self.seen[-1] if self.seen else ObjectMap(note="none yet", loading=True)

    def when(self, what: str, predicate: Any, timeout: float = 30) -> ObjectMap:
        """The first map told from now on (or the last one before) for which `predicate(map)` holds."""

        with self.lock:
            start = max(0, len(self.seen) - 1)

        def found() -> ObjectMap | None:
            # Every map told since, not only the latest: a state that passes (Terminating) is not missed.
            with self.lock:
                told = self.seen[start:]
            return next((m for m in told if not m.loading and predicate(m)), None)

        result: ObjectMap = wait_until(found, timeout=timeout, what=f"{what}; last map: {map_lines(self.last)}")
        return result


@pytest.fixture
def lesson() -> Lesson:
    return load(REPO / "lessons" / "day55.md").for_place(Place("sandbox", "linux"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    from tutor.sandbox import Delays, Sandbox

    # Pods stay Terminating a moment, as on a real node, so the map can show it.
    delays = Delays(pod_termination=1.0)
    with Sandbox(
        delays=delays, profile="mc-demo", started=False, state_dir=tmp_path / "sb", ingress_port=free_port()
    ) as sb:
        yield sb, sb.env()


def _run_step(ctx: LessonContext, lesson: Lesson, step_id: str, variables: dict[str, str], count: int = 99) -> None:
    for command in lesson.step(step_id).runnable[:count]:
        ctx.run(command, variables)


def _under(node: MapNode | None, kind: str, name: str) -> MapNode | None:
    if node is None:
        return None
    return next((child for child in node.children if child.kind == kind and child.name == name), None)


def test_day55_map_follows_the_lesson(lesson: Lesson, world: Any) -> None:
    _, env = world
    ctx = LessonContext(env)
    connection = ClusterConnection(Source.resolve(env["KUBECONFIG"]))
    checks = ClusterChecks(connection, ctx, profile="mc-demo")
    variables = lesson.defaults(local_port=str(free_port()))
    maps = Maps()
    try:
        # No cluster yet: the map says so, and shows the lesson's objects as not created.
        checks.show_map(lesson, variables, maps)
        first = wait_until(lambda: maps.seen, what="a first map")[0]
        assert first.note
        _run_step(ctx, lesson, "start", variables)
        if connection.info is not None:
            variables.update(connection.info.variables)
        checks.show_map(lesson, variables, maps)  # as the session does once the variables are the cluster's
        before = maps.when(
            "the class, and the rest not created yet", lambda m: m.find("StorageClass", "csi-hostpath-sc")
        )
        mongo = before.find("StatefulSet", "mongo", "pacman")
        assert mongo is not None and mongo.state == "not created yet" and mongo.health == "absent"
        assert mongo.step == "deploy"
        storage_class = before.find("StorageClass", "csi-hostpath-sc")
        assert storage_class is not None and storage_class.step == "start"

        _run_step(ctx, lesson, "default-storageclass", variables)
        _run_step(ctx, lesson, "deploy", variables, count=2)  # the namespace, then the manifest

        def settled(found: ObjectMap) -> bool:
            pod = found.find("Pod", "mongo-0", "pacman")
            sts = found.find("StatefulSet", "mongo", "pacman")
            deployment = found.find("Deployment", "pacman", "pacman")
            services = [found.find("Service", name, "pacman") for name in ("pacman", "mongo")]
            return bool(
                pod
                and pod.state == "Running 1/1"
                and sts
                and sts.state == "1/1 ready"
                and deployment
                and deployment.health == "ok"
                and all(
                    service and service.links and all(link.health == "ok" for link in service.links)
                    for service in services
                )
            )

        deployed = maps.when("mongo-0 running, the game ready, the endpoints too", settled)
        # StorageClass -> PersistentVolume -> claim -> mongo-0, the chain that outlasts the pod.
        sc = deployed.find("StorageClass", "csi-hostpath-sc")
        assert sc is not None and sc.state == "(default)" and deployed.parent_of(sc) is None
        assert len(sc.children) == 1 and sc.children[0].kind == "PersistentVolume"
        volume = sc.children[0]
        assert volume.state == "Bound" and volume.step == "deploy"
        claim = _under(volume, "PersistentVolumeClaim", "mongo-data-mongo-0")
        assert claim is not None and claim.state == "Bound" and claim.namespace == "pacman"
        pod = _under(claim, "Pod", "mongo-0")
        assert pod is not None and pod.health == "ok" and pod.step == "deploy"
        # The StatefulSet is drawn on its own, linking to its pod, its claim and its Service.
        sts = deployed.find("StatefulSet", "mongo", "pacman")
        assert sts is not None and deployed.parent_of(sts) is None
        assert {(link.relation, link.kind, link.name) for link in sts.links} == {
            ("owns", "Pod", "mongo-0"),
            ("claims", "PersistentVolumeClaim", "mongo-data-mongo-0"),
            ("governs", "Service", "mongo"),
        }
        # Deployment -> ReplicaSet -> pods, each pod with the step of the Deployment.
        game = deployed.find("Deployment", "pacman", "pacman")
        assert game is not None and game.step == "deploy" and len(game.children) == 1
        replicaset = game.children[0]
        assert replicaset.kind == "ReplicaSet" and replicaset.name.startswith("pacman-")
        game_pods = [child for child in replicaset.children if child.kind == "Pod"]
        assert game_pods
        assert all(p.step == "deploy" and p.state == "Running 1/1" for p in game_pods)
        # Service -> its ready endpoints.
        service = deployed.find("Service", "pacman", "pacman")
        assert service is not None
        assert {link.name for link in service.links if link.relation == "endpoint"} == {p.name for p in game_pods}
        assert all(link.health == "ok" for link in service.links)
        assert service.state.endswith(f"{len(game_pods)}/{len(game_pods)} endpoints ready")
        headless = deployed.find("Service", "mongo", "pacman")
        assert headless is not None and headless.state.startswith("headless")
        assert [(link.relation, link.name) for link in headless.links] == [("endpoint", "mongo-0")]

        # mongo-0 deleted: Terminating, then back under the same claim with a new uid.
        old_uid = pod.uid
        restart = lesson.step("mongo-restart").runnable[0]
        assert list(restart.argv[:3]) == ["kubectl", "delete", "pod"]
        deleting = threading.Thread(target=ctx.run, args=(restart, variables))
        deleting.start()
        try:
            going = maps.when(
                "mongo-0 Terminating",
                lambda m: (p := m.find("Pod", "mongo-0", "pacman")) is not None and p.state == "Terminating",
            )
        finally:
            deleting.join(60)
        leaving = going.find("Pod", "mongo-0", "pacman")
        assert leaving is not None and leaving.health == "leaving" and leaving.uid == old_uid
        parent = going.parent_of(leaving)
        assert parent is not None and parent.name == "mongo-data-mongo-0"
        back = maps.when(
            "mongo-0 back with a new uid",
            lambda m: (
                (p := m.find("Pod", "mongo-0", "pacman")) is not None and p.uid != old_uid and p.state == "Running 1/1"
            ),
        )
        again = back.find("Pod", "mongo-0", "pacman")
        assert again is not None
        parent = back.parent_of(again)
        assert parent is not None and parent.kind == "PersistentVolumeClaim" and parent.name == "mongo-data-mongo-0"
        assert parent.uid == claim.uid  # the same claim, not a new one of the same name
        volume_now = back.find("PersistentVolume", volume.name)
        assert volume_now is not None and volume_now.uid == volume.uid

        # The Ingress: the game's Service moves under it, and the placeholder is gone.
        _run_step(ctx, lesson, "ingress-addon", variables)
        _run_step(ctx, lesson, "ingress", variables)
        routed = maps.when(
            "the Ingress with its address",
            lambda m: (i := m.find("Ingress", "pacman-ingress", "pacman")) is not None and i.health == "ok",
        )
        ingress = routed.find("Ingress", "pacman-ingress", "pacman")
        assert ingress is not None and ingress.step == "ingress" and ingress.state.startswith("address ")
        assert [(child.kind, child.name) for child in ingress.children] == [("Service", "pacman")]
        assert ingress.children[0].step == "deploy"  # made by an earlier step: said under the Ingress
        assert "not created yet" not in "\n".join(map_lines(routed))
        assert maps.threads == {"k8s-tutor map"}
    finally:
        checks.close()
        ctx.close()
        connection.close()


def test_the_map_sends_no_request_while_idle_and_its_watches_end_with_it(lesson: Lesson, sandbox: Any) -> None:
    kubectl(sandbox, "create", "-f", str(REPO / "manifests" / "day55" / "pacman-stateful.yaml"))
    env = sandbox.env()
    connection = ClusterConnection(Source.resolve(env["KUBECONFIG"]))
    checks = ClusterChecks(connection, LessonContext(env), profile="mc-demo")
    variables = {**lesson.defaults(local_port=str(free_port())), **sandbox.variable_overrides()}
    maps = Maps()
    try:
        # The deploy step's checks watch the StatefulSet and the pods; the map needs more.
        checks.activate(lesson.step("deploy"), variables, lambda _: None)
        wait_until(lambda: checks.engine.settled() and set(checks.engine.cache.keys), what="the checks' watches")
        for_checks = set(checks.engine.cache.keys)
        watch = MapWatch(checks.engine, resolved_subjects(lesson, variables), [s.id for s in lesson.steps], maps)
        watch.start()
        maps.when("mongo-0 running", lambda m: (p := m.find("Pod", "mongo-0", "pacman")) and p.health == "ok")
        with_map = set(checks.engine.cache.keys)
        assert for_checks < with_map  # what no check of the step reads: Services, endpoints...
        assert {key.kind for key in with_map - for_checks} >= {"endpoints", "service"}
        sandbox.wait_idle()
        wait_until(checks.engine.settled, what="the engine to settle")
        builds, told = watch.builds, len(maps.seen)
        start = time.time()
        time.sleep(watcher.HEARTBEAT_EVERY + 0.5)  # a span of idle time, as the engine's idle test measures
        sent = sandbox.requests.records(since=start)
        # Only the liveness request: the map's watches are open, and it neither lists nor rebuilds.
        assert [r.path for r in sent if r.path.rstrip("/") != "/version"] == []
        assert watch.builds == builds and len(maps.seen) == told
        # Closed, it watches nothing of its own: the checks' watches are all that stay.
        watch.stop()
        wait_until(lambda: set(checks.engine.cache.keys) == for_checks, what="the map's watches to end")
        assert "k8s-tutor map" not in tutor_threads()
    finally:
        checks.close()
        connection.close()
