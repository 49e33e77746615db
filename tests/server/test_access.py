"""Authentication and authorization over gRPC (SPEC §3): tokens, roles, tenants."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from annotation.v1 import common_pb2, project_service_pb2, workflow_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from server.accounts import revoke
from storage.database import Database
from tests.helpers import TestUser, rpc_error

INIT = project_service_pb2.InitProjectRequest(
    name="p",
    task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
    data=[project_service_pb2.TaskInput(content="hello")],
    tags=[common_pb2.TagInput(tag="a")],
)


async def error_of(call: Awaitable[Any]):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rpc_error(caught.value)


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", "Bearer "),),
        (("authorization", "Bearer not-a-token"),),
        (("authorization", "Basic dXNlcjpwYXNz"),),
    ],
    ids=["missing", "empty", "unknown", "not-bearer"],
)
async def test_invalid_token(project_stub: ProjectServiceStub, metadata: Any) -> None:
    error = await error_of(project_stub.InitProject(INIT, metadata=metadata))
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.error_code == "INVALID_TOKEN"


async def test_revoked_token_is_invalid(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    await project_stub.InitProject(INIT, metadata=admin.metadata)
    await revoke(database, secret=admin.token)
    error = await error_of(project_stub.InitProject(INIT, metadata=admin.metadata))
    assert error.error_code == "INVALID_TOKEN"


async def test_bearer_scheme_is_case_insensitive(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    response = await project_stub.InitProject(
        INIT, metadata=(("authorization", f"bearer {admin.token}"),)
    )
    assert response.task_count == 1


async def test_annotator_is_denied_everywhere(
    project_stub: ProjectServiceStub, workflow_stub: WorkflowServiceStub, annotator: TestUser
) -> None:
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: project_stub.InitProject(INIT, metadata=annotator.metadata),
        lambda: project_stub.GetProgress(
            project_service_pb2.GetProgressRequest(project_id="proj_000000000000"),
            metadata=annotator.metadata,
        ),
        lambda: project_stub.ListTasks(
            project_service_pb2.ListTasksRequest(project_id="proj_000000000000"),
            metadata=annotator.metadata,
        ),
        lambda: workflow_stub.ConfigureProject(
            workflow_service_pb2.ConfigureProjectRequest(project_id="proj_000000000000"),
            metadata=annotator.metadata,
        ),
    ]
    for call in calls:
        error = await error_of(call())
        assert error.code == grpc.StatusCode.PERMISSION_DENIED
        assert error.error_code == "PERMISSION_DENIED"


async def test_projects_are_invisible_to_other_admins(
    project_stub: ProjectServiceStub,
    workflow_stub: WorkflowServiceStub,
    admin: TestUser,
    other_admin: TestUser,
    super_admin: TestUser,
) -> None:
    created = await project_stub.InitProject(INIT, metadata=admin.metadata)
    project_id = created.project_id
    page = await project_stub.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=project_id), metadata=admin.metadata
    )
    task_id = page.tasks[0].task_id

    foreign_calls = [
        project_stub.GetProgress(
            project_service_pb2.GetProgressRequest(project_id=project_id),
            metadata=other_admin.metadata,
        ),
        project_stub.ListTasks(
            project_service_pb2.ListTasksRequest(project_id=project_id),
            metadata=other_admin.metadata,
        ),
        workflow_stub.ConfigureProject(
            workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
            metadata=other_admin.metadata,
        ),
        workflow_stub.AssignTasks(
            workflow_service_pb2.AssignTasksRequest(
                project_id=project_id, annotator_id=other_admin.user_id, task_ids=[task_id]
            ),
            metadata=other_admin.metadata,
        ),
    ]
    for call in foreign_calls:
        error = await error_of(call)
        assert error.code == grpc.StatusCode.NOT_FOUND
        assert error.error_code == "PROJECT_NOT_FOUND"
        assert error.details == {"project_id": project_id}

    # A foreign task looks exactly like a missing one.
    foreign = await error_of(
        workflow_stub.StartTask(
            workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=other_admin.metadata
        )
    )
    missing = await error_of(
        workflow_stub.StartTask(
            workflow_service_pb2.StartTaskRequest(task_id="999999"), metadata=admin.metadata
        )
    )
    assert foreign.error_code == missing.error_code == "TASK_NOT_FOUND"

    # The super_admin sees every project.
    progress = await project_stub.GetProgress(
        project_service_pb2.GetProgressRequest(project_id=project_id),
        metadata=super_admin.metadata,
    )
    assert progress.total_tasks == 1


async def test_unknown_project_is_not_found(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    for project_id in ["proj_000000000000", ""]:
        error = await error_of(
            project_stub.GetProgress(
                project_service_pb2.GetProgressRequest(project_id=project_id),
                metadata=admin.metadata,
            )
        )
        assert error.error_code == "PROJECT_NOT_FOUND"
        assert error.details == {"project_id": project_id}


async def test_health_and_reflection_need_no_token(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ["", "annotation.v1.ProjectService", "annotation.v1.WorkflowService"]:
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {
        service.name
        async for response in responses
        for service in response.list_services_response.service
    }
    assert {
        "annotation.v1.ProjectService",
        "annotation.v1.WorkflowService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names
