"""ListTasks: keyset pages in input order, status filter, opaque tokens, limits."""

from __future__ import annotations

import grpc
import pytest
from annotation.v1 import common_pb2, project_service_pb2, workflow_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub

from tests.helpers import TestUser, rpc_error

ListTasks = project_service_pb2.ListTasksRequest


async def create_project(stub: ProjectServiceStub, owner: TestUser, count: int) -> str:
    response = await stub.InitProject(
        project_service_pb2.InitProjectRequest(
            name="listing",
            task_type=common_pb2.TASK_TYPE_OBJECT_DETECTION,
            data=[
                project_service_pb2.TaskInput(
                    id=f"ext_{i}" if i % 2 == 0 else None, content=f"https://e.com/{i}.jpg"
                )
                for i in range(count)
            ],
            tags=[common_pb2.TagInput(tag="cat")],
        ),
        metadata=owner.metadata,
    )
    return response.project_id


async def all_pages(
    stub: ProjectServiceStub, owner: TestUser, project_id: str, page_size: int, **filters: int
) -> list[project_service_pb2.ListTasksResponse]:
    pages, token = [], ""
    while True:
        page = await stub.ListTasks(
            ListTasks(project_id=project_id, page_size=page_size, page_token=token, **filters),
            metadata=owner.metadata,
        )
        pages.append(page)
        token = page.next_page_token
        if not token:
            return pages


async def test_pages_cover_every_task_once_in_input_order(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    project_id = await create_project(project_stub, admin, 25)
    pages = await all_pages(project_stub, admin, project_id, 10)

    assert [len(p.tasks) for p in pages] == [10, 10, 5]
    assert {p.total_size for p in pages} == {25}
    tasks = [t for p in pages for t in p.tasks]
    assert [t.file_path for t in tasks] == [f"https://e.com/{i}.jpg" for i in range(25)]
    assert [int(t.task_id) for t in tasks] == sorted(int(t.task_id) for t in tasks)
    first = tasks[0]
    assert first.display_id == f"T-{first.task_id}"
    assert first.external_id == "ext_0"
    assert not tasks[1].HasField("external_id")
    assert first.status == common_pb2.TASK_STATUS_PENDING


async def test_exact_multiple_has_no_empty_last_page(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    project_id = await create_project(project_stub, admin, 20)
    pages = await all_pages(project_stub, admin, project_id, 10)
    assert [len(p.tasks) for p in pages] == [10, 10]


async def test_page_size_default_and_maximum(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    project_id = await create_project(project_stub, admin, 1005)
    default = await project_stub.ListTasks(
        ListTasks(project_id=project_id), metadata=admin.metadata
    )
    assert len(default.tasks) == 100
    capped = await project_stub.ListTasks(
        ListTasks(project_id=project_id, page_size=5000), metadata=admin.metadata
    )
    assert len(capped.tasks) == 1000 and capped.next_page_token


async def test_status_filter(
    project_stub: ProjectServiceStub,
    workflow_stub: WorkflowServiceStub,
    admin: TestUser,
    annotator: TestUser,
) -> None:
    project_id = await create_project(project_stub, admin, 6)
    page = await project_stub.ListTasks(ListTasks(project_id=project_id), metadata=admin.metadata)
    ids = [t.task_id for t in page.tasks]
    await workflow_stub.ConfigureProject(
        workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
        metadata=admin.metadata,
    )
    await workflow_stub.AssignTasks(
        workflow_service_pb2.AssignTasksRequest(
            project_id=project_id, annotator_id=annotator.user_id, task_ids=ids[1:4]
        ),
        metadata=admin.metadata,
    )
    for task_id in ids[1:4]:
        await workflow_stub.StartTask(
            workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=admin.metadata
        )

    pages = await all_pages(
        project_stub, admin, project_id, 2, status=common_pb2.TASK_STATUS_IN_PROGRESS
    )
    assert [t.task_id for p in pages for t in p.tasks] == ids[1:4]
    assert {p.total_size for p in pages} == {3}
    pending = await project_stub.ListTasks(
        ListTasks(project_id=project_id, status=common_pb2.TASK_STATUS_PENDING),
        metadata=admin.metadata,
    )
    assert [t.task_id for t in pending.tasks] == [ids[0], *ids[4:]]
    assert pending.total_size == 3


async def test_bad_tokens_and_sizes(project_stub: ProjectServiceStub, admin: TestUser) -> None:
    project_id = await create_project(project_stub, admin, 3)
    other_id = await create_project(project_stub, admin, 3)
    first = await project_stub.ListTasks(
        ListTasks(project_id=project_id, page_size=1), metadata=admin.metadata
    )
    bad_requests = [
        ListTasks(project_id=project_id, page_token="!!!"),
        ListTasks(project_id=project_id, page_token="bm90LWEtdG9rZW4"),
        ListTasks(project_id=other_id, page_token=first.next_page_token),
        ListTasks(
            project_id=project_id,
            page_token=first.next_page_token,
            status=common_pb2.TASK_STATUS_COMPLETED,
        ),
    ]
    for request in bad_requests:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await project_stub.ListTasks(request, metadata=admin.metadata)
        error = rpc_error(caught.value)
        assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "page_token")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await project_stub.ListTasks(
            ListTasks(project_id=project_id, page_size=-1), metadata=admin.metadata
        )
    assert rpc_error(caught.value).details["field"] == "page_size"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await project_stub.ListTasks(
            ListTasks(project_id=project_id, status=9), metadata=admin.metadata
        )
    assert rpc_error(caught.value).details["field"] == "status"
