"""Where a lesson runs: the platform as the machine describes itself, and conditions on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lesson.place import ALWAYS, BACKENDS, PLATFORMS, Place, When, current_platform, detect_platform, parse_names

WSL2_KERNEL = "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 11.2.0) #1 SMP"
WSL1_KERNEL = "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #1237-Microsoft"
DEBIAN_KERNEL = "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0)"


@pytest.mark.parametrize(
    ("system", "proc_version", "environ", "expected"),
    [
        ("Darwin", "", {}, "macos"),
        ("Windows", "", {}, "windows"),
        ("CYGWIN_NT-10.0-19045", "", {}, "windows"),
        ("MSYS_NT-10.0", "", {}, "windows"),
        ("Linux", WSL2_KERNEL, {}, "wsl2"),
        ("Linux", WSL1_KERNEL, {}, "wsl2"),
        # A kernel of one's own inside WSL2 may not say so; WSL still sets these.
        ("Linux", DEBIAN_KERNEL, {"WSL_DISTRO_NAME": "Ubuntu-22.04"}, "wsl2"),
        ("Linux", DEBIAN_KERNEL, {"WSL_INTEROP": "/run/WSL/8_interop"}, "wsl2"),
        ("Linux", DEBIAN_KERNEL, {}, "linux"),
        ("Linux", "", {"WSL_DISTRO_NAME": ""}, "linux"),
        ("FreeBSD", "", {}, "linux"),
    ],
)
def test_the_platform_is_read_from_what_the_machine_says(
    system: str, proc_version: str, environ: dict[str, str], expected: str
) -> None:
    assert detect_platform(system, proc_version, environ) == expected


def test_this_machine_has_a_platform_even_without_proc_version(tmp_path: Path) -> None:
    assert current_platform(tmp_path / "no-such-file") in PLATFORMS
    wsl = tmp_path / "version"
    wsl.write_text(WSL2_KERNEL)
    import platform

    if platform.system() == "Linux":
        assert current_platform(wsl) == "wsl2"
    assert Place.here(sandbox=True).backend == "sandbox"
    assert Place.here(sandbox=False).backend == "real"


def test_a_condition_applies_where_all_its_parts_do() -> None:
    sandbox_anywhere = When(backends=("sandbox",))
    real_on_wsl = When(backends=("real",), platforms=("wsl2",))
    for backend in BACKENDS:
        for platform in PLATFORMS:
            place = Place(backend, platform)
            assert ALWAYS.applies(place)
            assert sandbox_anywhere.applies(place) == (backend == "sandbox")
            assert real_on_wsl.applies(place) == (backend == "real" and platform == "wsl2")
    assert str(real_on_wsl) == "backend=real platform=wsl2"


def test_nested_conditions_narrow_and_contradictions_apply_nowhere() -> None:
    outer = When(backends=("real",))
    assert When(platforms=("linux", "macos")).within(outer) == When(("real",), ("linux", "macos"))
    assert When(platforms=("macos",)).within(When(platforms=("linux", "macos"))) == When((), ("macos",))
    assert When(backends=("sandbox",)).within(outer) is None
    assert ALWAYS.within(outer) == outer


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("minikube", "unknown backend 'minikube'; known: sandbox, real"),
        ("real,", "'backend' needs a name, or several separated by ','"),
        ("", "'backend' needs a name"),
        ("real,real", "'backend' names 'real' twice"),
    ],
)
def test_bad_names_are_explained(text: str, problem: str) -> None:
    names, found = parse_names(text, BACKENDS, "backend")
    assert names == ()
    assert found is not None and found.startswith(problem)


def test_several_names_are_read_in_order() -> None:
    assert parse_names("wsl2, macos", PLATFORMS, "platform") == (("wsl2", "macos"), None)
