"""The workflow rules of the pre-labelling loop, over gRPC: queue order, skip,
unassign, parents and lead times, updates, project and queue listings."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, prediction_service_pb2, project_service_pb2
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.prediction_service_pb2_grpc import PredictionServiceStub
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from sqlalchemy import insert

from storage.database import Database
from storage.models import Prediction
from storage.prediction_stats import rebuild_model_stats
from storage.types import utcnow
from tests.helpers import RpcErrorInfo, TestUser, rpc_error
from tests.workflow.support import make_user

P = project_service_pb2
RESULT = orjson.dumps([{"type": "choices", "value": {"choices": ["a"]}}]).decode()


async def error_of(call: Awaitable[Any]) -> RpcErrorInfo:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rpc_error(caught.value)


class Setup:
    def __init__(self, channel: grpc.aio.Channel, owner: TestUser) -> None:
        self.project = ProjectServiceStub(channel)
        self.workflow = WorkflowServiceStub(channel)
        self.prediction = PredictionServiceStub(channel)
        self.md = owner.metadata

    async def new_project(
        self, tasks: int, *, external_id: str | None = None
    ) -> tuple[str, list[str]]:
        created = await self.project.InitProject(
            P.InitProjectRequest(
                name="p",
                task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
                data=[P.TaskInput(content=f"t{i}") for i in range(tasks)],
                tags=[common_pb2.TagInput(tag="a")],
                external_id=external_id,
            ),
            metadata=self.md,
        )
        pid = created.project_id
        page = await self.project.ListTasks(P.ListTasksRequest(project_id=pid), metadata=self.md)
        await self.workflow.ConfigureProject(
            W.ConfigureProjectRequest(project_id=pid, ready=True), metadata=self.md
        )
        return pid, [t.task_id for t in page.tasks]

    async def assign(
        self, pid: str, user: TestUser, task_ids: list[str] = (), count: int = 0
    ) -> int:  # type: ignore[assignment]
        response = await self.workflow.AssignTasks(
            W.AssignTasksRequest(
                project_id=pid, annotator_id=user.user_id, task_ids=list(task_ids), count=count
            ),
            metadata=self.md,
        )
        return response.assigned_count

    async def progress(self, pid: str) -> Any:
        return await self.project.GetProgress(
            P.GetProgressRequest(project_id=pid), metadata=self.md
        )


@pytest.fixture
def setup(channel: grpc.aio.Channel, admin: TestUser) -> Setup:
    return Setup(channel, admin)


async def test_next_task_takes_in_progress_first_then_pending_in_input_order(
    setup: Setup, annotator: TestUser
) -> None:
    first, first_ids = await setup.new_project(3)
    second, second_ids = await setup.new_project(2)
    await setup.assign(first, annotator, first_ids)
    await setup.assign(second, annotator, second_ids)
    wf, md = setup.workflow, annotator.metadata

    nxt = await wf.NextTask(W.NextTaskRequest(), metadata=md)
    assert nxt.task.task_id == first_ids[0]
    await wf.StartTask(W.StartTaskRequest(task_id=second_ids[1]), metadata=md)
    nxt = await wf.NextTask(W.NextTaskRequest(), metadata=md)
    assert (nxt.task.task_id, nxt.task.status) == (
        second_ids[1],
        common_pb2.TASK_STATUS_IN_PROGRESS,
    )
    nxt = await wf.NextTask(W.NextTaskRequest(project_id=first), metadata=md)
    assert nxt.task.task_id == first_ids[0]
    assert nxt.task.assignee.username == annotator.username
    assert orjson.loads(nxt.task.data) == {"text": "t0"}

    for task_id in first_ids:
        await wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=md)
        await wf.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=md
        )
    error = await error_of(wf.NextTask(W.NextTaskRequest(project_id=first), metadata=md))
    assert (error.code, error.error_code) == (grpc.StatusCode.NOT_FOUND, "NO_TASK_AVAILABLE")


async def test_skip_returns_the_task_to_the_pool_and_keeps_progress_truthful(
    setup: Setup, annotator: TestUser, database: Database
) -> None:
    dave = await make_user(database, "dave", "annotator")
    pid, ids = await setup.new_project(3)
    assert await setup.assign(pid, annotator, count=2) == 2
    wf, md = setup.workflow, annotator.metadata
    await wf.StartTask(W.StartTaskRequest(task_id=ids[0]), metadata=md)

    skipped = await wf.SkipTask(W.SkipTaskRequest(task_id=ids[0], reason="unclear"), metadata=md)
    assert skipped.status == common_pb2.TASK_STATUS_PENDING
    progress = await setup.progress(pid)
    assert (progress.in_progress_tasks, progress.pending_tasks) == (0, 3)
    [carol] = progress.annotators
    assert (carol.assigned_count, carol.in_progress_count) == (1, 0)
    task = (await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=setup.md)).task
    assert not task.HasField("assignee")
    error = await error_of(wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=md))
    assert error.error_code == "TASK_NOT_FOUND"

    # assigning by count never hands a skipped task back to whoever skipped it
    assert await setup.assign(pid, annotator, count=5) == 1
    queue = await wf.ListAssignedTasks(W.ListAssignedTasksRequest(), metadata=md)
    assert [t.task_id for t in queue.tasks] == ids[1:]
    assert await setup.assign(pid, dave, count=5) == 1
    assert (await wf.NextTask(W.NextTaskRequest(), metadata=dave.metadata)).task.task_id == ids[0]

    await wf.StartTask(W.StartTaskRequest(task_id=ids[1]), metadata=md)
    await wf.SubmitAnnotation(W.SubmitAnnotationRequest(task_id=ids[1], result=RESULT), metadata=md)
    error = await error_of(wf.SkipTask(W.SkipTaskRequest(task_id=ids[1]), metadata=md))
    assert error.error_code == "INVALID_STATE"


async def test_unassign_takes_back_open_work_and_keeps_completed(
    setup: Setup, annotator: TestUser
) -> None:
    pid, ids = await setup.new_project(4)
    await setup.assign(pid, annotator, ids[:3])
    wf, md = setup.workflow, annotator.metadata
    await wf.StartTask(W.StartTaskRequest(task_id=ids[0]), metadata=md)
    await wf.SubmitAnnotation(W.SubmitAnnotationRequest(task_id=ids[0], result=RESULT), metadata=md)
    await wf.StartTask(W.StartTaskRequest(task_id=ids[1]), metadata=md)

    response = await wf.UnassignTasks(
        W.UnassignTasksRequest(project_id=pid, annotator_id=annotator.user_id), metadata=setup.md
    )
    assert response.unassigned_count == 2
    progress = await setup.progress(pid)
    assert (progress.completed_tasks, progress.in_progress_tasks, progress.pending_tasks) == (
        1,
        0,
        3,
    )
    [carol] = progress.annotators
    assert (carol.assigned_count, carol.completed_count, carol.in_progress_count) == (1, 1, 0)
    queue = await wf.ListAssignedTasks(W.ListAssignedTasksRequest(), metadata=md)
    assert [t.task_id for t in queue.tasks] == [ids[0]]
    assert (queue.counts.pending, queue.counts.in_progress, queue.counts.completed) == (0, 0, 1)


async def test_parent_must_be_the_tasks_prediction_and_lead_time_is_checked(
    setup: Setup, annotator: TestUser
) -> None:
    pid, ids = await setup.new_project(2)
    await setup.assign(pid, annotator, ids)
    wf, md = setup.workflow, annotator.metadata
    await wf.StartTask(W.StartTaskRequest(task_id=ids[0]), metadata=md)
    for request in (
        W.SubmitAnnotationRequest(task_id=ids[0], result=RESULT, parent_prediction_id="999999"),
        W.SubmitAnnotationRequest(task_id=ids[0], result=RESULT, parent_prediction_id="x"),
        W.SubmitAnnotationRequest(task_id=ids[0], result=RESULT, lead_time_seconds=-1),
        W.SubmitAnnotationRequest(task_id=ids[0], result=RESULT, lead_time_seconds=float("nan")),
    ):
        error = await error_of(wf.SubmitAnnotation(request, metadata=md))
        assert error.error_code == "INVALID_REQUEST", request
    submitted = await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=ids[0], result=RESULT, lead_time_seconds=12.5),
        metadata=md,
    )
    [annotation] = (
        await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=md)
    ).task.annotations
    assert annotation.annotation_id == submitted.annotation_id
    assert annotation.lead_time_seconds == 12.5
    assert not annotation.HasField("parent_prediction_id")

    changed = orjson.dumps([{"type": "choices", "value": {"choices": ["b"]}}]).decode()
    updated = await wf.UpdateAnnotation(
        W.UpdateAnnotationRequest(annotation_id=submitted.annotation_id, result=changed),
        metadata=md,
    )
    [annotation] = (
        await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=md)
    ).task.annotations
    assert orjson.loads(annotation.result) == orjson.loads(changed)
    assert annotation.lead_time_seconds == 12.5  # kept when not given
    assert annotation.updated_at == updated.updated_at
    assert annotation.updated_at.ToDatetime() > annotation.created_at.ToDatetime()
    error = await error_of(
        wf.UpdateAnnotation(
            W.UpdateAnnotationRequest(annotation_id="424242", result=RESULT), metadata=md
        )
    )
    assert error.error_code == "ANNOTATION_NOT_FOUND"


async def test_list_projects_newest_first_with_filters_and_pages(
    setup: Setup, other_admin: TestUser, super_admin: TestUser
) -> None:
    created = [(await setup.new_project(1, external_id=f"ext-{i % 2}"))[0] for i in range(5)]
    listed: list[str] = []
    token = ""
    while True:
        page = await setup.project.ListProjects(
            P.ListProjectsRequest(page_size=2, page_token=token), metadata=setup.md
        )
        listed += [p.project_id for p in page.projects]
        token = page.next_page_token
        if not token:
            break
    assert listed == created[::-1]
    odd = await setup.project.ListProjects(
        P.ListProjectsRequest(external_id="ext-1"), metadata=setup.md
    )
    assert [p.project_id for p in odd.projects] == [created[3], created[1]]
    assert odd.projects[0].status == common_pb2.PROJECT_STATUS_READY
    ready = await setup.project.ListProjects(
        P.ListProjectsRequest(status=common_pb2.PROJECT_STATUS_DRAFT), metadata=setup.md
    )
    assert list(ready.projects) == []
    hidden = await setup.project.ListProjects(
        P.ListProjectsRequest(), metadata=other_admin.metadata
    )
    assert list(hidden.projects) == []
    everything = await setup.project.ListProjects(
        P.ListProjectsRequest(), metadata=super_admin.metadata
    )
    assert [p.project_id for p in everything.projects] == created[::-1]
    error = await error_of(
        setup.project.ListProjects(P.ListProjectsRequest(page_token="junk"), metadata=setup.md)
    )
    assert error.error_code == "INVALID_REQUEST"


async def test_assigned_tasks_page_by_status(setup: Setup, annotator: TestUser) -> None:
    pid, ids = await setup.new_project(5)
    await setup.assign(pid, annotator, ids)
    wf, md = setup.workflow, annotator.metadata
    await wf.StartTask(W.StartTaskRequest(task_id=ids[3]), metadata=md)
    seen: list[str] = []
    token = ""
    while True:
        page = await wf.ListAssignedTasks(
            W.ListAssignedTasksRequest(
                status=common_pb2.TASK_STATUS_PENDING, page_size=2, page_token=token
            ),
            metadata=md,
        )
        seen += [t.task_id for t in page.tasks]
        token = page.next_page_token
        if not token:
            break
    assert seen == [ids[0], ids[1], ids[2], ids[4]]
    assert (page.counts.pending, page.counts.in_progress, page.counts.completed) == (4, 1, 0)
    assert page.tasks[-1].project_id == pid and page.tasks[-1].display_id == f"T-{ids[4]}"


async def test_assign_by_count_or_ids_not_both(setup: Setup, annotator: TestUser) -> None:
    pid, ids = await setup.new_project(2)
    for request in (
        W.AssignTasksRequest(project_id=pid, annotator_id=annotator.user_id, task_ids=ids, count=1),
        W.AssignTasksRequest(project_id=pid, annotator_id=annotator.user_id),
    ):
        error = await error_of(setup.workflow.AssignTasks(request, metadata=setup.md))
        assert error.error_code == "INVALID_REQUEST"


async def test_prediction_stats_follow_updates(
    setup: Setup, annotator: TestUser, database: Database
) -> None:
    pid, ids = await setup.new_project(1)
    await setup.assign(pid, annotator, ids)
    region = {
        "type": "choices",
        "from_name": "label",
        "to_name": "text",
        "value": {"choices": ["a"]},
    }
    async with database.transaction() as conn:
        await conn.execute(
            insert(Prediction.__table__).values(
                task_id=int(ids[0]),
                project_id=pid,
                source="external_import",
                model_version=None,
                score=0.5,
                result_json=orjson.dumps([{**region, "id": "p1", "score": 0.5}]).decode(),
                created_at=utcnow(),
            )
        )
        # what the import does after writing predictions (text tasks cannot be imported)
        await rebuild_model_stats(conn, pid)
    wf, md = setup.workflow, annotator.metadata
    task = (await wf.NextTask(W.NextTaskRequest(), metadata=md)).task
    [prediction] = task.predictions
    await wf.StartTask(W.StartTaskRequest(task_id=ids[0]), metadata=md)
    submitted = await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(
            task_id=ids[0],
            result=orjson.dumps([{**region, "id": "mine"}]).decode(),
            parent_prediction_id=prediction.prediction_id,
        ),
        metadata=md,
    )

    async def model() -> Any:
        stats = await setup.prediction.GetPredictionStats(
            prediction_service_pb2.GetPredictionStatsRequest(project_id=pid), metadata=setup.md
        )
        [entry] = stats.models
        return entry

    entry = await model()
    assert not entry.HasField("model_version")
    assert (entry.accepted_unchanged, entry.modified) == (1, 0)
    assert not entry.HasField("median_lead_time_with_prelabel_seconds")
    changed = [{**region, "value": {"choices": ["b"]}}]
    await wf.UpdateAnnotation(
        W.UpdateAnnotationRequest(
            annotation_id=submitted.annotation_id, result=orjson.dumps(changed).decode()
        ),
        metadata=md,
    )
    entry = await model()
    assert (entry.accepted_unchanged, entry.modified) == (0, 1)
