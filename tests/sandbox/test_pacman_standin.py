"""The Pac-Man stand-in, as a learner reaches it: scores follow MongoDB's volume, not its pod."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.sandbox.standins import StandIns

try:
    from standins_helpers import (
        StoreHost,
        free_port,
        http,
        http_json,
        mongo_pod,
        pacman_pod,
        pacman_scene,
        wait_until,
    )
except ImportError:  # tests/ became a package
    from tests.sandbox.standins_helpers import (  # type: ignore[no-redef]
        StoreHost,
        free_port,
        http,
        http_json,
        mongo_pod,
        pacman_pod,
        pacman_scene,
        wait_until,
    )

POD = "pacman-7469bbb6d7-00000"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[StoreHost, StandIns]]:
    host = StoreHost(tmp_path)
    pacman_scene(host.store)
    with StandIns(host, ingress_port=free_port(), existing_profile="mc-demo") as si:
        yield host, si


def game_url(si: StandIns, pod: str = POD) -> str:
    backend = wait_until(lambda: (b := si.apps.backend("pacman", pod)) and b.ports and b, what=f"{pod}'s server")
    return f"http://127.0.0.1:{backend.ports[8080]}"


def save(url: str, name: str, score: int) -> dict[str, object]:
    return http_json(
        url + "/highscores",
        {
            "name": name,
            "score": str(score),
            "level": "2",
            "cloud": "unknown",
            "zone": "unknown",
            "host": "terminal",
        },
    )


def test_the_game_answers_its_api_as_the_pod(cluster: tuple[StoreHost, StandIns]) -> None:
    _, si = cluster
    url = game_url(si)
    status, page = http(url + "/")
    assert status == 200
    assert "stand-in" in page
    assert POD in page
    assert http_json(url + "/location/metadata") == {
        "cloud": "unknown",
        "zone": "unknown",
        "host": POD,
    }
    assert save(url, "k8s-tutor", 2500) == {
        "name": "k8s-tutor",
        "zone": "unknown",
        "score": 2500,
        "level": 2,
        "rs": "success",
    }
    assert http_json(url + "/highscores/list") == [
        {
            "name": "k8s-tutor",
            "cloud": "unknown",
            "zone": "unknown",
            "host": "terminal",
            "score": 2500,
        }
    ]
    user = http_json(url + "/user/id")
    assert isinstance(user, str)
    assert len(user) == 24
    assert http(url + "/nothing-here")[0] == 404


def test_high_scores_are_sorted_and_capped_at_ten(cluster: tuple[StoreHost, StandIns]) -> None:
    _, si = cluster
    url = game_url(si)
    for i in range(12):
        save(url, f"p{i}", i * 10)
    scores = [row["score"] for row in http_json(url + "/highscores/list")]
    assert scores == [110, 100, 90, 80, 70, 60, 50, 40, 30, 20]


def test_every_game_pod_lists_the_same_scores(tmp_path: Path) -> None:
    host = StoreHost(tmp_path)
    pacman_scene(host.store, pacman_pods=2)
    with StandIns(host, ingress_port=free_port()) as si:
        save(game_url(si, "pacman-7469bbb6d7-00000"), "shared", 7)
        assert http_json(game_url(si, "pacman-7469bbb6d7-00001") + "/highscores/list")[0]["name"] == "shared"


def test_scores_survive_mongo_0_replacement_with_500_in_between(
    cluster: tuple[StoreHost, StandIns],
) -> None:
    host, si = cluster
    url = game_url(si)
    save(url, "before", 100)
    host.store.delete("pods", "pacman", "mongo-0")
    status, body = http(url + "/highscores/list")
    assert status == 500
    assert "MongoError" in body
    assert http(url + "/")[0] == 200  # the page is static: it does not need the database
    mongo_pod(host.store)  # the StatefulSet's new mongo-0, same claim
    assert http_json(url + "/highscores/list")[0]["name"] == "before"


def test_scores_are_lost_with_the_claim(cluster: tuple[StoreHost, StandIns]) -> None:
    host, si = cluster
    url = game_url(si)
    save(url, "doomed", 100)
    store = host.store
    store.delete("pods", "pacman", "mongo-0")
    store.delete("persistentvolumeclaims", "pacman", "mongo-data-mongo-0")
    store.delete("persistentvolumes", "", "pvc-1111")  # reclaim policy Delete
    store.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pvc-2222"},
            "spec": {},
        }
    )
    store.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "mongo-data-mongo-0", "namespace": "pacman"},
            "spec": {"volumeName": "pvc-2222"},
        }
    )
    mongo_pod(store)
    wait_until(lambda: "pv/pvc-1111" not in si.databases, what="the old volume's data to go")
    assert http_json(url + "/highscores/list") == []


def test_mongo_without_a_volume_loses_its_data_with_the_pod(
    cluster: tuple[StoreHost, StandIns],
) -> None:
    host, si = cluster
    host.store.delete("pods", "pacman", "mongo-0")
    mongo_pod(host.store, claim=None)
    url = game_url(si)
    save(url, "ephemeral", 1)
    host.store.delete("pods", "pacman", "mongo-0")
    mongo_pod(host.store, claim=None)
    assert http_json(url + "/highscores/list") == []


def test_the_server_closes_when_the_pod_stops(cluster: tuple[StoreHost, StandIns]) -> None:
    host, si = cluster
    url = game_url(si)
    host.store.delete("pods", "pacman", POD)

    def refused() -> bool:
        try:
            http(url + "/", timeout=1)
        except (urllib.error.URLError, ConnectionError):
            return True
        except TimeoutError:
            pass  # caught mid-shutdown: ask again
        return False

    wait_until(refused, what="the pod's server to close")


def test_any_tag_of_the_image_gets_a_server_and_others_do_not(
    cluster: tuple[StoreHost, StandIns],
) -> None:
    host, si = cluster
    pacman_pod(host.store, "tagged", image="quay.io/ifont/pacman-nodejs-app:v0.1@sha256:" + "0" * 64)
    pacman_pod(host.store, "web", image="nginx:1.27")
    game_url(si, "tagged")
    wait_until(lambda: si.apps.backend("pacman", "web") is not None, what="the web pod")
    assert si.apps.backend("pacman", "web").ports == {}  # type: ignore[union-attr]
