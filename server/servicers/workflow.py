"""WorkflowService over gRPC (internal services only; no REST route)."""

from __future__ import annotations

from typing import Any

from annotation.v1 import common_pb2, workflow_service_pb2, workflow_service_pb2_grpc

from annotation_api.enum_names import name_to_enum
from annotation_api.settings import Settings
from server.auth import current_caller
from server.projects.validation import TagSpec
from server.workflow import service
from storage.database import Database

PROJECT_STATUS = common_pb2.ProjectStatus.DESCRIPTOR
TASK_STATUS = common_pb2.TaskStatus.DESCRIPTOR


class WorkflowServicer(workflow_service_pb2_grpc.WorkflowServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._database = database

    async def ConfigureProject(
        self, request: workflow_service_pb2.ConfigureProjectRequest, context: Any
    ) -> workflow_service_pb2.ConfigureProjectResponse:
        configured = await service.configure_project(
            self._database,
            current_caller(),
            request.project_id,
            labels=[
                TagSpec(label.tag, label.color if label.HasField("color") else None)
                for label in request.labels
            ],
            label_config=request.label_config if request.HasField("label_config") else None,
            ready=request.ready,
        )
        return workflow_service_pb2.ConfigureProjectResponse(
            project_id=configured.project_id,
            status=name_to_enum(PROJECT_STATUS, configured.status),
            labels=[common_pb2.Label(name=lb.name, color=lb.color) for lb in configured.labels],
            config=configured.config,
        )

    async def AssignTasks(
        self, request: workflow_service_pb2.AssignTasksRequest, context: Any
    ) -> workflow_service_pb2.AssignTasksResponse:
        assigned = await service.assign_tasks(
            self._database,
            current_caller(),
            request.project_id,
            annotator_id=request.annotator_id,
            task_ids=list(request.task_ids),
        )
        return workflow_service_pb2.AssignTasksResponse(
            project_id=assigned.project_id,
            assigned_count=assigned.assigned_count,
            project_status=name_to_enum(PROJECT_STATUS, assigned.project_status),
        )

    async def StartTask(
        self, request: workflow_service_pb2.StartTaskRequest, context: Any
    ) -> workflow_service_pb2.StartTaskResponse:
        moved = await service.start_task(self._database, current_caller(), request.task_id)
        return workflow_service_pb2.StartTaskResponse(
            task_id=str(moved.task_id),
            status=name_to_enum(TASK_STATUS, moved.status),
            project_status=name_to_enum(PROJECT_STATUS, moved.project_status),
        )

    async def SubmitAnnotation(
        self, request: workflow_service_pb2.SubmitAnnotationRequest, context: Any
    ) -> workflow_service_pb2.SubmitAnnotationResponse:
        moved = await service.submit_annotation(
            self._database, current_caller(), request.task_id, result=request.result
        )
        return workflow_service_pb2.SubmitAnnotationResponse(
            annotation_id=str(moved.annotation_id),
            task_id=str(moved.task_id),
            status=name_to_enum(TASK_STATUS, moved.status),
            project_status=name_to_enum(PROJECT_STATUS, moved.project_status),
        )
