"""A reviewer's verdicts reach a project's webhook as REVIEW_CREATED events, and the
reject that brings a completed project's task back moves the project's status too."""

from __future__ import annotations

import grpc
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1 import review_service_pb2 as R
from annotation.v1 import webhook_service_pb2 as WH
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.review_service_pb2_grpc import ReviewServiceStub
from annotation.v1.webhook_service_pb2_grpc import WebhookServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub

from annotation_api.settings import Settings
from storage.database import Database
from tests.exports.receiver import receiving
from tests.helpers import TestUser, wait_until
from tests.webhooks.support import FAST, hook_url, unique_events
from tests.workflow.support import make_user

RESULT = '[{"type": "choices", "value": {"choices": ["好"]}}]'
COMMENT = "选错了: look again"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


async def test_verdicts_reach_the_receiver_as_review_events(
    database: Database, admin: TestUser, channel: grpc.aio.Channel, settings: Settings
) -> None:
    projects, workflow = ProjectServiceStub(channel), WorkflowServiceStub(channel)
    reviews = ReviewServiceStub(channel)
    md = admin.metadata
    created = await projects.InitProject(
        project_service_pb2.InitProjectRequest(
            name="reviewed",
            task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
            data=[project_service_pb2.TaskInput(content="文本")],
            tags=[common_pb2.TagInput(tag="好")],
        ),
        metadata=md,
    )
    pid = created.project_id
    await workflow.ConfigureProject(
        W.ConfigureProjectRequest(
            project_id=pid,
            ready=True,
            quality=common_pb2.QualitySettings(review_mode=common_pb2.REVIEW_MODE_ALL),
        ),
        metadata=md,
    )
    ann = await make_user(database, "ann", "annotator")
    rita = await make_user(database, "rita", "reviewer")
    await reviews.AddProjectReviewers(
        R.AddProjectReviewersRequest(project_id=pid, user_ids=[rita.user_id]), metadata=md
    )
    await workflow.AssignTasks(
        W.AssignTasksRequest(project_id=pid, annotator_id=ann.user_id, count=1), metadata=md
    )
    task_id = (await workflow.NextTask(W.NextTaskRequest(), metadata=ann.metadata)).task.task_id
    await workflow.StartTask(W.StartTaskRequest(task_id=task_id), metadata=ann.metadata)
    submitted = await workflow.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=ann.metadata
    )
    async with receiving() as receiver:
        await WebhookServiceStub(channel).CreateWebhook(
            WH.CreateWebhookRequest(
                project_id=pid,
                url=hook_url(receiver),
                events=["REVIEW_CREATED", "PROJECT_STATUS_CHANGED"],
            ),
            metadata=md,
        )
        await reviews.ReviewAnnotation(
            R.ReviewAnnotationRequest(
                annotation_id=submitted.annotation_id,
                verdict=common_pb2.REVIEW_VERDICT_REJECT,
                comment=COMMENT,
            ),
            metadata=rita.metadata,
        )
        await workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=ann.metadata
        )
        await reviews.ReviewAnnotation(
            R.ReviewAnnotationRequest(
                annotation_id=submitted.annotation_id, verdict=common_pb2.REVIEW_VERDICT_ACCEPT
            ),
            metadata=rita.metadata,
        )
        await wait_until(
            lambda: len(unique_events(receiver, settings.callback_secret)) >= 4,
            what="the review events and the status moves",
        )
        events = unique_events(receiver, settings.callback_secret)
    moves = [(e["action"], e.get("from"), e.get("to")) for e in events]
    # (each in the order of its transaction: the verdict, then the status it moved)
    assert moves == [
        ("REVIEW_CREATED", None, None),
        ("PROJECT_STATUS_CHANGED", "completed", "in_progress"),
        ("PROJECT_STATUS_CHANGED", "in_progress", "completed"),
        ("REVIEW_CREATED", None, None),
    ]
    rejected, accepted = (e["review"] for e in events if e["action"] == "REVIEW_CREATED")
    assert rejected == {
        "annotation": submitted.annotation_id,
        "accepted": False,
        "verdict": "reject",
        "comment": COMMENT,
        "created_by": rita.user_id,
        "correction": None,
    }
    assert accepted["accepted"] is True and accepted["verdict"] == "accept"
    assert {e["task"]["id"] for e in events if "task" in e} == {task_id}
