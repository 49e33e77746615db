"""The project lifecycle through WorkflowService, and progress following it (SPEC §4.2, §4.3)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, project_service_pb2, workflow_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from sqlalchemy import select

from server.accounts import create_user
from storage.database import Database
from storage.models import Annotation
from tests.helpers import TestUser, rpc_error

P = common_pb2
W = workflow_service_pb2
RESULT = orjson.dumps(
    [{"type": "choices", "from_name": "label", "to_name": "text", "value": {"choices": ["正面"]}}]
).decode()


async def error_of(call: Awaitable[Any]):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rpc_error(caught.value)


class Project:
    """A test's project and shortcuts to drive it."""

    def __init__(
        self, projects: ProjectServiceStub, workflow: WorkflowServiceStub, owner: TestUser
    ) -> None:
        self.projects, self.workflow, self.owner = projects, workflow, owner
        self.project_id = ""
        self.task_ids: list[str] = []

    async def create(self, count: int, *, tags: bool = True) -> Project:
        response = await self.projects.InitProject(
            project_service_pb2.InitProjectRequest(
                name="lifecycle",
                task_type=P.TASK_TYPE_TEXT_CLASSIFICATION,
                data=[project_service_pb2.TaskInput(content=f"text {i}") for i in range(count)],
                tags=[P.TagInput(tag="正面"), P.TagInput(tag="负面")] if tags else [],
            ),
            metadata=self.owner.metadata,
        )
        self.project_id = response.project_id
        page = await self.projects.ListTasks(
            project_service_pb2.ListTasksRequest(project_id=self.project_id, page_size=1000),
            metadata=self.owner.metadata,
        )
        self.task_ids = [task.task_id for task in page.tasks]
        return self

    def configure(self, **fields: Any) -> Any:
        return self.workflow.ConfigureProject(
            W.ConfigureProjectRequest(project_id=self.project_id, **fields),
            metadata=self.owner.metadata,
        )

    def assign(self, annotator_id: str, task_ids: list[str]) -> Any:
        return self.workflow.AssignTasks(
            W.AssignTasksRequest(
                project_id=self.project_id, annotator_id=annotator_id, task_ids=task_ids
            ),
            metadata=self.owner.metadata,
        )

    def start(self, task_id: str) -> Any:
        return self.workflow.StartTask(
            W.StartTaskRequest(task_id=task_id), metadata=self.owner.metadata
        )

    def reopen(self, task_id: str) -> Any:
        return self.workflow.ReopenTask(
            W.ReopenTaskRequest(task_id=task_id), metadata=self.owner.metadata
        )

    def submit(self, task_id: str, result: str = RESULT) -> Any:
        return self.workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=result),
            metadata=self.owner.metadata,
        )

    async def progress(self) -> project_service_pb2.GetProgressResponse:
        return await self.projects.GetProgress(
            project_service_pb2.GetProgressRequest(project_id=self.project_id),
            metadata=self.owner.metadata,
        )


@pytest.fixture
async def project(
    project_stub: ProjectServiceStub, workflow_stub: WorkflowServiceStub, admin: TestUser
) -> Project:
    return await Project(project_stub, workflow_stub, admin).create(4)


def counts(progress: project_service_pb2.GetProgressResponse) -> tuple[int, int, int, int]:
    return (
        progress.total_tasks,
        progress.pending_tasks,
        progress.in_progress_tasks,
        progress.completed_tasks,
    )


def annotators(progress: project_service_pb2.GetProgressResponse) -> list[tuple[Any, ...]]:
    return [
        (a.username, a.assigned_count, a.in_progress_count, a.completed_count, a.completion_rate)
        for a in progress.annotators
    ]


