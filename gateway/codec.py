"""One generic JSON <-> protobuf codec, driven by message descriptors.

The JSON rules (the REST contract of every route):

* field names are the proto field names (snake_case);
* integers of every width, int64 included, are JSON numbers; double is a number;
* enums are lowercase strings: TASK_TYPE_IMAGE_CLASSIFICATION of TaskType is
  "image_classification"; the zero value named *_UNSPECIFIED is null;
* google.protobuf.Timestamp is ISO 8601 UTC with "Z", fractional digits only
  when non-zero;
* fields with presence (proto3 `optional`, message fields, oneof members) are
  null when unset, and are never dropped from a response;
* string fields marked `(annotation.v1.embedded_json)` carry JSON text over
  gRPC and the JSON value itself over REST;
* bytes are base64;
* in requests, null means "not given", and fields the message does not have are
  ignored (like most REST APIs, so that clients may send extra keys).

Decoding builds plain constructor keyword arguments and lets the generated
(upb, C) message constructor build nested messages in one call: this keeps a
200,000-task init request well under a second. `google.protobuf.json_format`
is deliberately not used: it is pure Python and several times slower.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from annotation.v1 import options_pb2
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from gateway import scalars
from gateway.descriptors import enum_type_of, is_map_field, message_type_of
from gateway.scalars import CodecError, Decoder, wrong_type

Encoder = Callable[[Any], Any]

TIMESTAMP = "google.protobuf.Timestamp"
JSON_VALUE_TYPES = frozenset(
    {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
)

__all__ = ["CodecError", "MessageCodec", "message_codec", "parse_json"]


def is_embedded_json(field: FieldDescriptor) -> bool:
    return bool(field.GetOptions().Extensions[options_pb2.embedded_json])


def real_oneof_name(field: FieldDescriptor) -> str | None:
    """The oneof a field belongs to, ignoring proto3 `optional`'s synthetic one."""
    oneof = field.containing_oneof
    if oneof is None or (len(oneof.fields) == 1 and oneof.name == "_" + field.name):
        return None
    return str(oneof.name)


def parse_json(raw: bytes | bytearray | str) -> Any:
    """Parse a request body; malformed JSON is a 400 naming where it broke."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CodecError(
            f"malformed JSON: {exc.msg}",
            details={"field": "body", "line": exc.lineno, "column": exc.colno},
        ) from None


class MessageCodec:
    """JSON <-> one message type; obtain instances with `message_codec()`."""

    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor
        self.message_class: type[Message] = GetMessageClass(descriptor)
        # Filled by _compile(), called by message_codec().
        self._decoders: dict[str, Decoder] = {}
        self._encoders: list[tuple[str, bool, Encoder | None]] = []
        self._oneofs: dict[str, list[str]] = {}
        self._text_parsers: dict[str, Decoder] = {}

    # ---- requests ----------------------------------------------------------

    def build(self, kwargs: dict[str, Any]) -> Message:
        """A message from keyword arguments produced by this codec."""
        return self.message_class(**kwargs)

    def decode_kwargs(self, value: Any) -> dict[str, Any]:
        """A parsed JSON object -> constructor keyword arguments."""
        if value.__class__ is not dict:
            raise wrong_type("object", value)
        decoders = self._decoders
        kwargs: dict[str, Any] = {}
        for key, item in value.items():
            decode = decoders.get(key)
            if decode is None or item is None:
                continue  # unknown fields are ignored; null means "not given"
            try:
                kwargs[key] = decode(item)
            except CodecError as exc:
                exc.path.appendleft(key)
                raise
        if self._oneofs:
            self._check_oneofs(kwargs)
        return kwargs

    def plain_text_fields(self) -> tuple[str, ...] | None:
        """The embedded JSON fields when every field of the type is a singular string
        (such a type's JSON objects can go to the message constructor almost as they
        are, see `trust_plain_items`); None for any other type."""
        fields = self.descriptor.fields
        if self._oneofs or any(
            f.type != FieldDescriptor.TYPE_STRING or f.is_repeated for f in fields
        ):
            return None
        return tuple(f.name for f in fields if is_embedded_json(f))

    def field_decoder(self, name: str) -> Decoder:
        """How a field's JSON value becomes its constructor argument."""
        return self._decoders[name]

    def _check_oneofs(self, kwargs: dict[str, Any]) -> None:
        for group, members in self._oneofs.items():
            given = [name for name in members if name in kwargs]
            if len(given) > 1:
                error = CodecError(
                    f"only one of {', '.join(members)} may be given",
                    details={"oneof": group, "given": given},
                )
                error.path.append(given[1])
                raise error

    def text_parser(self, name: str) -> Decoder | None:
        """How a top-level scalar field is read from path, query or form text.

        Returns None for fields that text cannot carry (messages, maps, JSON).
        The parser takes a list of strings: one for singular fields, any
        number for repeated ones (`?tag=a&tag=b`).
        """
        return self._text_parsers.get(name)

    def parse_text(self, name: str, texts: list[str]) -> Any:
        parse = self._text_parsers[name]
        try:
            return parse(texts)
        except CodecError as exc:
            exc.path.appendleft(name)
            raise

    # ---- responses ---------------------------------------------------------

    def encode(self, message: Message) -> dict[str, Any]:
        """A message -> a JSON-ready dict with every field present."""
        out: dict[str, Any] = {}
        for name, has_presence, encode in self._encoders:
            if has_presence and not message.HasField(name):
                out[name] = None
                continue
            value = getattr(message, name)
            out[name] = value if encode is None else encode(value)
        return out

    def to_json(self, message: Message) -> bytes:
        return orjson.dumps(self.encode(message))

    # ---- compilation -------------------------------------------------------

    def _compile(self) -> None:
        for field in self.descriptor.fields:
            decode, encode = _field_converters(field)
            self._decoders[field.name] = decode
            has_presence = field.has_presence and not field.is_repeated
            self._encoders.append((field.name, has_presence, encode))
            group = real_oneof_name(field)
            if group:
                self._oneofs.setdefault(group, []).append(field.name)
            parse = _text_parser(field)
            if parse is not None:
                self._text_parsers[field.name] = parse


