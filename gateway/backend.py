"""The gateway's one gRPC channel to the server, and a callable per RPC.

Callables are built from the method descriptors (not from the generated
stubs), so a newly annotated RPC needs no code here either.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import grpc
from annotation.v1 import access_service_pb2
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc

from annotation_api.log import REQUEST_ID_HEADER
from annotation_api.settings import Settings
from gateway.descriptors import RpcRoute

# Generous deadlines: a 200,000-task init commits in seconds, but a slow disk
# or a busy PostgreSQL must not turn a valid request into a timeout.
UNARY_TIMEOUT_SECONDS = 300.0
STREAM_TIMEOUT_SECONDS = 3600.0
HEALTH_TIMEOUT_SECONDS = 3.0

ACCESS_TIMEOUT_SECONDS = 30.0
CHECK_ACCESS_METHOD = "/annotation.v1.AccessService/CheckAccess"

# Metadata values must be printable ASCII; anything else is dropped rather
# than failing the call (the server then answers INVALID_TOKEN).
_METADATA_VALUE = re.compile(r"^[\x20-\x7e]*$")
# gRPC refuses a call whose metadata exceeds 8 KiB (at random between its soft
# and hard limits), so a longer Authorization header could never be a token:
# it is dropped like a malformed one, and the server answers INVALID_TOKEN.
MAX_AUTHORIZATION_CHARS = 4096

# Request headers passed on as metadata of the same (lowercase) name, for the
# server to judge: Idempotency-Key (server/idempotency.py).
FORWARDED_HEADERS = ("idempotency-key",)


class Backend:
    """Owns the channel (opened on start-up, closed on shutdown)."""

    def __init__(self, settings: Settings) -> None:
        self.target = settings.resolved_grpc_target
        # The server enforces the real limit; the gateway's own limit is a
        # little higher so that the server's error (with its detail) wins.
        self.max_message_bytes = settings.max_message_bytes + 1024 * 1024
        self._channel: grpc.aio.Channel | None = None
        self._callables: dict[str, Any] = {}
        # Set when the gateway stops: its event streams end at once instead of
        # holding the graceful shutdown open.
        self.streams_closing = asyncio.Event()

    def end_streams(self) -> None:
        self.streams_closing.set()

    async def connect(self) -> None:
        self._channel = grpc.aio.insecure_channel(
            self.target,
            options=[
                ("grpc.max_send_message_length", self.max_message_bytes),
                ("grpc.max_receive_message_length", self.max_message_bytes),
                # A dns:/// target naming several servers spreads calls over all of them.
                ("grpc.lb_policy_name", "round_robin"),
            ],
        )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
        self._callables.clear()

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            raise RuntimeError("the gateway's gRPC channel is not open")
        return self._channel

    def callable_for(self, route: RpcRoute) -> Any:
        """The multi-callable of the route's RPC (unary or streaming)."""
        return self._callable(route.grpc_path, route.method)

    def stream_callable_for(self, route: RpcRoute) -> Any:
        """The multi-callable of a streamed-body route's client-streaming RPC."""
        method = route.stream_method
        if method is None:
            raise TypeError(f"{route.method.full_name} has no streamed body")
        return self._callable(f"/{route.service.full_name}/{method.name}", method)

    def _callable(self, path: str, method: MethodDescriptor) -> Any:
        found = self._callables.get(path)
        if found is None:
            request_class = GetMessageClass(method.input_type)
            response_class = GetMessageClass(method.output_type)
            if method.client_streaming:
                factory = self.channel.stream_unary
            elif method.server_streaming:
                factory = self.channel.unary_stream
            else:
                factory = self.channel.unary_unary
            found = factory(
                path,
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )
            self._callables[path] = found
        return found

    async def check_access(self, grpc_path: str, metadata: list[tuple[str, str]]) -> None:
        """Ask the server whether the caller may call grpc_path; raises its refusal."""
        check = self._callables.get(CHECK_ACCESS_METHOD)
        if check is None:
            check = self.channel.unary_unary(
                CHECK_ACCESS_METHOD,
                request_serializer=access_service_pb2.CheckAccessRequest.SerializeToString,
                response_deserializer=access_service_pb2.CheckAccessResponse.FromString,
            )
            self._callables[CHECK_ACCESS_METHOD] = check
        request = access_service_pb2.CheckAccessRequest(method=grpc_path)
        await check(request, metadata=metadata, timeout=ACCESS_TIMEOUT_SECONDS)

    async def is_serving(self) -> bool:
        """Ask the server's standard health service."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        try:
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def call_metadata(
    authorization: str | None, request_id: str, *, headers: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """The metadata forwarded with every call: the caller's token, the request id, and
    the FORWARDED_HEADERS found in headers."""
    metadata = [(REQUEST_ID_HEADER, request_id)]
    if (
        authorization
        and len(authorization) <= MAX_AUTHORIZATION_CHARS
        and _METADATA_VALUE.match(authorization)
    ):
        metadata.append(("authorization", authorization))
    for name in FORWARDED_HEADERS:
        value = (headers or {}).get(name)
        if value is not None:
            # A value gRPC cannot carry is sent empty, so the server refuses it
            # instead of running the call as if the header were absent.
            metadata.append((name, value if _METADATA_VALUE.match(value) else ""))
    return metadata
