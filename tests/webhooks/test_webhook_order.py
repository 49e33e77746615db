"""Concurrent changes of one project: their events are numbered without gaps or repeats
in the order the changes committed, and reach the receiver in that order."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1 import webhook_service_pb2 as WH
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.webhook_service_pb2_grpc import WebhookServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub

from annotation_api.settings import Settings
from storage.database import Database
from tests.exports.receiver import receiving
from tests.helpers import TestUser, wait_until
from tests.webhooks.support import FAST, hook_url, unique_events
from tests.workflow.support import make_user

ANNOTATORS = 3
TASKS_EACH = 4
RESULT = '[{"type": "choices", "value": {"choices": ["好"]}}]'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


async def test_concurrent_submits_are_numbered_and_sent_in_commit_order(
    database: Database, admin: TestUser, channel: grpc.aio.Channel
) -> None:
    projects, workflow = ProjectServiceStub(channel), WorkflowServiceStub(channel)
    created = await projects.InitProject(
        project_service_pb2.InitProjectRequest(
            name="order",
            task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
            data=[
                project_service_pb2.TaskInput(content=f"文本 {i}")
                for i in range(ANNOTATORS * TASKS_EACH)
            ],
            tags=[common_pb2.TagInput(tag="好")],
        ),
        metadata=admin.metadata,
    )
    pid = created.project_id
    await workflow.ConfigureProject(
        W.ConfigureProjectRequest(project_id=pid, ready=True), metadata=admin.metadata
    )
    listed = await projects.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=pid), metadata=admin.metadata
    )
    task_ids = [t.task_id for t in listed.tasks]
    work: list[tuple[TestUser, str]] = []
    for n in range(ANNOTATORS):
        user = await make_user(database, f"order-{n}", "annotator")
        mine = task_ids[n * TASKS_EACH : (n + 1) * TASKS_EACH]
        await workflow.AssignTasks(
            W.AssignTasksRequest(project_id=pid, annotator_id=user.user_id, task_ids=mine),
            metadata=admin.metadata,
        )
        for task_id in mine:
            await workflow.StartTask(W.StartTaskRequest(task_id=task_id), metadata=user.metadata)
            work.append((user, task_id))

    async with receiving() as receiver:
        await WebhookServiceStub(channel).CreateWebhook(
            WH.CreateWebhookRequest(project_id=pid, url=hook_url(receiver)),
            metadata=admin.metadata,
        )

        async def submit(user: TestUser, task_id: str) -> None:
            await workflow.SubmitAnnotation(
                W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=user.metadata
            )

        await asyncio.gather(*(submit(user, task_id) for user, task_id in work))
        expected = len(work) + 1  # and the project's completion
        events = await wait_until(
            lambda: len(receiver.requests) >= expected and unique_events(receiver, "test-secret"),
            what="every event",
        )

    assert len(receiver.requests) == expected  # each once: nothing failed
    assert [e["sequence"] for e in events] == list(range(1, expected + 1))
    created_for = [e["task"]["id"] for e in events if e["action"] == "ANNOTATION_CREATED"]
    assert sorted(created_for) == sorted(task_ids)
    # the last submit completed the project: its status change comes before its annotation
    assert [e["action"] for e in events[-2:]] == ["PROJECT_STATUS_CHANGED", "ANNOTATION_CREATED"]
    assert (events[-2]["from"], events[-2]["to"]) == ("in_progress", "completed")
