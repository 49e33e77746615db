"""Which REST routes exist: read from the `google.api.http` annotations.

Every service of the annotation.v1 package is inspected; each RPC with an
annotation (and each of its additional_bindings) becomes an `RpcRoute`. RPCs
without one get no route. Streaming RPCs are served by convention, inferred
from the shape of their messages rather than from their names:

* a server stream whose response has `file_name`, `content_type` and a bytes
  `chunk` is a file download;
* a client stream whose request has a bytes `chunk` is a multipart upload;
* any other server stream (with an unary request) is an event stream, served
  as Server-Sent Events (gateway/event_stream.py): each message is one event,
  its `event_id` field (when the response has one) the event's `id:`, and the
  `Last-Event-ID` header fills the request's `last_event_id` field (when it
  has one).

An unary RPC marked `(annotation.v1.streamed_field) = "<field>"` is a streamed
JSON body: its route documents and answers as the RPC does, but the gateway
calls the client-streaming sibling `<Method>Stream`, feeding it the body's
other fields and then the named repeated field's items in batches as it parses
them (gateway/streamed_body.py). The sibling's request and response messages
must have the RPC's fields (same names, numbers and types), checked here.
The RPC's required fields lead the stream: a body that gives one of them only
after the streamed field is parsed whole first (see `leading_fields`).

Any other streaming RPC with an annotation, and a streamed field without its
sibling, is a programming error and stops the gateway at start-up, so it is
caught by the first test that builds the app.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from annotation.v1 import options_pb2
from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    FileDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)

API_PACKAGE = "annotation.v1"
_PATH_PARAM = re.compile(r"\{([^}]*)\}")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class RouteKind(StrEnum):
    UNARY = "unary"
    DOWNLOAD = "download"
    UPLOAD = "upload"
    STREAMED_BODY = "streamed_body"
    EVENT_STREAM = "event_stream"


@dataclass(frozen=True)
class RpcRoute:
    """One REST route and the RPC it calls."""

    service: ServiceDescriptor
    method: MethodDescriptor
    http_method: str  # upper case
    path: str  # Starlette/OpenAPI template, e.g. /api/x/{project_id}
    body: str  # "" (no body), "*" (the whole request) or a field name
    kind: RouteKind
    path_params: tuple[str, ...]
    # STREAMED_BODY only: the repeated request field whose items are streamed,
    # and the client-streaming RPC the gateway calls with them.
    streamed_field: str = ""
    stream_method: MethodDescriptor | None = None

    @property
    def grpc_path(self) -> str:
        return f"/{self.service.full_name}/{self.method.name}"

    @property
    def request_type(self) -> Descriptor:
        return self.method.input_type

    @property
    def response_type(self) -> Descriptor:
        return self.method.output_type

    @property
    def operation_id(self) -> str:
        suffix = "" if self.is_primary else f"_{self.http_method.lower()}"
        return f"{self.service.name}_{self.method.name}{suffix}"

    @property
    def is_primary(self) -> bool:
        rule = self.method.GetOptions().Extensions[annotations_pb2.http]
        return _rule_pattern(rule) == (self.http_method, self.path)


@cache
def api_files(package: str = API_PACKAGE) -> tuple[FileDescriptor, ...]:
    """Import every generated module of the package and return its files."""
    root = importlib.import_module(package)
    files: list[FileDescriptor] = []
    for module_info in pkgutil.iter_modules(root.__path__):
        if not module_info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"{package}.{module_info.name}")
        descriptor = getattr(module, "DESCRIPTOR", None)
        if isinstance(descriptor, FileDescriptor) and descriptor.package == package:
            files.append(descriptor)
    return tuple(files)


def discover_routes(package: str = API_PACKAGE) -> list[RpcRoute]:
    """Every annotated RPC of every service of the package, in declaration order."""
    routes: list[RpcRoute] = []
    for file in api_files(package):
        for service in file.services_by_name.values():
            for method in service.methods:
                options = method.GetOptions()
                if not options.HasExtension(annotations_pb2.http):
                    continue
                rule = options.Extensions[annotations_pb2.http]
                for binding in [rule, *rule.additional_bindings]:
                    routes.append(_route(service, method, binding))
    return routes


def _rule_pattern(rule: http_pb2.HttpRule) -> tuple[str, str]:
    kind = rule.WhichOneof("pattern")
    if kind in _HTTP_METHODS:
        return kind.upper(), getattr(rule, kind)
    if kind == "custom":
        return rule.custom.kind.upper(), rule.custom.path
    raise ValueError(f"http rule without a pattern: {rule}")


def _route(
    service: ServiceDescriptor, method: MethodDescriptor, rule: http_pb2.HttpRule
) -> RpcRoute:
    http_method, path = _rule_pattern(rule)
    params = tuple(_PATH_PARAM.findall(path))
    request = method.input_type
    for param in params:
        field = request.fields_by_name.get(param)
        if field is None or field.is_repeated or field.type == FieldDescriptor.TYPE_MESSAGE:
            raise TypeError(
                f"{method.full_name}: path parameter {{{param}}} must name a scalar field "
                "of the request (nested paths and patterns are not supported)"
            )
    if rule.body not in ("", "*") and rule.body not in request.fields_by_name:
        raise TypeError(f"{method.full_name}: body {rule.body!r} is not a request field")
    streamed_field = method.GetOptions().Extensions[options_pb2.streamed_field]
    if streamed_field:
        return RpcRoute(
            service=service,
            method=method,
            http_method=http_method,
            path=path,
            body=rule.body,
            kind=RouteKind.STREAMED_BODY,
            path_params=params,
            streamed_field=streamed_field,
            stream_method=_stream_sibling(service, method, streamed_field, rule.body),
        )
    return RpcRoute(
        service=service,
        method=method,
        http_method=http_method,
        path=path,
        body=rule.body,
        kind=_route_kind(method),
        path_params=params,
    )


def _stream_sibling(
    service: ServiceDescriptor, method: MethodDescriptor, field_name: str, body: str
) -> MethodDescriptor:
    """The client-streaming `<Method>Stream` that serves a streamed JSON body."""
    problem = ""
    field = method.input_type.fields_by_name.get(field_name)
    sibling = service.methods_by_name.get(method.name + "Stream")
    if method.client_streaming or method.server_streaming or body != "*":
        problem = 'only an unary RPC with body "*" can stream a field'
    elif field is None or not field.is_repeated or field.type != FieldDescriptor.TYPE_MESSAGE:
        problem = f"streamed_field {field_name!r} is not a repeated message field of the request"
    elif sibling is None or not sibling.client_streaming or sibling.server_streaming:
        problem = f"no client-streaming {method.name}Stream in {service.full_name}"
    elif not (
        _same_fields(method.input_type, sibling.input_type)
        and _same_fields(method.output_type, sibling.output_type)
    ):
        problem = f"{sibling.full_name}'s messages do not have {method.name}'s fields"
    if problem:
        raise TypeError(f"{method.full_name}: {problem}")
    assert sibling is not None
    return sibling


def _same_fields(one: Descriptor, other: Descriptor) -> bool:
    def shape(message: Descriptor) -> set[tuple[object, ...]]:
        return {
            (
                f.name,
                f.number,
                f.type,
                f.is_repeated,
                f.has_presence,
                f.message_type.full_name if f.message_type else None,
                f.enum_type.full_name if f.enum_type else None,
            )
            for f in message.fields
        }

    return shape(one) == shape(other)


def _route_kind(method: MethodDescriptor) -> RouteKind:
    if not method.client_streaming and not method.server_streaming:
        return RouteKind.UNARY
    if (
        method.server_streaming
        and not method.client_streaming
        and is_file_stream(method.output_type)
    ):
        return RouteKind.DOWNLOAD
    if method.server_streaming and not method.client_streaming:
        return RouteKind.EVENT_STREAM
    if (
        method.client_streaming
        and not method.server_streaming
        and _has_bytes_chunk(method.input_type)
    ):
        return RouteKind.UPLOAD
    raise TypeError(
        f"{method.full_name}: an annotated streaming RPC must be a server stream "
        "(a file download or an event stream) or an upload (client stream with a "
        "bytes chunk)"
    )


def _has_bytes_chunk(message: Descriptor) -> bool:
    chunk = message.fields_by_name.get("chunk")
    return chunk is not None and chunk.type == FieldDescriptor.TYPE_BYTES and not chunk.is_repeated


def is_file_stream(message: Descriptor) -> bool:
    fields = message.fields_by_name
    return _has_bytes_chunk(message) and all(
        name in fields and fields[name].type == FieldDescriptor.TYPE_STRING
        for name in ("file_name", "content_type")
    )


def is_required(field: FieldDescriptor) -> bool:
    """Marked `(google.api.field_behavior) = REQUIRED` in its proto."""
    behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.REQUIRED in behaviors


def body_required(route: RpcRoute) -> bool:
    """Whether the route needs a request body: an upload's file, or a body that holds a
    required field (an empty one is 400, and the OpenAPI document marks it required).
    Any other body may be empty, meaning every field at its default."""
    if route.kind == RouteKind.UPLOAD:
        return True
    if route.body == "*":
        return any(
            is_required(f) for f in route.request_type.fields if f.name not in route.path_params
        )
    if route.body:
        return is_required(route.request_type.fields_by_name[route.body])
    return False


def leading_fields(route: RpcRoute) -> tuple[str, ...]:
    """The required fields a streamed body must give before its streamed field."""
    return tuple(
        field.name
        for field in route.request_type.fields
        if is_required(field) and field.name != route.streamed_field
    )


def message_type_of(field: FieldDescriptor) -> Descriptor:
    """The message type of a message field."""
    if field.message_type is None:
        raise TypeError(f"{field.full_name} is not a message field")
    return field.message_type


def enum_type_of(field: FieldDescriptor) -> EnumDescriptor:
    """The enum type of an enum field."""
    if field.enum_type is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    return field.enum_type


def is_map_field(field: FieldDescriptor) -> bool:
    return field.message_type is not None and bool(field.message_type.GetOptions().map_entry)
