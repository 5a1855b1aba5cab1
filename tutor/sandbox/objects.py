"""Small helpers on API objects held as plain JSON-like dicts."""

from __future__ import annotations

import random
import string
import time
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

# The alphabet Kubernetes uses for generated name suffixes and pod-template-hashes:
# no vowels, so no words, and no look-alike characters.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def clone(value: Any) -> Any:
    """A deep copy of JSON data, several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def clone_obj(obj: Obj) -> Obj:
    """:func:`clone` for an object, typed as one."""
    copied: Obj = clone(obj)
    return copied


def rfc3339(ts: float | None = None) -> str:
    """``2024-05-01T10:00:00Z``: second precision, as the API server writes timestamps."""
    when = time.time() if ts is None else ts
    return datetime.fromtimestamp(int(when), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(ts: float | None = None) -> str:
    when = time.time() if ts is None else ts
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> float | None:
    if not text:
        return None
    text = text.rstrip("Z")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None


def random_suffix(n: int = 5, rng: random.Random | None = None) -> str:
    r = rng or random
    return "".join(r.choice(SAFE_ALPHABET) for _ in range(n))


def meta(obj: Obj) -> Obj:
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def name_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def namespace_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def uid_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def annotations_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def controller_of(obj: Obj) -> Obj | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def owner_ref(owner: Obj, *, controller: bool = True, block: bool = True) -> Obj:
    ref: Obj = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name_of(owner),
        "uid": uid_of(owner),
    }
    if controller:
        ref["controller"] = True
    if block:
        ref["blockOwnerDeletion"] = True
    return ref


def is_deleting(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def condition(obj: Obj, type_: str) -> Obj | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return None


def merge_conditions(old: list[Obj] | None, new: list[Obj], now: str) -> list[Obj]:
    """New conditions keep their old lastTransitionTime while their status is unchanged.

    Without that, every reconcile would write a fresh timestamp and never converge.
    """
    previous = {c.get("type"): c for c in old or []}
    out = []
    for cond in new:
        before = previous.get(cond["type"])
        c = dict(cond)
        if "lastTransitionTime" in c:
            if before is not None and before.get("status") == c["status"]:
                c["lastTransitionTime"] = before.get("lastTransitionTime", now)
            else:
                c["lastTransitionTime"] = now
        if "lastUpdateTime" in c:
            if before is not None and all(before.get(k) == c.get(k) for k in ("status", "reason", "message")):
                c["lastUpdateTime"] = before.get("lastUpdateTime", now)
            else:
                c["lastUpdateTime"] = now
        if "lastHeartbeatTime" in c and before is not None and before.get("status") == c["status"]:
            c["lastHeartbeatTime"] = before.get("lastHeartbeatTime", now)
        out.append(c)
    return out


_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "m": 0.001,
}


def parse_quantity(text: Any) -> float:
    """``1Gi`` -> 1073741824.0; a malformed quantity counts as 0."""
    s = str(text).strip()
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if suffix and s.endswith(suffix):
            try:
                return float(s[: -len(suffix)]) * _UNITS[suffix]
            except ValueError:
                return 0.0
    try:
        return float(s)
    except ValueError:
        return 0.0


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(value: int) -> str:
    """Kubernetes' rand.SafeEncodeString of a number, as in pod-template-hash labels."""
    digits = str(value)
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in digits)


def random_hex(n: int, rng: random.Random | None = None) -> str:
    r = rng or random
    return "".join(r.choice(string.hexdigits[:16]) for _ in range(n))
