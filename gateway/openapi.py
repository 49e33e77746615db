"""The OpenAPI 3.0 document, generated from the same descriptors as the routes.

Schemas follow the codec's JSON rules exactly: enums are string enums of the
lowercase names, int64 is an integer, timestamps are date-time strings, fields
with presence (and enums whose zero value is *_UNSPECIFIED) are nullable,
embedded-JSON fields accept any JSON value. Every field of a response is always
present, so response schemas list them all as required.

The protos say the rest: summaries and descriptions are their comments
(gateway/comments.py); request fields marked `(google.api.field_behavior) =
REQUIRED` are required (a required list: at least one item); the
`annotation.v1` field options `max_length`, `pattern` and `minimum` become
maxLength, pattern and minimum; a download's media types are the
`media_types` of its response's content_type field. Error statuses are those
of the one error table (annotation_api.errors.ERROR_STATUS) and of the
gateway's own failures.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from annotation.v1 import options_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from annotation_api.enum_names import enum_names, is_unset_value
from annotation_api.errors import ERROR_STATUS
from gateway import scalars
from gateway.codec import JSON_VALUE_TYPES, TIMESTAMP, is_embedded_json
from gateway.comments import comment_of, first_sentence
from gateway.descriptors import (
    RouteKind,
    RpcRoute,
    body_required,
    enum_type_of,
    is_map_field,
    is_required,
    message_type_of,
)
from gateway.errors import GATEWAY_STATUS
from gateway.event_stream import LAST_EVENT_ID_FIELD
from gateway.uploads import FILE_FIELD

Schema = dict[str, Any]

ANY_JSON = "any JSON value"

ERROR_SCHEMA: Schema = {
    "type": "object",
    "description": "The body of every error answer.",
    "required": ["error_code", "message", "details"],
    "properties": {
        "error_code": {"type": "string", "example": "PROJECT_NOT_FOUND"},
        "message": {"type": "string"},
        "details": {"type": "object", "additionalProperties": True},
    },
}
DOWNLOAD_FALLBACK_TYPE = "application/octet-stream"


def error_statuses() -> dict[str, str]:
    """HTTP status -> the error codes answered with it, from the error tables."""
    codes: dict[int, list[str]] = {}
    for code, (status, _) in ERROR_STATUS.items():
        codes.setdefault(status, []).append(str(code))
    for gateway_code, status in GATEWAY_STATUS.items():
        codes.setdefault(status, []).append(str(gateway_code))
    return {
        str(status): "error_code " + " or ".join(names) for status, names in sorted(codes.items())
    }


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and the same request from the same token's user "
    "returns the first response and creates nothing (kept 24 hours); the same key with a "
    "different request is 409 IDEMPOTENCY_CONFLICT.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}

LAST_EVENT_ID_PARAMETER: dict[str, Any] = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "The id of the last event received, when the stream is resumed (a browser's "
    "EventSource sends it by itself): the stream's event ids continue above it. Wins over the "
    "last_event_id query parameter.",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}

_INTEGER_FORMATS = {
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_SINT32: "int32",
    FieldDescriptor.TYPE_SFIXED32: "int32",
    FieldDescriptor.TYPE_UINT32: "int64",
    FieldDescriptor.TYPE_FIXED32: "int64",
}


class _SchemaBuilder:
    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {"ErrorResponse": ERROR_SCHEMA}

    def message(
        self, descriptor: Descriptor, *, response: bool, skip: tuple[str, ...] = ()
    ) -> Schema:
        """Register the message (and what it uses); return a reference to it."""
        name = descriptor.name + ("Body" if skip else "")
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursive types terminate
            properties = {
                f.name: self.field(f, response=response)
                for f in descriptor.fields
                if f.name not in skip
            }
            schema: Schema = {"type": "object", "properties": properties}
            description = comment_of(descriptor.full_name)
            if description:
                schema["description"] = description
            required = (
                list(properties)
                if response
                else [f.name for f in descriptor.fields if f.name in properties and is_required(f)]
            )
            if required:
                schema["required"] = required
            self.schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def field(self, field: FieldDescriptor, *, response: bool) -> Schema:
        """The field's schema, with its proto comment as description."""
        schema = self._field(field, response=response)
        description = comment_of(field.full_name)
        if not description:
            return schema
        if "$ref" in schema:
            # A $ref's siblings are ignored in OpenAPI 3.0: wrap it to describe it.
            return {"allOf": [schema], "description": description}
        if schema.get("description") == ANY_JSON:
            description = f"{description} ({ANY_JSON})"
        return {**schema, "description": description}

    def _field(self, field: FieldDescriptor, *, response: bool) -> Schema:
        if is_map_field(field):
            value_field = message_type_of(field).fields_by_name["value"]
            return {
                "type": "object",
                "additionalProperties": self.single(value_field, response=response),
            }
        schema = {**self.single(field, response=response), **limits_of(field)}
        if not response and is_required(field):
            schema = without_null(schema)  # a required field cannot be left unset
        if field.is_repeated:
            array: Schema = {"type": "array", "items": schema}
            if not response and is_required(field):
                array["minItems"] = 1
            if field.GetOptions().Extensions[options_pb2.unique_items]:
                array["uniqueItems"] = True
            if not response and not is_required(field):
                array["nullable"] = True  # null is read as no items, as an absent field
            return array
        # null is read as an absent field: in a request, any optional field may be null
        nullable = field.has_presence or (not response and not is_required(field))
        if nullable and "$ref" in schema:
            return {"allOf": [schema], "nullable": True}
        if nullable:
            schema = {**schema, "nullable": True}
            if "enum" in schema and None not in schema["enum"]:
                schema["enum"] = [*schema["enum"], None]
        return schema

    def single(self, field: FieldDescriptor, *, response: bool) -> Schema:
        kind = field.type
        if kind == FieldDescriptor.TYPE_MESSAGE:
            message_type = message_type_of(field)
            name = message_type.full_name
            if name == TIMESTAMP:
                return {"type": "string", "format": "date-time", "example": "2026-02-03T10:30:00Z"}
            if name in JSON_VALUE_TYPES:
                return {"description": ANY_JSON}
            return self.message(message_type, response=response)
        if kind == FieldDescriptor.TYPE_ENUM:
            return enum_schema(field)
        if kind == FieldDescriptor.TYPE_STRING:
            if is_embedded_json(field):
                return {"description": ANY_JSON, "nullable": True}
            return {"type": "string"}
        if kind == FieldDescriptor.TYPE_BOOL:
            return {"type": "boolean"}
        if kind == FieldDescriptor.TYPE_BYTES:
            return {"type": "string", "format": "byte"}
        if kind in scalars.INTEGER_TYPES:
            return {"type": "integer", "format": _INTEGER_FORMATS.get(kind, "int64")}
        if kind in scalars.FLOAT_TYPES:
            return {"type": "number", "format": "double"}
        raise TypeError(f"{field.full_name}: no OpenAPI mapping")


