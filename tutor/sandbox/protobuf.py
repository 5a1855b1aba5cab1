"""Reading the Kubernetes protobuf encoding: what kubectl >= 1.32 sends for typed commands.

A body of ``Content-Type: application/vnd.kubernetes.protobuf`` is the 4 bytes ``k8s\\0``
and a ``runtime.Unknown`` message: ``typeMeta`` (1: apiVersion 1, kind 2), ``raw`` (2, the
object's own message), ``contentEncoding`` (3) and ``contentType`` (4). The object's
message is decoded with the field tables of ``data/protobuf.yaml`` (made from the API's
``generated.proto`` files by ``tools/gen_protobuf_tables.py``) into the JSON the same
object would have been: JSON names, inlined structs flattened, zero values left out where
Go's JSON leaves them out, and the types that write their own JSON (Time, Quantity,
IntOrString, RawExtension...) written their way.

Pure Python: the protobuf wire format is five wire types and varints.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from tutor.sandbox.objects import Obj

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_TIME = _META + "Time"
_MICRO_TIME = _META + "MicroTime"
_DURATION = _META + "Duration"
_FIELDS = _META + "FieldsV1"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_RAW = "k8s.io.apimachinery.pkg.runtime.RawExtension"
_APIEXT = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1."

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_SIGNED = {"int32", "int64"}
_NUMERIC = {"int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "double", "float"}


class ProtobufError(ValueError):
    """A body that is not the protobuf it claims to be; the message says what is wrong."""


class UnknownKind(ProtobufError):
    """A well-formed body of a kind the sandbox has no field table for."""


@dataclass(frozen=True)
class Field:
    json: str  # "" for a struct inlined into its parent
    type: str  # a scalar or a message name
    repeated: bool = False
    map_key: str | None = None
    keep_zero: bool = False
    go_type: str = ""  # as Go names it in decoding errors
    flags: tuple[str, ...] = ()  # "patch=merge", "mergekey=name", "list=map", "listkey=name"...


@dataclass(frozen=True)
class Tables:
    kinds: dict[tuple[str, str], str]
    messages: dict[str, dict[int, Field]]


_tables: Tables | None = None
_tables_lock = threading.Lock()


def _parse_type(text: str) -> tuple[str, bool, str | None]:
    if text.startswith("[]"):
        return text[2:], True, None
    if text.startswith("map["):
        key, _, value = text[4:].partition("]")
        return value, False, key
    return text, False, None


def tables() -> Tables:
    """The field tables, read on first use (most sandboxes never see protobuf)."""
    global _tables
    with _tables_lock:
        if _tables is None:
            text = resources.files("tutor.sandbox").joinpath("data/protobuf.yaml").read_text()
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            kinds: dict[tuple[str, str], str] = {}
            for key, value in data["kinds"].items():
                api_version, _, kind = key.partition(" ")
                kinds[(api_version, kind)] = value
            messages: dict[str, dict[int, Field]] = {}
            for name, fields in data["messages"].items():
                table: dict[int, Field] = {}
                for number, (json_name, type_text, go_type, *flags) in (fields or {}).items():
                    type_, repeated, map_key = _parse_type(type_text)
                    table[int(number)] = Field(
                        str(json_name),
                        type_,
                        repeated,
                        map_key,
                        "keep" in flags,
                        str(go_type),
                        tuple(str(f) for f in flags if f != "keep"),
                    )
                messages[name] = table
            _tables = Tables(kinds, messages)
        return _tables


# ---- the wire format -------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("the body ends inside a number")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("a number is longer than 10 bytes")


def wire_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of a message: an int, or bytes for length-delimited."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("a field numbered 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
            yield number, wire, value
        elif wire == _BYTES:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ProtobufError("a field runs past the end of the body")
            yield number, wire, buf[pos : pos + size]
            pos += size
        elif wire == _FIXED64:
            if pos + 8 > len(buf):
                raise ProtobufError("the body ends inside a 64-bit field")
            yield number, wire, int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == _FIXED32:
            if pos + 4 > len(buf):
                raise ProtobufError("the body ends inside a 32-bit field")
            yield number, wire, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise ProtobufError(f"wire type {wire} (field {number}) is not one the API uses")


def _scalar(type_: str, wire: int, value: int | bytes) -> Any:
    if isinstance(value, bytes):
        if type_ == "string":
            try:
                return value.decode()
            except UnicodeDecodeError:
                raise ProtobufError("a string field is not UTF-8") from None
        if type_ == "bytes":
            return base64.b64encode(value).decode()
        raise ProtobufError(f"a {type_} field arrived length-delimited")
    if type_ in ("string", "bytes"):
        raise ProtobufError(f"a {type_} field arrived as a number")
    if type_ == "bool":
        return value != 0
    if type_ == "double":
        import struct

        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if type_ == "float":
        import struct

        return struct.unpack("<f", value.to_bytes(4, "little"))[0]
    if type_ in ("sint32", "sint64"):
        return (value >> 1) ^ -(value & 1)
    if type_ in _SIGNED and value >= 1 << 63:
        value -= 1 << 64
    if type_ == "int32" and not -(1 << 31) <= value < 1 << 31:
        raise ProtobufError("an int32 field is out of range")
    return value


def _packed(type_: str, data: bytes) -> list[Any]:
    out: list[Any] = []
    pos = 0
    if type_ in ("double", "float"):
        size = 8 if type_ == "double" else 4
        wire = _FIXED64 if size == 8 else _FIXED32
        for start in range(0, len(data) - len(data) % size, size):
            out.append(_scalar(type_, wire, int.from_bytes(data[start : start + size], "little")))
        return out
    while pos < len(data):
        value, pos = _varint(data, pos)
        out.append(_scalar(type_, _VARINT, value))
    return out


# ---- messages with a JSON form of their own ----------------------------------------------


def _time(fields: dict[str, Any], micro: bool) -> str | None:
    seconds, nanos = int(fields.get("seconds", 0)), int(fields.get("nanos", 0))
    if seconds == 0 and nanos == 0:
        return None  # the zero time: JSON null, left out
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(fields: dict[str, Any]) -> str:
    """Go's time.Duration.String() of a count of nanoseconds."""
    total = int(fields.get("duration", 0))
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if total >= size:
                return sign + f"{total / size:g}{unit}"
    hours, rest = divmod(total, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = f"{rest / 1e9:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _raw_json(buf: bytes) -> Any:
    """RawExtension and FieldsV1: JSON bytes in field 1."""
    raw = next((value for number, _wire, value in wire_fields(buf) if number == 1 and isinstance(value, bytes)), b"")
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ProtobufError("an embedded object is not JSON") from None


# ---- decoding ----------------------------------------------------------------------------


class Decoder:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._special: dict[str, Callable[[bytes], Any]] = {
            _TIME: lambda b: _time(self._plain(_TIME, b), micro=False),
            _MICRO_TIME: lambda b: _time(self._plain(_MICRO_TIME, b), micro=True),
            _DURATION: lambda b: _duration(self._plain(_DURATION, b)),
            _QUANTITY: lambda b: self._plain(_QUANTITY, b).get("string", ""),
            _INT_OR_STRING: self._int_or_string,
            _RAW: _raw_json,
            _FIELDS: _raw_json,
            # A CRD's schema: these write themselves as a value, a bool or a list.
            _APIEXT + "JSON": _raw_json,
            _APIEXT + "JSONSchemaPropsOrBool": lambda b: self._either(b, "JSONSchemaPropsOrBool"),
            _APIEXT + "JSONSchemaPropsOrArray": lambda b: self._either(b, "JSONSchemaPropsOrArray"),
            _APIEXT + "JSONSchemaPropsOrStringArray": lambda b: self._either(b, "JSONSchemaPropsOrStringArray"),
        }

    def _either(self, buf: bytes, name: str) -> Any:
        """The schema if there is one, else the other alternative (a bool, a list)."""
        fields = self.message(_APIEXT + name, buf)
        if "schema" in fields:
            return fields["schema"]
        if name == "JSONSchemaPropsOrBool":
            return bool(fields.get("allows", False))
        return next((value for key, value in fields.items() if key != "schema"), [])

    def _plain(self, name: str, buf: bytes) -> dict[str, Any]:
        """A message's fields by name, zero values included (for the special ones)."""
        table = self.tables.messages.get(name, {})
        out: dict[str, Any] = {}
        for number, wire, value in wire_fields(buf):
            field = table.get(number)
            if field is not None:
                out[field.json] = _scalar(field.type, wire, value)
        return out

    def _int_or_string(self, buf: bytes) -> int | str:
        fields = self._plain(_INT_OR_STRING, buf)
        if int(fields.get("type", 0)) == 1:
            return str(fields.get("strVal", ""))
        return int(fields.get("intVal", 0))

    def value(self, type_: str, wire: int, value: int | bytes) -> Any:
        if type_ in self.tables.messages:
            if not isinstance(value, bytes):
                raise ProtobufError(f"a {type_.rsplit('.', 1)[-1]} field arrived as a number")
            special = self._special.get(type_)
            return special(value) if special is not None else self.message(type_, value)
        return _scalar(type_, wire, value)

    def message(self, name: str, buf: bytes) -> Obj:
        table = self.tables.messages[name]
        out: Obj = {}
        inlined: list[Obj] = []
        for number, wire, value in wire_fields(buf):
            field = table.get(number)
            if field is None:
                continue  # a field newer than our tables: ignored, as protobuf does
            if field.map_key is not None:
                if not isinstance(value, bytes):
                    raise ProtobufError(f"map field {field.json} arrived as a number")
                entry = {n: (w, v) for n, w, v in wire_fields(value)}
                key = _scalar(field.map_key, *entry[1]) if 1 in entry else ""
                item = self.value(field.type, *entry[2]) if 2 in entry else self._zero(field.type)
                out.setdefault(field.json, {})[key] = item
            elif field.repeated:
                items = out.setdefault(field.json, [])
                if wire == _BYTES and field.type in _NUMERIC and isinstance(value, bytes):
                    items.extend(_packed(field.type, value))
                else:
                    items.append(self.value(field.type, wire, value))
            elif field.json == "":
                decoded = self.value(field.type, wire, value)
                if isinstance(decoded, dict):
                    inlined.append(decoded)
            else:
                decoded = self.value(field.type, wire, value)
                if decoded is None or (not field.keep_zero and self._is_zero(field.type, decoded)):
                    out.pop(field.json, None)
                else:
                    out[field.json] = decoded
        for part in inlined:
            for key, item in part.items():
                out.setdefault(key, item)
        return out

    def _is_zero(self, type_: str, value: Any) -> bool:
        if type_ == _INT_OR_STRING:
            return bool(value == 0)
        if type_ in self.tables.messages:
            return False  # a struct is written even when empty
        return bool(value in ("", 0))  # False == 0: a false bool is zero too

    def _zero(self, type_: str) -> Any:
        if type_ in self.tables.messages:
            return self.value(type_, _BYTES, b"")
        return {"string": "", "bytes": "", "bool": False}.get(type_, 0)


@dataclass(frozen=True)
class Envelope:
    api_version: str
    kind: str
    raw: bytes
    content_encoding: str
    content_type: str


def envelope(body: bytes) -> Envelope:
    """Split a protobuf body into its type and the object's bytes (``runtime.Unknown``)."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the protobuf magic bytes k8s\\x00")
    fields = {number: value for number, _wire, value in wire_fields(body[len(MAGIC) :])}
    type_meta = fields.get(1, b"")
    if not isinstance(type_meta, bytes):
        raise ProtobufError("the body's type is not a message")
    names = {number: value for number, _wire, value in wire_fields(type_meta)}

    def text(source: dict[int, int | bytes], number: int) -> str:
        value = source.get(number, b"")
        if not isinstance(value, bytes):
            raise ProtobufError(f"field {number} of the envelope is not a string")
        return value.decode(errors="replace")

    raw = fields.get(2, b"")
    if not isinstance(raw, bytes):
        raise ProtobufError("the body's object is not bytes")
    return Envelope(text(names, 1), text(names, 2), raw, text(fields, 3), text(fields, 4))


def decode(body: bytes) -> Obj:
    """The JSON form of a protobuf body; UnknownKind for a kind without tables."""
    wrapped = envelope(body)
    if wrapped.content_encoding:
        raise ProtobufError(f"content encoding {wrapped.content_encoding!r} is not supported")
    if wrapped.content_type and wrapped.content_type != MEDIA_TYPE:
        raise ProtobufError(f"an embedded {wrapped.content_type} object is not supported")
    known = tables()
    name = known.kinds.get((wrapped.api_version, wrapped.kind))
    if name is None and wrapped.kind == "DeleteOptions":
        name = known.kinds.get(("meta/v1", "DeleteOptions"))
    if name is None:
        raise UnknownKind(f"{wrapped.kind} ({wrapped.api_version or 'no apiVersion'})")
    obj = Decoder(known).message(name, wrapped.raw)
    return {"apiVersion": wrapped.api_version, "kind": wrapped.kind, **obj}
