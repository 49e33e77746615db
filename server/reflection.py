"""Server reflection (grpc.reflection.v1 and v1alpha) that finds every symbol.

grpcio-reflection asks the descriptor pool for the file containing a symbol.
On protobuf's upb backend the pool knows services and messages but not the
methods inside a service, so `grpcurl describe pkg.Service.Method` (and
every client that resolves a method that way) got NOT_FOUND. Here a symbol
the pool does not find is retried as `<service>.<method>`: the file that
defines the service defines the method.

grpcio-reflection serves v1alpha only. The v1 service is the same protocol
with the same messages under another package, so it is served by the same
servicer; its descriptor (v1alpha's, renamed) is added to the pool so that
reflection can describe itself under both names.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc import aio
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha._async import ReflectionServicer

V1ALPHA = "grpc.reflection.v1alpha"
V1 = "grpc.reflection.v1"
V1ALPHA_SERVICE = f"{V1ALPHA}.ServerReflection"
V1_SERVICE = f"{V1}.ServerReflection"
V1_FILE = "grpc/reflection/v1/reflection.proto"
METHOD = "ServerReflectionInfo"


def _add_v1_descriptor(pool: descriptor_pool.DescriptorPool) -> None:
    """Add grpc/reflection/v1/reflection.proto to the pool: v1alpha's file, renamed."""
    try:
        pool.FindFileByName(V1_FILE)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old, new = f".{V1ALPHA}.", f".{V1}."
    for message in proto.message_type:
        for field in message.field:
            if field.type_name:
                field.type_name = field.type_name.replace(old, new)
    for service in proto.service:
        for method in service.method:
            method.input_type = method.input_type.replace(old, new)
            method.output_type = method.output_type.replace(old, new)
    proto.name = V1_FILE
    proto.package = V1
    proto.options.Clear()
    pool.Add(proto)


class FullReflectionServicer(ReflectionServicer):  # type: ignore[misc]
    """grpcio-reflection's servicer, finding method symbols too."""

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        pool = self._pool
        try:
            pool.FindFileContainingSymbol(fully_qualified_name)
        except KeyError:
            service_name, _, method = fully_qualified_name.rpartition(".")
            descriptor = _file_of_method(pool, service_name, method)
            if descriptor is not None:
                return _file_response(self, request, descriptor)
        return super()._file_containing_symbol(request, fully_qualified_name)


def _file_of_method(
    pool: descriptor_pool.DescriptorPool, service_name: str, method: str
) -> FileDescriptor | None:
    try:
        service = pool.FindServiceByName(service_name)
    except KeyError:
        return None
    return service.file if method in service.methods_by_name else None


def _file_response(servicer: FullReflectionServicer, request: Any, file: FileDescriptor) -> Any:
    # the same response the base class gives for a file it found by name
    return servicer._file_by_filename(request, file.name)


def enable_reflection(server: aio.Server, service_names: Iterable[str]) -> None:
    """Serve reflection v1 and v1alpha for these services (and for reflection itself)."""
    pool = descriptor_pool.Default()
    _add_v1_descriptor(pool)
    servicer = FullReflectionServicer([*service_names, V1ALPHA_SERVICE, V1_SERVICE], pool=pool)

    async def reflect(
        requests: AsyncIterable[reflection_pb2.ServerReflectionRequest], context: Any
    ) -> AsyncIterator[reflection_pb2.ServerReflectionResponse]:
        async for response in servicer.ServerReflectionInfo(requests, context):
            yield response

    handler = grpc.stream_stream_rpc_method_handler(
        reflect,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    for service in (V1ALPHA_SERVICE, V1_SERVICE):
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, {METHOD: handler}),)
        )