def limits_of(field: FieldDescriptor) -> Schema:
    """minLength, maxLength, pattern, minimum and maximum from the field's annotation.v1
    options (the server reads its limits from the same options: server/field_limits.py)."""
    options = field.GetOptions()
    limits: Schema = {}
    if options.HasExtension(options_pb2.min_length):
        limits["minLength"] = options.Extensions[options_pb2.min_length]
    if options.HasExtension(options_pb2.max_length):
        limits["maxLength"] = options.Extensions[options_pb2.max_length]
    if options.HasExtension(options_pb2.pattern):
        limits["pattern"] = options.Extensions[options_pb2.pattern]
    if options.HasExtension(options_pb2.minimum):
        limits["minimum"] = options.Extensions[options_pb2.minimum]
    if options.HasExtension(options_pb2.maximum):
        limits["maximum"] = options.Extensions[options_pb2.maximum]
    return limits


def media_types_of(message: Descriptor) -> list[str]:
    """The media types a download answers with: its fields' `media_types` options."""
    found: list[str] = []
    for field in message.fields:
        found += field.GetOptions().Extensions[options_pb2.media_types]
    return found


def without_null(schema: Schema) -> Schema:
    """The schema without null among its values (a required field, or a text field of a
    query or a form, where null cannot be written)."""
    schema = {key: value for key, value in schema.items() if key != "nullable"}
    if "enum" in schema:
        schema["enum"] = [value for value in schema["enum"] if value is not None]
    elif "type" not in schema and "$ref" not in schema and "allOf" not in schema:
        schema["not"] = {"enum": [None]}  # any JSON value but null
    return schema


