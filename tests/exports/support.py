"""Building annotated projects through the real services, and reading exports back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import orjson
from annotation.v1 import (
    common_pb2,
    export_service_pb2,
    export_service_pb2_grpc,
    project_service_pb2,
    project_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)

from annotation_api.settings import Settings
from server.app import RunningServer, channel_options, start_server
from storage.database import Database
from tests.exports.samples import choice, polygon, rectangle, span
from tests.helpers import WAIT_SECONDS, TestUser

IMAGE_SIZE = (640, 480)


@dataclass(frozen=True)
class Item:
    """One task of a test project and the annotation to submit (None: leave pending)."""

    content: str
    result: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None = None


# Three tasks per task type: two annotated, one left pending.
ITEMS: dict[str, list[Item]] = {
    "text_classification": [
        Item("这个产品非常好用!", [choice("正面")]),
        Item("=1+1 质量太差了", [choice("负面")]),
        Item("一般般", None),
    ],
    "ner": [
        Item("张三在北京工作", [span("PER", 0, 2, "张三"), span("LOC", 3, 5, "北京")]),
        Item("李四", [span("PER", 0, 2, "李四")]),
        Item("没有实体", None),
    ],
    "image_classification": [
        Item("https://img.example.com/a/cat.jpg", [choice("正面", "image")]),
        Item("https://img.example.com/b/cat.jpg", [choice("负面", "image")]),
        Item("https://img.example.com/c.jpg", None),
    ],
    "object_detection": [
        Item(
            "https://img.example.com/a/cat.jpg",
            [rectangle("正面", 10, 20, 30, 40), rectangle("负面", 50, 50, 25, 25)],
        ),
        Item("https://img.example.com/b/cat.jpg", [rectangle("负面", 0, 0, 50, 50)]),
        Item("https://img.example.com/c.jpg", None, {"width": 320, "height": 240}),
    ],
    "polygon": [
        Item(
            "https://img.example.com/a/cat.jpg",
            [polygon("正面", [[10, 10], [50, 10], [50, 60], [10, 60]])],
        ),
        Item(
            "https://img.example.com/b/cat.jpg", [polygon("负面", [[60, 60], [90, 70], [70, 90]])]
        ),
        Item("https://img.example.com/c.jpg", None, {"width": 320, "height": 240}),
    ],
}
LABELS = ("正面", "负面", "PER", "LOC")


def enum_value(enum: Any, prefix: str, name: str) -> int:
    return int(enum.Value(prefix + name.upper()))


async def build_project(
    channel: grpc.aio.Channel,
    owner: TestUser,
    annotator: TestUser,
    task_type: str,
    items: Sequence[Item] | None = None,
) -> tuple[str, list[str]]:
    """Init a project, configure it, assign every task and submit the annotations."""
    items = ITEMS[task_type] if items is None else items
    projects = project_service_pb2_grpc.ProjectServiceStub(channel)
    workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
    created = await projects.InitProject(
        project_service_pb2.InitProjectRequest(
            name=f"{task_type} export",
            task_type=enum_value(common_pb2.TaskType, "TASK_TYPE_", task_type),
            data=[
                project_service_pb2.TaskInput(
                    id=f"ext-{index}",
                    content=item.content,
                    metadata=orjson.dumps(item.metadata or {}).decode(),
                )
                for index, item in enumerate(items)
            ],
            tags=[common_pb2.TagInput(tag=label) for label in LABELS],
        ),
        metadata=owner.metadata,
    )
    project_id = created.project_id
    await workflow.ConfigureProject(
        workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
        metadata=owner.metadata,
    )
    listed = await projects.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=project_id, page_size=1000),
        metadata=owner.metadata,
    )
    task_ids = [t.task_id for t in listed.tasks]
    await workflow.AssignTasks(
        workflow_service_pb2.AssignTasksRequest(
            project_id=project_id, annotator_id=annotator.user_id, task_ids=task_ids
        ),
        metadata=owner.metadata,
    )
    for task_id, item in zip(task_ids, items, strict=True):
        if item.result is None:
            continue
        await workflow.StartTask(
            workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=owner.metadata
        )
        await workflow.SubmitAnnotation(
            workflow_service_pb2.SubmitAnnotationRequest(
                task_id=task_id, result=orjson.dumps(item.result).decode()
            ),
            metadata=owner.metadata,
        )
    return project_id, task_ids


def export_stub(channel: grpc.aio.Channel) -> export_service_pb2_grpc.ExportServiceStub:
    return export_service_pb2_grpc.ExportServiceStub(channel)


async def create_export(
    channel: grpc.aio.Channel,
    user: TestUser,
    project_id: str,
    fmt: str | None = None,
    *,
    completed_only: bool | None = None,
    callback_url: str | None = None,
) -> export_service_pb2.CreateExportResponse:
    request = export_service_pb2.CreateExportRequest(project_id=project_id)
    if fmt is not None:
        request.format = enum_value(common_pb2.ExportFormat, "EXPORT_FORMAT_", fmt)
    if completed_only is not None:
        request.completed_only = completed_only
    if callback_url is not None:
        request.callback_url = callback_url
    return await export_stub(channel).CreateExport(request, metadata=user.metadata)


async def download(
    channel: grpc.aio.Channel, user: TestUser, export_id: str, target: Path
) -> export_service_pb2.DownloadExportResponse:
    """Stream an export into target; return the first message (name, type, size)."""
    first = None
    with target.open("wb") as out:
        call = export_stub(channel).DownloadExport(
            export_service_pb2.DownloadExportRequest(export_id=export_id),
            metadata=user.metadata,
        )
        async for message in call:
            if first is None:
                first = message
            else:
                assert not message.file_name and not message.content_type
            out.write(message.chunk)
    assert first is not None
    return first


async def get_export(
    channel: grpc.aio.Channel, user: TestUser, export_id: str
) -> export_service_pb2.GetExportResponse:
    return await export_stub(channel).GetExport(
        export_service_pb2.GetExportRequest(export_id=export_id), metadata=user.metadata
    )


async def wait_for_callback_outcome(
    channel: grpc.aio.Channel, user: TestUser, export_id: str, *, deadline: float = WAIT_SECONDS
) -> export_service_pb2.GetExportResponse:
    """Poll GetExport until the callback is no longer pending (or the deadline passes)."""
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    while True:
        details = await get_export(channel, user, export_id)
        if details.callback_status != common_pb2.CALLBACK_STATUS_PENDING or loop.time() > until:
            return details
        await asyncio.sleep(0.02)


@asynccontextmanager
async def serving(
    settings: Settings, database: Database
) -> AsyncIterator[tuple[RunningServer, grpc.aio.Channel]]:
    """A server (with its workers) on port 0 for settings, and a channel to it."""
    running = await start_server(settings, database)
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{running.port}", options=channel_options(settings)
        ) as channel:
            yield running, channel
    finally:
        await running.stop(0)
