"""No network but loopback, for tests that hand the tutor kubeconfigs: a guard on
`socket.connect` fails any test that tries to reach an address outside 127.0.0.0/8 and
::1, even to see it fail (the context guard must refuse remote clusters before any
connection is attempted)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest


def _check(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise AssertionError(f"a test tried to connect to {host}: only loopback is allowed")


def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `socket.connect` fail the test for any address outside 127.0.0.0/8 and ::1."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