_codecs: dict[str, MessageCodec] = {}


def message_codec(descriptor: Descriptor) -> MessageCodec:
    """The (cached) codec of a message type."""
    codec = _codecs.get(descriptor.full_name)
    if codec is None:
        # Registered before compiling, so that a recursive message type finds
        # its own codec (complete by the time it is called).
        codec = _codecs[descriptor.full_name] = MessageCodec(descriptor)
        try:
            codec._compile()
        except Exception:
            del _codecs[descriptor.full_name]
            raise
    return codec


# ---- per-field converters --------------------------------------------------


def _field_converters(field: FieldDescriptor) -> tuple[Decoder, Encoder | None]:
    if is_map_field(field):
        return _map_converters(field)
    decode, encode = _single_converters(field)
    if not field.is_repeated:
        return decode, encode
    return _list_decoder(decode), _list_encoder(encode)


def _single_converters(field: FieldDescriptor) -> tuple[Decoder, Encoder | None]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        return _message_converters(message_type_of(field))
    if kind == FieldDescriptor.TYPE_ENUM:
        enum = enum_type_of(field)
        return scalars.enum_decoder(enum), scalars.enum_encoder(enum)
    if kind == FieldDescriptor.TYPE_STRING:
        if is_embedded_json(field):
            return _decode_embedded_json, _encode_embedded_json
        return scalars.decode_string, None
    if kind == FieldDescriptor.TYPE_BOOL:
        return scalars.decode_bool, None
    if kind == FieldDescriptor.TYPE_BYTES:
        return scalars.decode_bytes, scalars.encode_bytes
    if kind in scalars.INTEGER_TYPES:
        return scalars.integer_decoder(kind), None
    if kind in scalars.FLOAT_TYPES:
        return scalars.decode_float, None
    raise TypeError(f"{field.full_name}: field type {kind} has no JSON mapping")


def _message_converters(descriptor: Descriptor) -> tuple[Decoder, Encoder]:
    name = descriptor.full_name
    if name == TIMESTAMP:
        return scalars.decode_timestamp, _encode_timestamp
    if name in JSON_VALUE_TYPES:
        return _json_value_decoder(descriptor), json_format.MessageToDict
    if name.startswith("google.protobuf.") and name != "google.protobuf.Empty":
        raise TypeError(f"{name} has no JSON mapping in this gateway yet")
    codec = message_codec(descriptor)
    return codec.decode_kwargs, codec.encode


def _json_value_decoder(descriptor: Descriptor) -> Decoder:
    """Struct, Value and ListValue: rare, so the library's converter is fine."""
    message_class = GetMessageClass(descriptor)
    expected = {"Struct": "object", "ListValue": "array"}.get(descriptor.name, "JSON value")

    def decode_json_value(value: Any) -> Message:
        try:
            return json_format.ParseDict(value, message_class())
        except json_format.ParseError:
            raise wrong_type(expected, value) from None

    return decode_json_value


