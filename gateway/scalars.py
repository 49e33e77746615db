"""JSON spellings of protobuf scalars, enums and timestamps.

Each `decode_*` turns a JSON value (as orjson parses it) into what a generated
message constructor accepts, and raises `CodecError` with an empty field path
when the value has the wrong JSON type; the message codec prepends the path.
Each `parse_*` does the same for text from a URL path, query string or form.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from annotation.v1 import options_pb2
from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor

from annotation_api.enum_names import enum_names, is_unset_value
from annotation_api.errors import ErrorCode

Decoder = Callable[[Any], Any]


class CodecError(Exception):
    """A request value that does not fit its field; answered as HTTP 400.

    `path` is built while the error propagates out of nested messages and
    lists, so the happy path never pays for tracking where it is.
    """

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode = ErrorCode.INVALID_REQUEST,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra: dict[str, Any] = details or {}
        self.path: deque[str | int] = deque()

    @property
    def field(self) -> str:
        """The path of the offending field, e.g. `data[3].content`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text

    @property
    def details(self) -> dict[str, Any]:
        return {"field": self.field, **self.extra} if self.path else dict(self.extra)


_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}


def wrong_type(expected: str, value: Any) -> CodecError:
    received = _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
    return CodecError(
        f"expected {expected}, got {received}",
        details={"expected": expected, "received": received},
    )


# ---- strings, bools, bytes -------------------------------------------------


def decode_string(value: Any) -> str:
    if value.__class__ is str:
        return value
    raise wrong_type("string", value)


def decode_bool(value: Any) -> bool:
    if value.__class__ is bool:
        return value
    raise wrong_type("boolean", value)


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise CodecError(
        f"expected a boolean (true or false), got {text!r}",
        details={"expected": "boolean", "received": text},
    )


def decode_bytes(value: Any) -> bytes:
    if value.__class__ is not str:
        raise wrong_type("base64 string", value)
    try:
        padded = value + "=" * (-len(value) % 4)
        if "-" in value or "_" in value:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise CodecError("expected base64", details={"expected": "base64 string"}) from None


def encode_bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


# ---- numbers ---------------------------------------------------------------

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
INTEGER_TYPES = frozenset(_INT_RANGES)
FLOAT_TYPES = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})


def integer_decoder(field_type: int) -> Decoder:
    low, high = _INT_RANGES[field_type]

    def decode_integer(value: Any) -> int:
        cls = value.__class__
        if cls is float and value.is_integer():
            value = int(value)
        elif cls is not int:
            raise wrong_type("integer", value)
        if low <= value <= high:
            return value  # type: ignore[no-any-return]
        raise CodecError(
            f"integer out of range [{low}, {high}]",
            details={"expected": "integer", "minimum": low, "maximum": high},
        )

    return decode_integer


def integer_parser(field_type: int) -> Decoder:
    decode = integer_decoder(field_type)

    def parse_integer(text: str) -> int:
        try:
            number = int(text.strip())
        except ValueError:
            raise CodecError(
                f"expected an integer, got {text!r}",
                details={"expected": "integer", "received": text},
            ) from None
        return decode(number)  # type: ignore[no-any-return]

    return parse_integer


def decode_float(value: Any) -> float:
    cls = value.__class__
    if cls is float or cls is int:
        return float(value)
    raise wrong_type("number", value)


def parse_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise CodecError(
            f"expected a number, got {text!r}", details={"expected": "number", "received": text}
        ) from None


# ---- enums -----------------------------------------------------------------


def enum_decoder(enum: EnumDescriptor) -> Decoder:
    numbers = {name: number for number, name in enum_names(enum).items()}
    supported = list(numbers)
    code_name = enum.GetOptions().Extensions[options_pb2.invalid_value_error_code]
    code = ErrorCode(code_name) if code_name else ErrorCode.INVALID_REQUEST

    def decode_enum(value: Any) -> int:
        number = numbers.get(value) if value.__class__ is str else None
        if number is not None:
            return number
        if value.__class__ is not str:
            raise wrong_type("string", value) from None
        raise CodecError(
            f"unsupported value {value!r}; supported: {', '.join(supported)}",
            code=code,
            details={"value": value, "supported": supported},
        )

    return decode_enum


def enum_encoder(enum: EnumDescriptor) -> Callable[[int], str | int | None]:
    names: dict[int, str | int | None] = dict(enum_names(enum))
    names.update({v.number: None for v in enum.values if is_unset_value(enum, v.number)})

    def encode_enum(number: int) -> str | int | None:
        # An open enum may carry a number this gateway does not know yet.
        return names.get(number, number)

    return encode_enum


# ---- timestamps ------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decode_timestamp(value: Any) -> dict[str, int]:
    """RFC 3339 text with an explicit offset -> Timestamp fields."""
    if value.__class__ is not str:
        raise wrong_type("RFC 3339 timestamp string", value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise CodecError(
            f"expected an RFC 3339 timestamp with a time zone, got {value!r}",
            details={"expected": "timestamp, e.g. 2026-02-03T10:30:00Z", "received": value},
        )
    delta = moment - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return {"seconds": seconds, "nanos": delta.microseconds * 1000}


def format_timestamp(seconds: int, nanos: int) -> str:
    """ISO 8601 UTC with "Z"; 3, 6 or 9 fractional digits only when non-zero."""
    try:
        parts = time.gmtime(seconds)
    except (OverflowError, OSError, ValueError):
        parts = (_EPOCH + timedelta(seconds=seconds)).timetuple()
    year, month, day, hour, minute, second = parts[:6]
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if nanos:
        if nanos % 1_000_000 == 0:
            text += f".{nanos // 1_000_000:03d}"
        elif nanos % 1000 == 0:
            text += f".{nanos // 1000:06d}"
        else:
            text += f".{nanos:09d}"
    return text + "Z"
