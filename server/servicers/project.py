"""ProjectService over gRPC: parse, call one domain function, map the result."""

from __future__ import annotations

from typing import Any

from annotation.v1 import common_pb2, project_service_pb2, project_service_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from annotation_api.enum_names import enum_to_name, name_to_enum
from annotation_api.settings import Settings
from server.auth import current_caller
from server.display_ids import display_id
from server.projects import listing, service
from server.projects.validation import NewProject, TagSpec
from storage.database import Database

TASK_TYPE = common_pb2.TaskType.DESCRIPTOR
PROJECT_STATUS = common_pb2.ProjectStatus.DESCRIPTOR
TASK_STATUS = common_pb2.TaskStatus.DESCRIPTOR


def timestamp(value: Any) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def parse_new_project(request: project_service_pb2.InitProjectRequest) -> NewProject:
    """Column-wise copy of the request (cheap for 200,000 items: no per-item objects)."""
    data = request.data
    return NewProject(
        name=request.name,
        description=request.description,
        task_type=enum_to_name(TASK_TYPE, request.task_type),
        external_id=request.external_id if request.HasField("external_id") else None,
        tags=[
            TagSpec(tag.tag, tag.color if tag.HasField("color") else None) for tag in request.tags
        ],
        contents=[item.content for item in data],
        item_ids=[item.id if item.HasField("id") else None for item in data],
        metadata=[item.metadata for item in data],
    )


class ProjectServicer(project_service_pb2_grpc.ProjectServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._database = database

    async def InitProject(
        self, request: project_service_pb2.InitProjectRequest, context: Any
    ) -> project_service_pb2.InitProjectResponse:
        created = await service.init_project(
            self._database, current_caller(), parse_new_project(request)
        )
        project = created.project
        response = project_service_pb2.InitProjectResponse(
            project_id=project.project_id,
            project_name=project.name,
            task_count=created.task_count,
            status=name_to_enum(PROJECT_STATUS, project.status),
            created_at=timestamp(project.created_at),
            config=project.label_config,
        )
        if project.external_id is not None:
            response.external_id = project.external_id
        return response

    async def GetProgress(
        self, request: project_service_pb2.GetProgressRequest, context: Any
    ) -> project_service_pb2.GetProgressResponse:
        progress = await service.get_progress(self._database, current_caller(), request.project_id)
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
                )
                for a in progress.annotators
            ],
            last_updated=timestamp(project.updated_at),
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
