"""Reopening a completed task (ReopenTask), and what a reopened task may do next:
its resubmit replaces the annotation in place (prediction stats counted once), it
cannot be skipped, and taking it back returns it to completed."""

from __future__ import annotations

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, prediction_service_pb2
from annotation.v1 import workflow_service_pb2 as W
from sqlalchemy import func, insert, select

from storage.database import Database
from storage.models import Annotation, Prediction
from storage.prediction_stats import rebuild_model_stats
from storage.types import utcnow
from tests.helpers import TestUser
from tests.workflow.test_rules import Setup, error_of

REGION = {"type": "choices", "from_name": "label", "to_name": "text", "value": {"choices": ["a"]}}


def choice(label: str) -> str:
    return orjson.dumps([{**REGION, "value": {"choices": [label]}}]).decode()


@pytest.fixture
def setup(channel: grpc.aio.Channel, admin: TestUser) -> Setup:
    return Setup(channel, admin)


async def completed_task(
    setup: Setup, annotator: TestUser, tasks: int = 2
) -> tuple[str, list[str], str]:
    """A project with its first task completed by the annotator; (project, tasks, annotation)."""
    pid, ids = await setup.new_project(tasks)
    await setup.assign(pid, annotator, ids)
    wf, md = setup.workflow, annotator.metadata
    await wf.StartTask(W.StartTaskRequest(task_id=ids[0]), metadata=md)
    submitted = await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=ids[0], result=choice("a")), metadata=md
    )
    return pid, ids, submitted.annotation_id


async def annotation_count(database: Database, task_id: str) -> int:
    async with database.read() as conn:
        return int(
            (
                await conn.execute(select(func.count()).where(Annotation.task_id == int(task_id)))
            ).scalar_one()
        )


def counts(progress: object) -> tuple[int, ...]:
    [mine] = progress.annotators  # type: ignore[attr-defined]
    return (
        progress.in_progress_tasks,  # type: ignore[attr-defined]
        progress.completed_tasks,  # type: ignore[attr-defined]
        mine.assigned_count,
        mine.in_progress_count,
        mine.completed_count,
    )


async def test_only_reopen_takes_a_completed_task_back_and_its_resubmit_replaces_the_annotation(
    setup: Setup, annotator: TestUser, database: Database
) -> None:
    pid, ids, annotation_id = await completed_task(setup, annotator)
    wf, md = setup.workflow, annotator.metadata

    error = await error_of(wf.StartTask(W.StartTaskRequest(task_id=ids[0]), metadata=md))
    assert (error.code, error.error_code) == (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE")
    assert error.details == {"task_status": "completed"}
    assert "ReopenTask" in error.message
    error = await error_of(wf.ReopenTask(W.ReopenTaskRequest(task_id=ids[1]), metadata=md))
    assert (error.error_code, error.details) == ("INVALID_STATE", {"task_status": "pending"})

    reopened = await wf.ReopenTask(W.ReopenTaskRequest(task_id=ids[0]), metadata=md)
    assert reopened.status == common_pb2.TASK_STATUS_IN_PROGRESS
    assert counts(await setup.progress(pid)) == (1, 0, 2, 1, 0)
    # the reopened task still shows its annotation, for the annotator to correct
    task = (await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=md)).task
    assert [a.annotation_id for a in task.annotations] == [annotation_id]

    resubmitted = await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=ids[0], result=choice("b"), lead_time_seconds=3.5),
        metadata=md,
    )
    assert resubmitted.annotation_id == annotation_id
    assert await annotation_count(database, ids[0]) == 1
    task = (await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=md)).task
    [annotation] = task.annotations
    assert orjson.loads(annotation.result)[0]["value"] == {"choices": ["b"]}
    assert annotation.lead_time_seconds == 3.5
    assert counts(await setup.progress(pid)) == (0, 1, 2, 0, 1)


async def test_a_reopened_task_cannot_be_skipped_and_unassigning_it_returns_it_to_completed(
    setup: Setup, annotator: TestUser, database: Database
) -> None:
    pid, ids, annotation_id = await completed_task(setup, annotator)
    wf, md = setup.workflow, annotator.metadata
    await wf.ReopenTask(W.ReopenTaskRequest(task_id=ids[0]), metadata=setup.md)  # by the admin

    error = await error_of(
        wf.SkipTask(W.SkipTaskRequest(task_id=ids[0], reason="changed my mind"), metadata=md)
    )
    assert (error.error_code, error.details) == ("INVALID_STATE", {"task_status": "in_progress"})
    assert counts(await setup.progress(pid)) == (1, 0, 2, 1, 0)

    taken = await wf.UnassignTasks(
        W.UnassignTasksRequest(project_id=pid, annotator_id=annotator.user_id), metadata=setup.md
    )
    assert taken.unassigned_count == 2  # the reopened task and the pending one
    task = (await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=setup.md)).task
    assert task.status == common_pb2.TASK_STATUS_COMPLETED
    assert task.assignee.user_id == annotator.user_id
    assert [a.annotation_id for a in task.annotations] == [annotation_id]
    # the pending task is free again; the completed one stays attributed
    assert counts(await setup.progress(pid)) == (0, 1, 1, 0, 1)


async def test_a_resubmit_moves_the_prediction_stats_from_the_old_answer_to_the_new(
    setup: Setup, annotator: TestUser, database: Database
) -> None:
    pid, ids = await setup.new_project(1)
    await setup.assign(pid, annotator, ids)
    async with database.transaction() as conn:
        await conn.execute(
            insert(Prediction.__table__).values(
                task_id=int(ids[0]),
                project_id=pid,
                source="external_import",
                model_version="v1",
                score=0.5,
                result_json=orjson.dumps([{**REGION, "id": "p1"}]).decode(),
                created_at=utcnow(),
            )
        )
        await rebuild_model_stats(conn, pid)
    wf, md = setup.workflow, annotator.metadata
    [prediction] = (
        await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=md)
    ).task.predictions

    async def model() -> prediction_service_pb2.ModelStats:
        stats = await setup.prediction.GetPredictionStats(
            prediction_service_pb2.GetPredictionStatsRequest(project_id=pid), metadata=setup.md
        )
        [entry] = stats.models
        return entry

    await wf.StartTask(W.StartTaskRequest(task_id=ids[0]), metadata=md)
    await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(
            task_id=ids[0], result=choice("a"), parent_prediction_id=prediction.prediction_id
        ),
        metadata=md,
    )
    entry = await model()
    assert (entry.annotations_from_prediction, entry.accepted_unchanged, entry.modified) == (
        1,
        1,
        0,
    )

    # reopened, and answered without the pre-label this time
    await wf.ReopenTask(W.ReopenTaskRequest(task_id=ids[0]), metadata=md)
    await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=ids[0], result=choice("b")), metadata=md
    )
    entry = await model()
    assert (
        entry.annotations_from_prediction,
        entry.accepted_unchanged,
        entry.annotated_without_prediction_use,
    ) == (0, 0, 1)
    [annotation] = (
        await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=md)
    ).task.annotations
    assert not annotation.HasField("parent_prediction_id")
