"""AccessService.CheckAccess answers what the named RPC would answer about the caller."""

from __future__ import annotations

import grpc
import pytest
from annotation.v1 import access_service_pb2, access_service_pb2_grpc

from tests.helpers import TestUser, bearer, rpc_error

INIT = "/annotation.v1.ProjectService/InitProject"


async def test_check_access_follows_the_callers_token_and_role(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser
) -> None:
    stub = access_service_pb2_grpc.AccessServiceStub(channel)
    request = access_service_pb2.CheckAccessRequest(method=INIT)

    assert await stub.CheckAccess(request, metadata=admin.metadata) is not None

    for metadata, code, error_code in (
        ((), grpc.StatusCode.UNAUTHENTICATED, "INVALID_TOKEN"),
        (bearer("no-such-token"), grpc.StatusCode.UNAUTHENTICATED, "INVALID_TOKEN"),
        (annotator.metadata, grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CheckAccess(request, metadata=metadata)
        info = rpc_error(caught.value)
        assert (info.code, info.error_code) == (code, error_code)
