"""Who is calling the sandbox's API: its credentials, the users they stand for, and the
service account tokens it issues (`kubectl create token`).

A sandbox makes one random bearer token when it is created and writes it into its
kubeconfig, which only the learner may read; that token is the cluster's admin, named
``minikube-user`` in ``system:masters`` as on a minikube cluster. A TokenRequest
(``serviceaccounts/NAME/token``) issues a signed token for a service account, which the
API accepts as that account for as long as the token lives and the account exists with
the same uid, as a real API server does. Tokens are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tutor.sandbox.access import same_secret

ISSUER = "https://kubernetes.default.svc.cluster.local"
"""minikube's --service-account-issuer, also the default audience of its tokens."""
DEFAULT_TOKEN_SECONDS = 3600
MIN_TOKEN_SECONDS = 600
MAX_TOKEN_SECONDS = 2**32


@dataclass(frozen=True)
class User:
    """An authenticated user, as a SelfSubjectReview shows it."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        info: dict[str, Any] = {"username": self.username}
        if self.uid:
            info["uid"] = self.uid
        if self.groups:
            info["groups"] = list(self.groups)
        if self.extra:
            info["extra"] = {key: list(values) for key, values in self.extra.items()}
        return info


ADMIN = User("minikube-user", groups=("system:masters", "system:authenticated"))

# (namespace, name) -> the service account's uid, or None when it does not exist
AccountLookup = Callable[[str, str], "str | None"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Credentials:
    """One sandbox's secrets: the kubeconfig's bearer token and the token signing key."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.admin_token = secrets.token_urlsafe(32)
        self._key = secrets.token_bytes(32)
        self._key_id = _b64(hashlib.sha256(self._key).digest()[:12])

    def __repr__(self) -> str:  # never show a secret in a traceback or a log
        return "Credentials(<secret>)"

    def authenticate(self, token: str, accounts: AccountLookup) -> User | None:
        """The user a bearer token stands for, or None: not ours, expired, or its account gone."""
        if not token:
            return None
        if same_secret(token, self.admin_token):
            return ADMIN
        claims = self._verify(token)
        if claims is None:
            return None
        k8s = claims.get("kubernetes.io") or {}
        account = k8s.get("serviceaccount") or {}
        namespace, name = str(k8s.get("namespace", "")), str(account.get("name", ""))
        if not namespace or not name or accounts(namespace, name) != account.get("uid"):
            return None
        extra = {"authentication.kubernetes.io/credential-id": (f"JTI={claims.get('jti', '')}",)}
        return User(
            f"system:serviceaccount:{namespace}:{name}",
            uid=str(account.get("uid", "")),
            groups=("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
            extra=extra,
        )

    def issue(
        self,
        namespace: str,
        name: str,
        uid: str,
        *,
        seconds: int,
        audiences: list[str],
        bound: Mapping[str, Any] | None = None,
    ) -> IssuedToken:
        """A signed token for service account ``namespace/name`` (a JWT, as the real one)."""
        now = int(self.clock())
        k8s: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
        if bound:
            kind = str(bound.get("kind", "")).lower()
            k8s[kind or "object"] = {"name": bound.get("name", ""), "uid": bound.get("uid", "")}
        claims = {
            "aud": audiences,
            "exp": now + seconds,
            "iat": now,
            "iss": ISSUER,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": k8s,
            "nbf": now,
            "sub": f"system:serviceaccount:{namespace}:{name}",
        }
        header = {"alg": "HS256", "kid": self._key_id, "typ": "JWT"}
        signing_input = (
            _b64(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return IssuedToken(signing_input + "." + _b64(signature), float(now + seconds))

    def _verify(self, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(parts[2]), expected):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            return None
        if not isinstance(claims, dict):
            return None
        now = self.clock()
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            return None
        return claims