def enum_schema(field: FieldDescriptor) -> Schema:
    enum = enum_type_of(field)
    values: list[Any] = list(enum_names(enum).values())
    schema: Schema = {"type": "string", "enum": values, "title": enum.name}
    if any(is_unset_value(enum, v.number) for v in enum.values):
        schema["nullable"] = True
        schema["enum"] = [*values, None]
    return schema


def build_openapi(routes: list[RpcRoute], *, title: str) -> dict[str, Any]:
    """The whole document for the given routes."""
    builder = _SchemaBuilder()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.http_method.lower()] = _operation(route, builder)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": _package_version(),
            "description": "REST gateway of the annotation platform. Every route is the "
            "google.api.http mapping of a gRPC method; errors share one body.",
        },
        "paths": paths,
        "components": {
            "schemas": builder.schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }


def _operation(route: RpcRoute, builder: _SchemaBuilder) -> dict[str, Any]:
    request = route.request_type
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": builder.single(request.fields_by_name[name], response=False),
        }
        for name in route.path_params
    ]
    comment = comment_of(route.method.full_name)
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "tags": [route.service.name],
        "summary": first_sentence(comment) or route.method.name,
        "description": f"{comment}\n\ngRPC {route.method.full_name}".lstrip(),
    }
    text_fields = [
        f
        for f in request.fields
        if f.name not in route.path_params and f.name != "chunk" and _is_text_field(f)
    ]
    if route.kind == RouteKind.UPLOAD:
        form = {FILE_FIELD: {"type": "string", "format": "binary"}}
        form.update({f.name: without_null(builder.field(f, response=False)) for f in text_fields})
        required = [FILE_FIELD, *(f.name for f in text_fields if is_required(f))]
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": required, "properties": form}
                }
            },
        }
    elif route.body == "*":
        schema = builder.message(request, response=False, skip=route.path_params)
        operation["requestBody"] = {
            "required": body_required(route),
            "content": {"application/json": {"schema": schema}},
        }
    elif route.body:
        schema = builder.field(request.fields_by_name[route.body], response=False)
        operation["requestBody"] = {
            "required": body_required(route),
            "content": {"application/json": {"schema": schema}},
        }
    if route.body != "*" or route.kind == RouteKind.UPLOAD:
        parameters += [
            {
                "name": f.name,
                "in": "query",
                "required": is_required(f),
                "schema": without_null(builder.field(f, response=False)),
            }
            for f in text_fields
            if f.name != route.body
        ]
    if route.kind == RouteKind.EVENT_STREAM and LAST_EVENT_ID_FIELD in request.fields_by_name:
        parameters.append(LAST_EVENT_ID_PARAMETER)
    idempotent = bool(route.method.GetOptions().Extensions[options_pb2.idempotency_key])
    if idempotent:
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {"200": _success(route, builder), **_errors()}
    return operation


def _success(route: RpcRoute, builder: _SchemaBuilder) -> dict[str, Any]:
    if route.kind == RouteKind.EVENT_STREAM:
        schema = builder.message(route.response_type, response=True)
        return {
            "description": "Server-Sent Events: one event per message, `id:` its event_id, "
            "`data:` its JSON (below); `event: error` with the error body ends the stream "
            "after a failure; comment lines keep an idle connection open",
            "content": {"text/event-stream": {"schema": schema}},
        }
    if route.kind == RouteKind.DOWNLOAD:
        binary = {"schema": {"type": "string", "format": "binary"}}
        # The file's own media type, or octet-stream when the server names none.
        media_types = [*media_types_of(route.response_type), DOWNLOAD_FALLBACK_TYPE]
        return {
            "description": "The file's bytes, with the file's media type",
            "headers": {
                "Content-Disposition": {"schema": {"type": "string"}},
                "Content-Length": {"schema": {"type": "integer"}},
            },
            # A JSON export is any JSON document; the other files are bytes.
            "content": {
                media_type: {"schema": {}} if media_type == "application/json" else binary
                for media_type in media_types
            },
        }
    schema = builder.message(route.response_type, response=True)
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _errors() -> dict[str, Any]:
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    return {
        status: {"description": text, "content": body} for status, text in error_statuses().items()
    }


def _is_text_field(field: FieldDescriptor) -> bool:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return message_type_of(field).full_name == TIMESTAMP and not field.is_repeated
    return not (field.type == FieldDescriptor.TYPE_STRING and is_embedded_json(field))


def _package_version() -> str:
    try:
        return version("annotation-api")
    except PackageNotFoundError:
        return "0"
