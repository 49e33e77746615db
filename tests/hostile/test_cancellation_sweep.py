"""Every mutating RPC cancelled at deadlines from 1 ms upward leaves nothing half-done.

Against a real serve process, each RPC is called with a deadline of 1, 2, ... ms (its
client gives up then; the server cancels the handler if it is still running). Then,
once the work that outlives its client has ended:

* no idempotency key is left `running` and every keyed init retried gets its project;
* no export is left `running`;
* an import is all or nothing (each call's model version has all its predictions or none);
* the project's and the annotators' counters equal a recount of the rows;
* every cancel the server saw left one log line naming the method and the deadline.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import (
    common_pb2,
    export_service_pb2,
    export_service_pb2_grpc,
    prediction_service_pb2,
    prediction_service_pb2_grpc,
    project_service_pb2,
    project_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)
from sqlalchemy import func, select

from annotation_api.settings import Settings
from storage.database import Database
from storage.models import (
    Assignment,
    Export,
    IdempotencyKey,
    Prediction,
    Project,
    ProjectAnnotator,
    Task,
)
from tests.helpers import TestUser
from tests.hostile.support import served_process

# 1 ms to 20 ms by 1 ms, then growing to 1 s: the early calls end before their work
# starts, the middle ones in the middle of it, the last ones after it
DEADLINES = [
    ms / 1000
    for ms in [
        *range(1, 21),
        25,
        30,
        40,
        50,
        65,
        80,
        100,
        130,
        160,
        200,
        250,
        320,
        400,
        500,
        650,
        800,
        1000,
    ]
]
TASKS = 120
PREDICTIONS_PER_FILE = 4
SETTLE_POLLS = 1500  # a bound on waiting for the outliving work (polls 20 ms apart)
# a call ends well, by its deadline, or with a rule's answer to the state the sweep left
_EXPECTED_CODES = {
    grpc.StatusCode.OK,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
}
LOG_LINE = re.compile(r"rpc cancelled: (/annotation\.v1\.\w+/\w+) \((.+?)\)")


async def _outcome(call: Awaitable[Any]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    except asyncio.CancelledError:
        # grpc.aio cancels a client stream whose deadline passes while it writes
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the test itself is being cancelled
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.OK


def _keyed(user: TestUser, key: str) -> tuple[tuple[str, str], ...]:
    return (*user.metadata, ("idempotency-key", key))


async def _settled(condition: Callable[[], Awaitable[bool]]) -> bool:
    for _ in range(SETTLE_POLLS):
        if await condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def _count(database: Database, query: Any) -> int:
    async with database.read() as conn:
        return int((await conn.execute(query)).scalar_one())


@pytest.mark.slow
async def test_a_cancel_at_any_moment_leaves_nothing_half_done(
    settings: Settings,
    database: Database,
    tmp_path: Path,
    admin: TestUser,
    annotator: TestUser,
) -> None:
    outcomes: Counter[tuple[str, grpc.StatusCode]] = Counter()
    async with (
        served_process(settings, tmp_path, log_level="INFO") as served,
        grpc.aio.insecure_channel(served.grpc_target) as channel,
    ):
        projects = project_service_pb2_grpc.ProjectServiceStub(channel)
        workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
        exports = export_service_pb2_grpc.ExportServiceStub(channel)
        predictions = prediction_service_pb2_grpc.PredictionServiceStub(channel)

        init = project_service_pb2.InitProjectRequest(
            name="sweep",
            task_type=common_pb2.TASK_TYPE_OBJECT_DETECTION,
            data=[
                project_service_pb2.TaskInput(id=f"t{i}", content=f"https://img.example/{i}.jpg")
                for i in range(TASKS)
            ],
            tags=[common_pb2.TagInput(tag="cat"), common_pb2.TagInput(tag="dog")],
        )
        project_id = (await projects.InitProject(init, metadata=admin.metadata)).project_id
        await workflow.ConfigureProject(
            workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
            metadata=admin.metadata,
        )

        def record(name: str, code: grpc.StatusCode) -> None:
            outcomes[(name, code)] += 1

        for index, deadline in enumerate(DEADLINES):
            # InitProject with a key
            key = f"init-{index}"
            request = project_service_pb2.InitProjectRequest(
                name=key,
                task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
                data=[project_service_pb2.TaskInput(content=f"text {i}") for i in range(3)],
                tags=[common_pb2.TagInput(tag="pos")],
            )
            call = projects.InitProject(request, metadata=_keyed(admin, key), timeout=deadline)
            record("InitProject", await _outcome(call))

            # AssignTasks: the next two tasks
            assign = workflow_service_pb2.AssignTasksRequest(
                project_id=project_id, annotator_id=annotator.user_id, count=2
            )
            call = workflow.AssignTasks(assign, metadata=admin.metadata, timeout=deadline)
            record("AssignTasks", await _outcome(call))

            # CreateExport with a key
            export = export_service_pb2.CreateExportRequest(
                project_id=project_id, format=common_pb2.EXPORT_FORMAT_JSON
            )
            call = exports.CreateExport(
                export, metadata=_keyed(admin, f"export-{index}"), timeout=deadline
            )
            record("CreateExport", await _outcome(call))

            # ImportPredictions: one model version per call
            call = predictions.ImportPredictions(
                _import_messages(project_id, f"m{index}"), metadata=admin.metadata, timeout=deadline
            )
            record("ImportPredictions", await _outcome(call))

        # StartTask and SubmitAnnotation on the annotator's next task, once tasks are assigned
        assign = workflow_service_pb2.AssignTasksRequest(
            project_id=project_id, annotator_id=annotator.user_id, count=len(DEADLINES)
        )
        await workflow.AssignTasks(assign, metadata=admin.metadata)
        for deadline in DEADLINES:
            try:
                task = (
                    await workflow.NextTask(
                        workflow_service_pb2.NextTaskRequest(project_id=project_id),
                        metadata=annotator.metadata,
                    )
                ).task
            except grpc.aio.AioRpcError:
                task = None
            if task is not None:
                start = workflow_service_pb2.StartTaskRequest(task_id=task.task_id)
                call = workflow.StartTask(start, metadata=annotator.metadata, timeout=deadline)
                record("StartTask", await _outcome(call))
                submit = workflow_service_pb2.SubmitAnnotationRequest(
                    task_id=task.task_id, result="[]", lead_time_seconds=1.0
                )
                call = workflow.SubmitAnnotation(
                    submit, metadata=annotator.metadata, timeout=deadline
                )
                record("SubmitAnnotation", await _outcome(call))

        async def keys_settled() -> bool:
            query = select(func.count()).where(IdempotencyKey.status == "running")
            return await _count(database, query) == 0

        async def exports_settled() -> bool:
            query = select(func.count()).where(Export.status == "running")
            return await _count(database, query) == 0

        unexpected = {name: code for name, code in outcomes if code not in _EXPECTED_CODES}
        assert unexpected == {}, outcomes
        assert await _settled(keys_settled), "an idempotency key stays running"
        assert await _settled(exports_settled), "an export stays running"

        # every keyed init, retried, gets its project (never 409)
        for index in range(len(DEADLINES)):
            key = f"init-{index}"
            request = project_service_pb2.InitProjectRequest(
                name=key,
                task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
                data=[project_service_pb2.TaskInput(content=f"text {i}") for i in range(3)],
                tags=[common_pb2.TagInput(tag="pos")],
            )
            response = await projects.InitProject(request, metadata=_keyed(admin, key))
            assert response.project_name == key
        log = served.log_text()

    assert await _count(database, select(func.count()).select_from(Project)) == 1 + len(DEADLINES)
    await _check_counters(database)
    await _check_imports(database, project_id)
    # something was cancelled, by its deadline, in every kind of call swept
    cancelled = sum(
        n for (_, code), n in outcomes.items() if code == grpc.StatusCode.DEADLINE_EXCEEDED
    )
    lines = LOG_LINE.findall(log)
    assert cancelled > 0
    assert 0 < len(lines) <= cancelled, (len(lines), cancelled)
    reasons = {"its deadline passed", "the client cancelled or went away"}
    assert {reason for _, reason in lines} <= reasons, lines
    assert {method.rsplit("/", 1)[1] for method, _ in lines} <= {name for name, _ in outcomes}
    assert "Traceback" not in log, log[log.find("Traceback") - 2000 :][:6000]


def _import_messages(
    project_id: str, model_version: str
) -> AsyncIterator[prediction_service_pb2.ImportPredictionsRequest]:
    tasks = [
        {
            "task_match": {"external_id": f"t{i}"},
            "predictions": [
                {
                    "geometry": {"type": "bbox", "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2},
                    "class_name": "cat",
                    "confidence": 0.5,
                }
            ],
        }
        for i in range(PREDICTIONS_PER_FILE)
    ]
    payload = orjson.dumps({"schema_version": "1.0", "tasks": tasks})

    async def messages() -> AsyncIterator[prediction_service_pb2.ImportPredictionsRequest]:
        yield prediction_service_pb2.ImportPredictionsRequest(
            project_id=project_id,
            format=prediction_service_pb2.IMPORT_FORMAT_AAP_JSON,
            model_version=model_version,
        )
        for start in range(0, len(payload), 64):
            yield prediction_service_pb2.ImportPredictionsRequest(chunk=payload[start : start + 64])

    return messages()


async def _check_counters(database: Database) -> None:
    """The stored counters of every project and annotator equal a recount of the rows."""
    async with database.read() as conn:
        for project in (await conn.execute(select(Project))).all():
            statuses = Counter(
                dict(
                    (
                        await conn.execute(
                            select(Task.status, func.count())
                            .where(Task.project_id == project.id)
                            .group_by(Task.status)
                        )
                    ).all()
                )
            )
            assert (
                project.total_tasks,
                project.completed_tasks,
                project.in_progress_tasks,
            ) == (
                sum(statuses.values()),
                statuses["completed"],
                statuses["in_progress"],
            ), project.id
        for counters in (await conn.execute(select(ProjectAnnotator))).all():
            rows = Counter(
                dict(
                    (
                        await conn.execute(
                            select(Assignment.status, func.count())
                            .where(
                                Assignment.project_id == counters.project_id,
                                Assignment.user_id == counters.user_id,
                            )
                            .group_by(Assignment.status)
                        )
                    ).all()
                )
            )
            assert (
                counters.assigned_count,
                counters.completed_count,
                counters.in_progress_count,
            ) == (sum(rows.values()), rows["completed"], rows["in_progress"]), counters.user_id


async def _check_imports(database: Database, project_id: str) -> None:
    """Each import's predictions are all there or none are."""
    async with database.read() as conn:
        per_version = dict(
            (
                await conn.execute(
                    select(Prediction.model_version, func.count())
                    .where(Prediction.project_id == project_id)
                    .group_by(Prediction.model_version)
                )
            ).all()
        )
    assert set(per_version.values()) <= {PREDICTIONS_PER_FILE}, per_version