def _list_decoder(decode_item: Decoder) -> Decoder:
    def decode_list(value: Any) -> list[Any]:
        if value.__class__ is not list:
            raise wrong_type("array", value)
        out: list[Any] = []
        append = out.append
        try:
            for item in value:
                append(decode_item(item))
        except CodecError as exc:
            exc.path.appendleft(len(out))
            raise
        return out

    return decode_list


def _list_encoder(encode_item: Encoder | None) -> Encoder:
    if encode_item is None:
        return list
    return lambda values: [encode_item(v) for v in values]


def _map_converters(field: FieldDescriptor) -> tuple[Decoder, Encoder]:
    entry = message_type_of(field)
    key_field = entry.fields_by_name["key"]
    value_field = entry.fields_by_name["value"]
    parse_key = _text_parser(key_field) or (lambda texts: texts[0])
    decode_value, encode_value = _single_converters(value_field)
    encode_value = encode_value or (lambda v: v)

    def decode_map(value: Any) -> dict[Any, Any]:
        if value.__class__ is not dict:
            raise wrong_type("object", value)
        out: dict[Any, Any] = {}
        for key, item in value.items():
            try:
                out[parse_key([key])] = decode_value(item)
            except CodecError as exc:
                exc.path.appendleft(key)
                raise
        return out

    def encode_map(value: Any) -> dict[str, Any]:
        return {
            str(k).lower() if isinstance(k, bool) else str(k): encode_value(v)
            for k, v in value.items()
        }

    return decode_map, encode_map


def trust_plain_items(items: list[Any], embedded: tuple[str, ...]) -> list[Any]:
    """Parsed JSON objects of a type with `plain_text_fields`, made ready for the
    message constructor: copies whose embedded JSON values are text.

    The constructor then checks the rest itself, in C: a value of a wrong type
    or an unknown key makes it raise, and the caller decodes the (untouched)
    items again the careful way (`decode_kwargs`), which ignores unknown keys or
    names the offending field. A null is "not given" for both. Raises TypeError
    for an item that is not an object.
    """
    if not embedded:
        if any(item.__class__ is not dict for item in items):
            raise TypeError("an item is not an object")
        return items
    dumps = orjson.dumps
    ready: list[Any] = []
    append = ready.append
    for item in items:
        if item.__class__ is not dict:
            raise TypeError("an item is not an object")
        copy = item.copy()
        for name in embedded:
            value = copy.get(name)
            if value is not None:
                copy[name] = dumps(value).decode()
        append(copy)
    return ready


def _decode_embedded_json(value: Any) -> str:
    """The JSON text of the value, passed on to the server, which judges its depth.

    orjson stops serialising at 255 levels; the standard library goes deeper,
    so the gateway can still pass such a value on to be refused with its field
    named. Only a value too deep for either is answered here, with the same
    error the server would give.
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        raise CodecError("the JSON value is nested too deeply") from None


def _encode_embedded_json(text: str) -> Any:
    # The server validated this text when it stored it, so it is spliced into
    # the response as is instead of being parsed and serialized again.
    return orjson.Fragment(text) if text else None


def _encode_timestamp(value: Any) -> str:
    return scalars.format_timestamp(value.seconds, value.nanos)


def _text_parser(field: FieldDescriptor) -> Decoder | None:
    """A parser from a list of strings, or None when text cannot carry the field."""
    kind = field.type
    parse_one: Decoder
    if kind == FieldDescriptor.TYPE_STRING and not is_embedded_json(field):
        parse_one = scalars.decode_string
    elif kind == FieldDescriptor.TYPE_ENUM:
        parse_one = scalars.enum_decoder(enum_type_of(field))
    elif kind == FieldDescriptor.TYPE_BOOL:
        parse_one = scalars.parse_bool
    elif kind == FieldDescriptor.TYPE_BYTES:
        parse_one = scalars.decode_bytes
    elif kind in scalars.INTEGER_TYPES:
        parse_one = scalars.integer_parser(kind)
    elif kind in scalars.FLOAT_TYPES:
        parse_one = scalars.parse_float
    elif kind == FieldDescriptor.TYPE_MESSAGE and message_type_of(field).full_name == TIMESTAMP:
        parse_one = scalars.decode_timestamp
    else:
        return None
    if field.is_repeated:
        return lambda texts: [parse_one(t) for t in texts]
    return lambda texts: parse_one(texts[-1])
