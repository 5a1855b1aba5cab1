"""The sandbox's data files (``tutor/sandbox/data/*.yaml``), shipped inside the package.

Behaviour that is a fact about minikube or the images rather than logic lives there:
the image catalogue, a fresh cluster's objects, the addons' objects. Callers parse a
file once per process and keep the result (``functools.cache``); reading is libyaml's
when PyYAML has it, several times faster than the pure-Python parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when PyYAML has it


def load_yaml(name: str) -> Any:
    """One YAML document from the data folder."""
    with (DATA / name).open("rb") as stream:
        return yaml.load(stream, Loader=_Loader)


def load_yaml_all(name: str) -> list[Any]:
    """Every document of a multi-document YAML file, empty ones left out."""
    with (DATA / name).open("rb") as stream:
        return [doc for doc in yaml.load_all(stream, Loader=_Loader) if doc]
