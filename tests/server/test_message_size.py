"""Message-size limits come from settings.max_message_bytes, on both directions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub

from annotation_api.settings import Settings
from server.app import RunningServer
from tests.helpers import TestUser

LIMIT = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return Settings(**{**settings.model_dump(), "max_message_bytes": LIMIT})


@pytest.fixture
async def roomy_stub(grpc_server: RunningServer) -> AsyncIterator[ProjectServiceStub]:
    """A client that would send anything: the server's limit is what is tested."""
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_server.port}", options=options) as ch:
        yield ProjectServiceStub(ch)


def request_of(count: int) -> project_service_pb2.InitProjectRequest:
    return project_service_pb2.InitProjectRequest(
        name="size",
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=[project_service_pb2.TaskInput(content=f"text number {i:06d}") for i in range(count)],
    )


async def test_request_over_the_limit_is_resource_exhausted(
    roomy_stub: ProjectServiceStub, admin: TestUser
) -> None:
    small = request_of(100)
    large = request_of(5000)
    assert small.ByteSize() < LIMIT < large.ByteSize()

    assert (await roomy_stub.InitProject(small, metadata=admin.metadata)).task_count == 100
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await roomy_stub.InitProject(large, metadata=admin.metadata)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
