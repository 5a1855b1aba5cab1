"""The API's questions about who may do what, and its service account tokens.

Create-only kinds, answered and never stored, as on a real API server:

- ``SelfSubjectAccessReview`` (``kubectl auth can-i VERB RESOURCE``),
  ``SubjectAccessReview`` and ``LocalSubjectAccessReview``: always allowed, because the
  sandbox has no RBAC, and the reason says so and what a real cluster does instead.
- ``SelfSubjectRulesReview`` (``kubectl auth can-i --list``): every verb on everything.
- ``SelfSubjectReview`` (``kubectl auth whoami``): the caller, as its token says.
- ``TokenReview``: whether a token is one of this sandbox's, and whose.
- ``serviceaccounts/NAME/token`` (``kubectl create token NAME``): a ``TokenRequest`` answered
  with a signed token the API accepts as that service account (``identity.py``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from tutor.sandbox import errors
from tutor.sandbox.identity import (
    DEFAULT_TOKEN_SECONDS,
    ISSUER,
    MAX_TOKEN_SECONDS,
    MIN_TOKEN_SECONDS,
    AccountLookup,
    Credentials,
    User,
)
from tutor.sandbox.objects import Obj

ALLOWED_REASON = (
    "the k8s-tutor sandbox has no RBAC: it allows every request of its kubeconfig's user and of its "
    "service accounts; on a real cluster, Roles and RoleBindings decide"
)
REVIEW_KINDS = frozenset(
    {
        "SelfSubjectAccessReview",
        "SubjectAccessReview",
        "LocalSubjectAccessReview",
        "SelfSubjectRulesReview",
        "SelfSubjectReview",
        "TokenReview",
    }
)


def _now(clock: Callable[[], float]) -> str:
    return datetime.datetime.fromtimestamp(clock(), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _answer(body: Obj, status: Obj, clock: Callable[[], float]) -> Obj:
    metadata = dict(body.get("metadata") or {})
    metadata["creationTimestamp"] = _now(clock)
    return {**body, "metadata": metadata, "status": status}


def review(body: Obj, user: User, credentials: Credentials, accounts: AccountLookup) -> Obj:
    """The answer to a review of kind ``body["kind"]`` (one of :data:`REVIEW_KINDS`) asked by ``user``."""
    kind = body.get("kind")
    spec = body.get("spec") or {}
    clock = credentials.clock
    if kind in ("SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview"):
        if not spec.get("resourceAttributes") and not spec.get("nonResourceAttributes"):
            raise errors.invalid(
                str(kind),
                "authorization.k8s.io",
                "",
                [
                    (
                        "spec.resourceAttributes",
                        'Invalid value: "null": exactly one of nonResourceAttributes or '
                        "resourceAttributes must be specified",
                    )
                ],
            )
        return _answer(body, {"allowed": True, "reason": ALLOWED_REASON}, clock)
    if kind == "SelfSubjectRulesReview":
        return _answer(
            body,
            {
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": False,
            },
            clock,
        )
    if kind == "SelfSubjectReview":
        return _answer(body, {"userInfo": user.to_json()}, clock)
    if kind == "TokenReview":
        token = str(spec.get("token") or "")
        reviewed = credentials.authenticate(token, accounts)
        if reviewed is None:
            return _answer(body, {"authenticated": False, "user": {}, "error": "invalid bearer token"}, clock)
        return _answer(
            body,
            {"authenticated": True, "user": reviewed.to_json(), "audiences": spec.get("audiences") or [ISSUER]},
            clock,
        )
    raise errors.bad_request(f"{kind} is not a review the sandbox answers")


def token_request(
    body: Obj,
    account: Obj,
    credentials: Credentials,
    bound: Callable[[str, str], Obj | None],
) -> Obj:
    """The answer to ``POST serviceaccounts/NAME/token``: the request with a signed token.

    ``bound(kind, name)`` finds the object a token is bound to (a Pod or a Secret in the
    account's namespace), or None.
    """
    spec = dict(body.get("spec") or {})
    meta = account["metadata"]
    name, namespace = str(meta["name"]), str(meta["namespace"])
    seconds = spec.get("expirationSeconds")
    seconds = DEFAULT_TOKEN_SECONDS if seconds is None else seconds
    if not isinstance(seconds, int) or seconds < MIN_TOKEN_SECONDS or seconds > MAX_TOKEN_SECONDS:
        limit = (
            "less than 10 minutes"
            if isinstance(seconds, int) and seconds < MIN_TOKEN_SECONDS
            else "larger than 2^32 seconds"
        )
        raise errors.invalid(
            "TokenRequest",
            "authentication.k8s.io",
            name,
            [("spec.expirationSeconds", f"Invalid value: {seconds}: may not specify a duration {limit}")],
        )
    audiences = [str(a) for a in spec.get("audiences") or [ISSUER]]
    reference = spec.get("boundObjectRef")
    bound_to: Any = None
    if reference:
        kind, object_name = str(reference.get("kind", "")), str(reference.get("name", ""))
        if kind not in ("Pod", "Secret", "Node"):
            raise errors.invalid(
                "TokenRequest",
                "authentication.k8s.io",
                name,
                [
                    (
                        "spec.boundObjectRef.kind",
                        f'Unsupported value: "{kind}": supported values: "Pod", "Secret", "Node"',
                    )
                ],
            )
        target = bound(kind, object_name)
        if target is None:
            plural = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}[kind]
            raise errors.not_found(plural, "", object_name)
        uid = str(target["metadata"].get("uid", ""))
        if reference.get("uid") and reference["uid"] != uid:
            raise errors.conflict(
                "serviceaccounts",
                "",
                name,
                f"the UID in the bound object reference ({reference['uid']}) does "
                f"not match the UID in record. The object might have been deleted and then recreated",
            )
        bound_to = {"kind": kind, "name": object_name, "uid": uid}
    issued = credentials.issue(
        namespace, name, str(meta.get("uid", "")), seconds=seconds, audiences=audiences, bound=bound_to
    )
    spec["audiences"] = audiences
    spec["expirationSeconds"] = seconds
    expires = datetime.datetime.fromtimestamp(issued.expires, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer: Obj = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": _now(credentials.clock)},
        "spec": spec,
        "status": {"token": issued.token, "expirationTimestamp": expires},
    }
    return answer