async def test_whole_lifecycle_moves_progress(
    project: Project, database: Database, annotator: TestUser
) -> None:
    zoe = await create_user(database, username="zoe", role="annotator")
    progress = await project.progress()
    assert progress.status == P.PROJECT_STATUS_DRAFT
    assert counts(progress) == (4, 4, 0, 0)
    assert progress.completion_percentage == 0
    assert list(progress.annotators) == []
    stamps = [progress.last_updated.ToDatetime()]

    configured = await project.configure(labels=[P.TagInput(tag="好"), P.TagInput(tag="坏")])
    assert configured.status == P.PROJECT_STATUS_CONFIGURING
    assert [label.name for label in configured.labels] == ["好", "坏"]
    assert 'value="好"' in configured.config
    configured = await project.configure(ready=True)
    assert configured.status == P.PROJECT_STATUS_READY
    assert [label.name for label in configured.labels] == ["好", "坏"]

    t1, t2, t3, t4 = project.task_ids
    assigned = await project.assign(zoe.user_id, [t1, t2, t3])
    assert (assigned.assigned_count, assigned.project_status) == (3, P.PROJECT_STATUS_IN_PROGRESS)
    await project.assign(annotator.user_id, [t4])
    progress = await project.progress()
    assert progress.status == P.PROJECT_STATUS_IN_PROGRESS
    assert counts(progress) == (4, 4, 0, 0)
    assert annotators(progress) == [("carol", 1, 0, 0, 0.0), ("zoe", 3, 0, 0, 0.0)]
    stamps.append(progress.last_updated.ToDatetime())

    started = await project.start(t1)
    assert (started.task_id, started.status) == (t1, P.TASK_STATUS_IN_PROGRESS)
    await project.start(t2)
    submitted = await project.submit(t1)
    assert submitted.status == P.TASK_STATUS_COMPLETED
    assert submitted.project_status == P.PROJECT_STATUS_IN_PROGRESS
    progress = await project.progress()
    assert counts(progress) == (4, 2, 1, 1)
    assert progress.completion_percentage == 25.0
    assert annotators(progress) == [("carol", 1, 0, 0, 0.0), ("zoe", 3, 1, 1, 33.33)]
    stamps.append(progress.last_updated.ToDatetime())

    for task_id in (t3, t4):
        await project.start(task_id)
    for task_id in (t2, t3):
        await project.submit(task_id)
    last = await project.submit(t4)
    assert last.project_status == P.PROJECT_STATUS_COMPLETED
    progress = await project.progress()
    assert progress.status == P.PROJECT_STATUS_COMPLETED
    assert counts(progress) == (4, 0, 0, 4)
    assert progress.completion_percentage == 100.0
    assert annotators(progress) == [("carol", 1, 0, 1, 100.0), ("zoe", 3, 0, 3, 100.0)]
    stamps.append(progress.last_updated.ToDatetime())

    # StartTask never reopens a completed task (a stale or repeated call changes nothing).
    error = await error_of(project.start(t1))
    assert (error.error_code, error.details["task_status"]) == ("INVALID_STATE", "completed")
    assert counts(await project.progress()) == (4, 0, 0, 4)

    # ReopenTask does, and reopens the completed project with it.
    reopened = await project.reopen(t1)
    assert (reopened.status, reopened.project_status) == (
        P.TASK_STATUS_IN_PROGRESS,
        P.PROJECT_STATUS_IN_PROGRESS,
    )
    progress = await project.progress()
    assert progress.status == P.PROJECT_STATUS_IN_PROGRESS
    assert counts(progress) == (4, 0, 1, 3)
    assert annotators(progress)[1] == ("zoe", 3, 1, 2, 66.67)
    # its resubmit replaces zoe's annotation in place: one annotation per task and annotator
    resubmitted = await project.submit(t1, RESULT.replace("正面", "负面"))
    assert resubmitted.annotation_id == submitted.annotation_id
    assert (await project.progress()).status == P.PROJECT_STATUS_COMPLETED
    stamps.append((await project.progress()).last_updated.ToDatetime())

    assert stamps == sorted(stamps)
    async with database.read() as conn:
        rows = (
            await conn.execute(
                select(Annotation.task_id, Annotation.user_id, Annotation.result_json)
            )
        ).all()
    assert len(rows) == 4
    assert {user for _, user, _ in rows} == {zoe.user_id, annotator.user_id}
    assert [r for t, _, r in rows if t == int(t1)] == [
        orjson.dumps(orjson.loads(RESULT.replace("正面", "负面"))).decode()
    ]


async def test_invalid_transitions_name_the_current_status(
    project: Project, annotator: TestUser
) -> None:
    t1, t2, *_ = project.task_ids
    error = await error_of(project.assign(annotator.user_id, [t1]))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.error_code == "INVALID_STATE"
    assert "draft" in error.message

    await project.configure(ready=True)
    error = await error_of(project.configure(ready=True))
    assert error.error_code == "INVALID_STATE" and "ready" in error.message

    error = await error_of(project.start(t1))
    assert error.error_code == "INVALID_STATE" and "pending" in error.message
    await project.assign(annotator.user_id, [t1, t2])
    error = await error_of(project.assign(annotator.user_id, [t1]))
    assert error.error_code == "INVALID_STATE"
    assert error.details["task_ids"] == [t1]

    error = await error_of(project.submit(t1))
    assert error.error_code == "INVALID_STATE" and "pending" in error.message
    await project.start(t1)
    error = await error_of(project.start(t1))
    assert error.error_code == "INVALID_STATE" and "in_progress" in error.message
    await project.submit(t1)
    error = await error_of(project.submit(t1))
    assert error.error_code == "INVALID_STATE" and "completed" in error.message


