"""The API server's TLS certificate: a fresh key and a self-signed certificate per sandbox.

kubectl sends a kubeconfig's credentials only over TLS ("only try to read the auth
information if we are secure", client-go's client_config.go), so the sandbox's API speaks
HTTPS with a certificate made when the sandbox starts: an ECDSA P-256 key, a certificate
for 127.0.0.1 and localhost signed by that key and valid for a year, which the kubeconfig
names as its only certificate authority. Nobody else holds the key, so a program that
takes the port after the sandbox stops cannot pass for it and receive the token.

Pure Python (the standard library has no way to make a key or a certificate): the P-256
arithmetic of SEC 1 / FIPS 186-4 in Jacobian coordinates and the few DER structures of an
X.509 v3 certificate (RFC 5280). It takes a few milliseconds.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import ipaddress
import os
import secrets
import ssl
import textwrap
from dataclasses import dataclass
from pathlib import Path

# ---- P-256 (secp256r1) -------------------------------------------------------------

_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)

_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (0, 1, 0)


def _double(point: _Jacobian) -> _Jacobian:
    x, y, z = point
    if z == 0 or y == 0:
        return _INFINITY
    # a = -3: m = 3 (x - z^2)(x + z^2)
    zz = z * z % _P
    m = 3 * (x - zz) * (x + zz) % _P
    yy = y * y % _P
    s = 4 * x * yy % _P
    nx = (m * m - 2 * s) % _P
    ny = (m * (s - nx) - 8 * yy * yy) % _P
    nz = 2 * y * z % _P
    return nx, ny, nz


def _add(p: _Jacobian, q: _Jacobian) -> _Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1z1, z2z2 = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2z2 % _P, x2 * z1z1 % _P
    s1, s2 = y1 * z2 * z2z2 % _P, y2 * z1 * z1z1 % _P
    if u1 == u2:
        return _double(p) if s1 == s2 else _INFINITY
    h = (u2 - u1) % _P
    r = (s2 - s1) % _P
    hh = h * h % _P
    hhh = h * hh % _P
    v = u1 * hh % _P
    nx = (r * r - hhh - 2 * v) % _P
    ny = (r * (v - nx) - s1 * hhh) % _P
    nz = h * z1 * z2 % _P
    return nx, ny, nz


def _multiply(k: int, point: tuple[int, int]) -> tuple[int, int]:
    """k * point, in affine coordinates."""
    result = _INFINITY
    addend: _Jacobian = (point[0], point[1], 1)
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _double(addend)
        k >>= 1
    return _affine(result)


def _affine(point: _Jacobian) -> tuple[int, int]:
    x, y, z = point
    if z == 0:
        raise ValueError("the point at infinity has no affine coordinates")
    z_inv = pow(z, -1, _P)
    zz = z_inv * z_inv % _P
    return x * zz % _P, y * zz * z_inv % _P


_base_table: list[list[_Jacobian]] = []


def _multiply_base(k: int) -> tuple[int, int]:
    """k * G with a table of G's multiples per 4-bit window: 64 additions, no doubling.

    The table is built on first use (about three plain multiplications' worth of work) and
    serves every key and signature the process makes after that.
    """
    if not _base_table:
        base: _Jacobian = (_G[0], _G[1], 1)
        for _window in range(64):
            row = [_INFINITY, base]
            for _j in range(2, 16):
                row.append(_add(row[-1], base))
            _base_table.append(row)
            for _d in range(4):
                base = _double(base)
    result = _INFINITY
    for window in range(64):
        digit = (k >> (4 * window)) & 0xF
        if digit:
            result = _add(result, _base_table[window][digit])
    return _affine(result)


def on_curve(point: tuple[int, int]) -> bool:
    x, y = point
    return (y * y - (x * x * x - 3 * x + _B)) % _P == 0


def _sign(private: int, message: bytes) -> tuple[int, int]:
    """ECDSA over SHA-256 with a fresh random nonce."""
    z = int.from_bytes(hashlib.sha256(message).digest(), "big")
    while True:
        k = secrets.randbelow(_N - 1) + 1
        r = _multiply_base(k)[0] % _N
        if r == 0:
            continue
        s = pow(k, -1, _N) * (z + r * private) % _N
        if s != 0:
            return r, s


def verify(public: tuple[int, int], message: bytes, signature: tuple[int, int]) -> bool:
    """ECDSA verification (for tests of this module)."""
    r, s = signature
    if not (0 < r < _N and 0 < s < _N):
        return False
    z = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, -1, _N)
    a = _multiply(z * w % _N, _G)
    b = _multiply(r * w % _N, public)
    x, _y, zc = _add((a[0], a[1], 1), (b[0], b[1], 1))
    if zc == 0:
        return False
    z_inv = pow(zc, -1, _P)
    return x * z_inv * z_inv % _P % _N == r


# ---- DER ---------------------------------------------------------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _int(value: int) -> bytes:
    data = value.to_bytes(value.bit_length() // 8 + 1, "big")  # a leading 0 keeps it positive
    while len(data) > 1 and data[0] == 0 and data[1] < 0x80:
        data = data[1:]
    return _tlv(0x02, data)


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _bits(data: bytes) -> bytes:
    return _tlv(0x03, b"\x00" + data)


def _explicit(number: int, content: bytes) -> bytes:
    return _tlv(0xA0 | number, content)


def _time(moment: datetime.datetime) -> bytes:
    if moment.year < 2050:
        return _tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


def _name(common_name: str) -> bytes:
    return _seq(_tlv(0x31, _seq(_oid("2.5.4.3"), _tlv(0x0C, common_name.encode()))))


def _extension(oid: str, value: bytes, *, critical: bool = False) -> bytes:
    flag = _tlv(0x01, b"\xff") if critical else b""
    return _seq(_oid(oid), flag, _tlv(0x04, value))


def _pem(label: str, der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


_ECDSA_SHA256 = _seq(_oid("1.2.840.10045.4.3.2"))
_P256 = "1.2.840.10045.3.1.7"


@dataclass(frozen=True)
class ServerCertificate:
    """A key and its self-signed certificate, in PEM."""

    certificate_pem: str
    key_pem: str


def make_server_certificate(
    common_name: str = "k8s-tutor-sandbox",
    *,
    ip: str = "127.0.0.1",
    dns: str = "localhost",
    days: int = 365,
    now: datetime.datetime | None = None,
) -> ServerCertificate:
    """A fresh P-256 key and a certificate for ``ip`` and ``dns`` that is its own CA."""
    private = secrets.randbelow(_N - 1) + 1
    public = _multiply_base(private)
    point = b"\x04" + public[0].to_bytes(32, "big") + public[1].to_bytes(32, "big")
    moment = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
    key_id = hashlib.sha1(point).digest()  # RFC 5280's method (1) for a key identifier
    san = _seq(_tlv(0x87, ipaddress.ip_address(ip).packed), _tlv(0x82, dns.encode()))
    extensions = _seq(
        _extension("2.5.29.15", _tlv(0x03, b"\x02\x84"), critical=True),  # digitalSignature, keyCertSign
        _extension("2.5.29.37", _seq(_oid("1.3.6.1.5.5.7.3.1"))),  # serverAuth
        _extension("2.5.29.19", _seq(_tlv(0x01, b"\xff")), critical=True),  # CA: it signs itself
        _extension("2.5.29.14", _tlv(0x04, key_id)),
        _extension("2.5.29.17", san),
    )
    tbs = _seq(
        _explicit(0, _int(2)),
        _int(secrets.randbits(127) | 1 << 126),
        _ECDSA_SHA256,
        _name(common_name),
        _seq(_time(moment - datetime.timedelta(hours=1)), _time(moment + datetime.timedelta(days=days))),
        _name(common_name),
        _seq(_seq(_oid("1.2.840.10045.2.1"), _oid(_P256)), _bits(point)),
        _explicit(3, extensions),
    )
    r, s = _sign(private, tbs)
    certificate = _seq(tbs, _ECDSA_SHA256, _bits(_seq(_int(r), _int(s))))
    key = _seq(_int(1), _tlv(0x04, private.to_bytes(32, "big")), _explicit(0, _oid(_P256)), _explicit(1, _bits(point)))
    return ServerCertificate(_pem("CERTIFICATE", certificate), _pem("EC PRIVATE KEY", key))


def server_context(certificate: ServerCertificate, folder: Path) -> ssl.SSLContext:
    """A TLS server context for ``certificate``, HTTP/1.1 only (what aiohttp speaks).

    ``ssl`` loads keys from files only: the key touches ``folder`` (which only its owner
    may read) for as long as loading takes.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    cert_path = folder / f".tls-{os.getpid()}-{secrets.token_hex(4)}.crt"
    key_path = cert_path.with_suffix(".key")
    try:
        for path, text in ((cert_path, certificate.certificate_pem), (key_path, certificate.key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
        context.load_cert_chain(cert_path, key_path)
    finally:
        for path in (cert_path, key_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return context
