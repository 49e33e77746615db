"""The OpenAPI 3.0 document, generated from the same descriptors as the routes.

Schemas follow the codec's JSON rules exactly: enums are string enums of the
lowercase names, int64 is an integer, timestamps are date-time strings, fields
with presence (and enums whose zero value is *_UNSPECIFIED) are nullable,
embedded-JSON fields accept any JSON value. Every field of a response is always
present, so response schemas list them all as required.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from annotation.v1 import options_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway import scalars
from gateway.codec import JSON_VALUE_TYPES, TIMESTAMP, is_embedded_json
from gateway.descriptors import (
    RouteKind,
    RpcRoute,
    enum_type_of,
    is_map_field,
    message_type_of,
)
from gateway.uploads import FILE_FIELD

Schema = dict[str, Any]

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
_ERROR_STATUSES = {
    "400": "Invalid request (malformed JSON, wrong types, unknown enum values, rule violations)",
    "401": "Missing, unknown or revoked token",
    "403": "The token's user may not call this API",
    "404": "Not found (or not visible to this token)",
    "413": "Body or upload over the configured limit",
    "500": "Internal error",
    "503": "The annotation server is unavailable",
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
            if response:
                schema["required"] = list(properties)
            self.schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def field(self, field: FieldDescriptor, *, response: bool) -> Schema:
        if is_map_field(field):
            value_field = message_type_of(field).fields_by_name["value"]
            return {
                "type": "object",
                "additionalProperties": self.single(value_field, response=response),
            }
        schema = self.single(field, response=response)
        if field.is_repeated:
            return {"type": "array", "items": schema}
        if field.has_presence and "$ref" in schema:
            return {"allOf": [schema], "nullable": True}
        if field.has_presence:
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
                return {"description": "any JSON value"}
            return self.message(message_type, response=response)
        if kind == FieldDescriptor.TYPE_ENUM:
            return enum_schema(field)
        if kind == FieldDescriptor.TYPE_STRING:
            if is_embedded_json(field):
                return {"description": "any JSON value", "nullable": True}
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


def enum_schema(field: FieldDescriptor) -> Schema:
    enum = enum_type_of(field)
    values: list[Any] = list(scalars.enum_json_names(enum).values())
    schema: Schema = {"type": "string", "enum": values, "title": enum.name}
    if any(scalars.is_unset_value(enum, v.number) for v in enum.values):
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
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "tags": [route.service.name],
        "summary": route.method.name,
        "description": f"gRPC {route.method.full_name}",
    }
    text_fields = [
        f
        for f in request.fields
        if f.name not in route.path_params and f.name != "chunk" and _is_text_field(f)
    ]
    if route.kind == RouteKind.UPLOAD:
        form = {FILE_FIELD: {"type": "string", "format": "binary"}}
        form.update({f.name: builder.field(f, response=False) for f in text_fields})
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": [FILE_FIELD], "properties": form}
                }
            },
        }
    elif route.body == "*":
        schema = builder.message(request, response=False, skip=route.path_params)
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    elif route.body:
        schema = builder.field(request.fields_by_name[route.body], response=False)
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    if route.body != "*" or route.kind == RouteKind.UPLOAD:
        parameters += [
            {
                "name": f.name,
                "in": "query",
                "required": False,
                "schema": builder.field(f, response=False),
            }
            for f in text_fields
            if f.name != route.body
        ]
    idempotent = bool(route.method.GetOptions().Extensions[options_pb2.idempotency_key])
    if idempotent:
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {"200": _success(route, builder), **_errors()}
    if idempotent:
        operation["responses"]["409"] = {
            "description": "IDEMPOTENCY_CONFLICT: the Idempotency-Key was used for a different "
            "request, or its first request is still running",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
            },
        }
    return operation


def _success(route: RpcRoute, builder: _SchemaBuilder) -> dict[str, Any]:
    if route.kind == RouteKind.DOWNLOAD:
        return {
            "description": "The file's bytes",
            "headers": {
                "Content-Disposition": {"schema": {"type": "string"}},
                "Content-Length": {"schema": {"type": "integer"}},
            },
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    schema = builder.message(route.response_type, response=True)
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _errors() -> dict[str, Any]:
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    return {
        status: {"description": text, "content": body} for status, text in _ERROR_STATUSES.items()
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