async def test_ready_needs_labels(
    project_stub: ProjectServiceStub, workflow_stub: WorkflowServiceStub, admin: TestUser
) -> None:
    project = await Project(project_stub, workflow_stub, admin).create(1, tags=False)
    error = await error_of(project.configure(ready=True))
    assert error.error_code == "INVALID_STATE"
    configured = await project.configure(labels=[P.TagInput(tag="x")], ready=True)
    assert configured.status == P.PROJECT_STATUS_READY


async def test_custom_label_config(project: Project) -> None:
    config = (
        '<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
        '<Choice value="x"/></Choices></View>'
    )
    configured = await project.configure(label_config=config)
    assert configured.config == config
    for bad in ["<View>", "<Other/>"]:
        error = await error_of(project.configure(label_config=bad))
        assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "label_config")


async def test_configure_validates_labels(project: Project) -> None:
    error = await error_of(project.configure(labels=[P.TagInput(tag="a", color="blue")]))
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "labels[0].color")


async def test_assign_checks_tasks_and_annotator(
    project: Project, annotator: TestUser, other_admin: TestUser
) -> None:
    await project.configure(ready=True)
    t1 = project.task_ids[0]
    error = await error_of(project.assign("user_000000000000", [t1]))
    assert error.error_code == "USER_NOT_FOUND"
    error = await error_of(project.assign(annotator.user_id, []))
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "task_ids")
    error = await error_of(project.assign(annotator.user_id, [t1, "abc"]))
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "task_ids[1]")
    error = await error_of(project.assign(annotator.user_id, [t1, t1]))
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "task_ids[1]")
    error = await error_of(project.assign(annotator.user_id, [t1, "987654321"]))
    assert error.error_code == "TASK_NOT_FOUND"
    assert error.details["task_ids"] == ["987654321"]


@pytest.mark.parametrize("result", ["not json", "{}", "[1, 2]"])
async def test_submit_needs_a_result_array(
    project: Project, annotator: TestUser, result: str
) -> None:
    t1 = project.task_ids[0]
    await project.configure(ready=True)
    await project.assign(annotator.user_id, [t1])
    await project.start(t1)
    error = await error_of(project.submit(t1, result))
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "result")


async def test_task_not_found(project: Project) -> None:
    for task_id in ["", "abc", "-1", "99999999"]:
        error = await error_of(project.start(task_id))
        assert error.code == grpc.StatusCode.NOT_FOUND
        assert (error.error_code, error.details) == ("TASK_NOT_FOUND", {"task_id": task_id})


@pytest.mark.parametrize("role", ["admin", "super_admin"])
async def test_only_annotators_can_be_assigned(
    project: Project, database: Database, role: str
) -> None:
    await project.configure(ready=True)
    # e.g. another tenant's admin: assigning them would show their name in progress
    user = await create_user(database, username=f"someone-{role}", role=role)
    error = await error_of(project.assign(user.user_id, [project.task_ids[0]]))
    assert error.error_code == "USER_NOT_FOUND"
    assert error.details == {"annotator_id": user.user_id}
    error = await error_of(project.assign(project.owner.user_id, [project.task_ids[0]]))
    assert error.error_code == "USER_NOT_FOUND"
    progress = await project.progress()
    assert list(progress.annotators) == []
    assert progress.status == P.PROJECT_STATUS_READY


@pytest.mark.parametrize("label", ["two\nlines", "tab\there", "cr\rx", "sep\u2028arator"])
async def test_labels_are_single_line_printable_text_where_they_enter(
    project: Project, annotator: TestUser, label: str
) -> None:
    error = await error_of(project.configure(labels=[P.TagInput(tag="ok"), P.TagInput(tag=label)]))
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "labels[1].tag")

    await project.configure(ready=True)
    t1 = project.task_ids[0]
    await project.assign(annotator.user_id, [t1])
    await project.start(t1)
    for result in (
        [{"type": "choices", "value": {"choices": ["正面", label]}}],
        [{"type": "rectanglelabels", "value": {"x": 1, "rectanglelabels": [label]}}],
        [{"type": "labels", "value": {"start": 0, "end": 1, "labels": [label]}}],
        [{"type": "taxonomy", "value": {"taxonomy": [["正面", label]]}}],
    ):
        error = await error_of(project.submit(t1, orjson.dumps(result).decode()))
        assert error.error_code == "INVALID_REQUEST"
        assert error.details["field"].startswith("result[0].value.")
    # the task was not completed by any of them
    assert (await project.submit(t1)).status == P.TASK_STATUS_COMPLETED
