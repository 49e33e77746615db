"""ProjectService over gRPC: parse, call one domain function, map the result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from operator import attrgetter
from typing import Any

from annotation.v1 import common_pb2, project_service_pb2, project_service_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from annotation_api.enum_names import enum_to_name, name_to_enum
from annotation_api.settings import Settings
from server.auth import bearer_token, current_caller
from server.display_ids import display_id
from server.projects import listing, service
from server.projects.init import BATCH_ITEMS, CreatedProject, ProjectPart, init_project_stream
from server.projects.validation import TagSpec
from server.watch import Watch
from storage.database import Database

TASK_TYPE = common_pb2.TaskType.DESCRIPTOR
PROJECT_STATUS = common_pb2.ProjectStatus.DESCRIPTOR
TASK_STATUS = common_pb2.TaskStatus.DESCRIPTOR
_ITEM_ID = attrgetter("id")
_CONTENT = attrgetter("content")
_METADATA = attrgetter("metadata")


def timestamp(value: Any) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _tag_specs(tags: Any) -> list[TagSpec]:
    return [TagSpec(tag.tag, tag.color if tag.HasField("color") else None) for tag in tags]


def _part(data: Sequence[project_service_pb2.TaskInput], **fields: Any) -> ProjectPart:
    """A part of the fields given and the batch of items, column-wise (no per-item
    objects kept)."""
    item_ids: list[str | None] = list(map(_ITEM_ID, data))
    for index in [index for index, item_id in enumerate(item_ids) if not item_id]:
        if not data[index].HasField("id"):
            item_ids[index] = None  # an empty id that was given stays, to be refused
    return ProjectPart(
        contents=list(map(_CONTENT, data)),
        item_ids=item_ids,
        metadata=list(map(_METADATA, data)),
        **fields,
    )


async def request_parts(
    request: project_service_pb2.InitProjectRequest,
) -> AsyncIterator[ProjectPart]:
    """An InitProject request as the parts of a streamed init: its fields (final) and
    its items in batches, each batch copied out of the message when it is needed."""
    data = request.data
    yield _part(
        data[:BATCH_ITEMS],
        name=request.name,
        task_type=enum_to_name(TASK_TYPE, request.task_type),
        description=request.description,
        external_id=request.external_id if request.HasField("external_id") else None,
        tags=_tag_specs(request.tags),
        final_fields=True,
    )
    for start in range(BATCH_ITEMS, len(data), BATCH_ITEMS):
        yield _part(data[start : start + BATCH_ITEMS])


def parse_project_part(message: project_service_pb2.InitProjectStreamRequest) -> ProjectPart:
    """One message of InitProjectStream; fields left at their default are not set."""
    return _part(
        message.data,
        name=message.name or None,
        task_type=enum_to_name(TASK_TYPE, message.task_type) or None,
        description=message.description or None,
        external_id=message.external_id if message.HasField("external_id") else None,
        tags=_tag_specs(message.tags),
    )


async def _project_parts(
    messages: AsyncIterator[project_service_pb2.InitProjectStreamRequest],
) -> AsyncIterator[ProjectPart]:
    async for message in messages:
        yield parse_project_part(message)


def _fill_created(response: Any, created: CreatedProject) -> Any:
    project = created.project
    response.project_id = project.project_id
    response.project_name = project.name
    response.task_count = created.task_count
    response.status = name_to_enum(PROJECT_STATUS, project.status)
    response.created_at.CopyFrom(timestamp(project.created_at))
    response.config = project.label_config
    if project.external_id is not None:
        response.external_id = project.external_id
    return response


def progress_message(progress: service.Progress) -> project_service_pb2.GetProgressResponse:
    project = progress.project
    return project_service_pb2.GetProgressResponse(
        project_id=project.project_id,
        project_name=project.name,
        status=name_to_enum(PROJECT_STATUS, project.status),
        total_tasks=project.total_tasks,
        completed_tasks=project.completed_tasks,
        in_progress_tasks=project.in_progress_tasks,
        pending_tasks=project.pending_tasks,
        completion_percentage=progress.completion_percentage,
        annotators=[
            project_service_pb2.AnnotatorProgress(
                user_id=a.counts.user_id,
                username=a.counts.username,
                assigned_count=a.counts.assigned_count,
                completed_count=a.counts.completed_count,
                in_progress_count=a.counts.in_progress_count,
                completion_rate=a.completion_rate,
                review_pending_count=a.counts.review_pending_count,
                accepted_count=a.counts.accepted_count,
                rejected_count=a.counts.rejected_count,
                agreement=a.agreement,
                ground_truth_accuracy=a.ground_truth_accuracy,
            )
            for a in progress.annotators
        ],
        last_updated=timestamp(project.updated_at),
        review_pending_count=project.review_pending_count,
        accepted_count=project.accepted_count,
        rejected_count=project.rejected_count,
        reviewed_count=project.reviewed_count,
        agreement=progress.agreement,
        ground_truth_accuracy=progress.ground_truth_accuracy,
    )


class ProjectServicer(project_service_pb2_grpc.ProjectServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._database = database
        self._watch = Watch.for_server(settings, database)
        # The last state converted for a stream: the streams of one project share
        # their reads (server.watch), so the next streams get the same object.
        self._converted: tuple[object, project_service_pb2.GetProgressResponse] | None = None

    def end_streams(self) -> None:
        """The server is stopping: every WatchProgress stream ends now, cleanly."""
        self._watch.close()

    async def InitProject(
        self, request: project_service_pb2.InitProjectRequest, context: Any
    ) -> project_service_pb2.InitProjectResponse:
        created = await init_project_stream(
            self._database, current_caller(), request_parts(request)
        )
        return _fill_created(project_service_pb2.InitProjectResponse(), created)

    async def InitProjectStream(
        self,
        request_iterator: AsyncIterator[project_service_pb2.InitProjectStreamRequest],
        context: Any,
    ) -> project_service_pb2.InitProjectStreamResponse:
        created = await init_project_stream(
            self._database, current_caller(), _project_parts(request_iterator)
        )
        return _fill_created(project_service_pb2.InitProjectStreamResponse(), created)

    async def GetProgress(
        self, request: project_service_pb2.GetProgressRequest, context: Any
    ) -> project_service_pb2.GetProgressResponse:
        progress = await service.get_progress(self._database, current_caller(), request.project_id)
        return progress_message(progress)

    async def WatchProgress(
        self, request: project_service_pb2.WatchProgressRequest, context: Any
    ) -> AsyncIterator[project_service_pb2.WatchProgressResponse]:
        caller, project_id = current_caller(), request.project_id
        token = bearer_token(context.invocation_metadata()) or ""
        event_id = request.last_event_id
        states = self._watch.states(
            caller,
            token,
            project_id,
            lambda: service.get_progress(self._database, caller, project_id),
        )
        async for progress in states:
            event_id += 1
            converted = self._converted
            if converted is None or converted[0] is not progress:
                converted = self._converted = (progress, progress_message(progress))
            yield project_service_pb2.WatchProgressResponse(
                event_id=event_id, progress=converted[1]
            )

    async def ListProjects(
        self, request: project_service_pb2.ListProjectsRequest, context: Any
    ) -> project_service_pb2.ListProjectsResponse:
        page = await listing.list_projects(
            self._database,
            current_caller(),
            external_id=request.external_id or None,
            status=enum_to_name(PROJECT_STATUS, request.status) or None,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return project_service_pb2.ListProjectsResponse(
            projects=[
                project_service_pb2.ProjectSummary(
                    project_id=p.project_id,
                    name=p.name,
                    description=p.description,
                    task_type=name_to_enum(TASK_TYPE, p.task_type),
                    status=name_to_enum(PROJECT_STATUS, p.status),
                    external_id=p.external_id,
                    task_count=p.total_tasks,
                    completed_count=p.completed_tasks,
                    created_at=timestamp(p.created_at),
                    updated_at=timestamp(p.updated_at),
                )
                for p in page.projects
            ],
            next_page_token=page.next_page_token,
        )

    async def ListTasks(
        self, request: project_service_pb2.ListTasksRequest, context: Any
    ) -> project_service_pb2.ListTasksResponse:
        page = await service.list_tasks(
            self._database,
            current_caller(),
            request.project_id,
            page_size=request.page_size,
            page_token=request.page_token,
            status=enum_to_name(TASK_STATUS, request.status) or None,
        )
        response = project_service_pb2.ListTasksResponse(
            next_page_token=page.next_page_token, total_size=page.total_size
        )
        for task in page.tasks:
            summary = response.tasks.add(
                task_id=str(task.task_id),
                display_id=display_id(task.task_id),
                status=name_to_enum(TASK_STATUS, task.status),
            )
            if task.external_id is not None:
                summary.external_id = task.external_id
            if task.file_path is not None:
                summary.file_path = task.file_path
        return response
