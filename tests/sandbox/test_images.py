"""The node's image catalogue: what can be pulled, and how a failed pull is worded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sandbox_helpers import MANIFESTS

from tutor.sandbox import images
from tutor.sandbox.apps import pacman
from tutor.sandbox.datafiles import DATA
from tutor.sandbox.minikube import addons


def pulls(image: str) -> bool:
    return isinstance(images.lookup(image), tuple)


def failure(image: str) -> images.Failure:
    found = images.lookup(image)
    assert isinstance(found, images.PullFailure), found
    return found.failure


def manifest_images(path: Path) -> set[str]:
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "image" and isinstance(item, str):
                    found.add(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for doc in yaml.safe_load_all(path.read_text()):
        walk(doc)
    return found


def test_the_lessons_images_are_in_the_catalogue() -> None:
    used = set().union(*(manifest_images(p) for p in MANIFESTS.glob("*.yaml")))
    assert used, "the day55 manifests name images"
    assert [i for i in sorted(used) if not pulls(i)] == []


def test_minikubes_own_images_are_in_the_catalogue() -> None:
    used = {i for a in addons.ADDONS.values() for i in a.images}
    for name in addons.SIMULATED:
        used |= manifest_images(DATA / "addons" / f"{name}.yaml")
    used |= {i.replace("${kubernetes_version}", "v1.31.0") for i in manifest_images(DATA / "baseline.yaml")}
    assert len(used) > 15
    assert [i for i in sorted(used) if not pulls(i)] == []


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:latest",
        "nginx:1.27",
        "nginx:1.14.2",
        "nginx:1.25-alpine",
        "docker.io/library/nginx:1.27.3",
        "busybox:1.28",
        "alpine:3.20",
        "redis:7",
        "postgres:16.4",
        "mongo:5.0.30",
        "httpd:2.4",
        "python:3.12-slim",
        "node:20.11.1-alpine",
        "quay.io/ifont/pacman-nodejs-app:latest",
        "nginx@sha256:" + "a" * 64,
    ],
)
def test_images_and_tags_that_exist_pull(image: str) -> None:
    assert pulls(image)


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("nginx:1.99", images.Failure.MANIFEST),
        ("nginx:1.27.99", images.Failure.MANIFEST),
        ("quay.io/ifont/pacman-nodejs-app:v2", images.Failure.MANIFEST),
        ("nginxx", images.Failure.REPOSITORY),
        ("someone/unknown-app:1.0", images.Failure.REPOSITORY),
        ("registry.example/team/app:1", images.Failure.HOST),
        ("Nginx", images.Failure.INVALID),
        ("nginx:", images.Failure.INVALID),
    ],
)
def test_images_that_do_not_exist_fail_for_the_right_reason(image: str, why: images.Failure) -> None:
    assert failure(image) is why


def test_pull_errors_are_worded_as_each_runtime_words_them() -> None:
    tag = images.lookup("nginx:1.99")
    repo = images.lookup("nginxx:latest")
    assert isinstance(tag, images.PullFailure) and isinstance(repo, images.PullFailure)
    assert images.pull_error("nginx:1.99", tag, "docker") == (
        "Error response from daemon: manifest for nginx:1.99 not found: manifest unknown: manifest unknown"
    )
    assert images.pull_error("nginx:1.99", tag, "containerd") == (
        'failed to pull and unpack image "docker.io/library/nginx:1.99": failed to resolve reference '
        '"docker.io/library/nginx:1.99": docker.io/library/nginx:1.99: not found'
    )
    assert "pull access denied for nginxx, repository does not exist" in images.pull_error(
        "nginxx:latest", repo, "docker"
    )
    invalid = images.lookup("Nginx")
    assert isinstance(invalid, images.PullFailure)
    assert invalid.message == (
        'Failed to apply default image tag "Nginx": couldn\'t parse image name "Nginx": invalid reference '
        "format: repository name (library/Nginx) must be lowercase"
    )


def test_references_are_normalized_as_the_runtime_names_them() -> None:
    assert images.normalize_image("mongo:5.0.30") == "docker.io/library/mongo:5.0.30"
    assert images.normalize_image("bitnami/redis") == "docker.io/bitnami/redis:latest"
    assert images.normalize_image("quay.io/ifont/pacman-nodejs-app") == "quay.io/ifont/pacman-nodejs-app:latest"


def test_the_catalogues_game_serves_what_the_stand_in_serves() -> None:
    found = images.lookup("quay.io/ifont/pacman-nodejs-app:latest")
    assert isinstance(found, tuple)
    served = {s.port: s for s in found[1].serves}
    assert served[pacman.PORT].http is not None
    app = pacman.make_app("pod", lambda: None, "mongodb://mongo")  # type: ignore[arg-type, return-value]
    standin_gets = {r.resource.canonical for r in app.router.routes() if r.method == "GET" and r.resource is not None}
    assert set(served[pacman.PORT].http) == standin_gets
