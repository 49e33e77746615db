"""WorkflowService over gRPC (and REST through the gateway): parse, call, map."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from annotation.v1 import common_pb2, workflow_service_pb2_grpc
from annotation.v1 import workflow_service_pb2 as pb

from annotation_api.enum_names import enum_to_name, name_to_enum
from annotation_api.settings import Settings
from server.auth import bearer_token, current_caller
from server.lifecycle.rules import task_status_of
from server.projects.validation import TagSpec
from server.servicers.project import timestamp
from server.vocabulary import ReviewStatus
from server.watch import Watch
from server.workflow import annotating, assignments, configure, queue, users
from server.workflow.quality_settings import QualityChange
from server.workflow.queue import TaskView
from storage.changes import user_key
from storage.database import Database
from storage.quality_settings import QualitySettingsRecord

PROJECT_STATUS = common_pb2.ProjectStatus.DESCRIPTOR
TASK_STATUS = common_pb2.TaskStatus.DESCRIPTOR
TASK_TYPE = common_pb2.TaskType.DESCRIPTOR
USER_ROLE = pb.UserRole.DESCRIPTOR
REVIEW_MODE = common_pb2.ReviewMode.DESCRIPTOR
REVIEW_STATUS = common_pb2.ReviewStatus.DESCRIPTOR


def task_detail(view: TaskView) -> pb.TaskDetail:
    detail = view.detail
    message = pb.TaskDetail(
        task_id=str(detail.task_id),
        display_id=f"T-{detail.task_id}",
        project_id=detail.project_id,
        external_id=detail.external_id,
        task_type=name_to_enum(TASK_TYPE, detail.task_type),
        status=name_to_enum(TASK_STATUS, detail.status),
        data=view.data_json,
        label_config=detail.label_config,
        predictions=[
            pb.TaskPrediction(
                prediction_id=str(p.prediction_id),
                source=p.source,
                model_version=p.model_version,
                score=p.score,
                result=p.result_json,
                created_at=timestamp(p.created_at),
                region_prediction_ids=[str(row) for row in p.region_prediction_ids],
            )
            for p in view.predictions
        ],
        prelabel_prediction_id=(
            str(view.prelabel.prediction_id) if view.prelabel is not None else None
        ),
        annotations=[
            pb.TaskAnnotation(
                annotation_id=str(a.annotation_id),
                annotator=pb.UserRef(user_id=a.user_id, username=a.username),
                result=a.result_json,
                parent_prediction_id=(
                    str(a.parent_prediction_id) if a.parent_prediction_id is not None else None
                ),
                lead_time_seconds=a.lead_time_seconds,
                created_at=timestamp(a.created_at),
                updated_at=timestamp(a.updated_at),
                review_status=name_to_enum(REVIEW_STATUS, a.review_status or ""),
                reviewer=(
                    pb.UserRef(user_id=a.reviewer_id, username=a.reviewer_name or "")
                    if a.reviewer_id is not None
                    else None
                ),
                review_comment=a.review_comment,
                reviewed_at=timestamp(a.reviewed_at) if a.reviewed_at is not None else None,
                corrects_annotation_id=(
                    str(a.corrects_annotation_id) if a.corrects_annotation_id is not None else None
                ),
                ground_truth=a.is_ground_truth,
            )
            for a in detail.annotations
        ],
        ground_truth=detail.is_ground_truth,
        agreement=detail.agreement,
    )
    message.assignees.extend(
        pb.UserRef(user_id=user_id, username=username) for user_id, username in detail.assignees
    )
    if detail.assignee_id is not None:
        message.assignee.CopyFrom(
            pb.UserRef(user_id=detail.assignee_id, username=detail.assignee_name or "")
        )
    return message


def quality_change(message: common_pb2.QualitySettings) -> QualityChange:
    """A request's QualitySettings: absent fields (and REVIEW_MODE_UNSPECIFIED) unchanged."""

    def given(name: str) -> Any:
        return getattr(message, name) if message.HasField(name) else None

    return QualityChange(
        review_mode=enum_to_name(REVIEW_MODE, message.review_mode) or None,
        review_share=given("review_share"),
        annotations_per_task=given("annotations_per_task"),
        ground_truth_rate=given("ground_truth_rate"),
        iou_threshold=given("iou_threshold"),
    )


def quality_settings(record: QualitySettingsRecord) -> common_pb2.QualitySettings:
    return common_pb2.QualitySettings(
        review_mode=name_to_enum(REVIEW_MODE, record.review_mode),
        review_share=record.review_share,
        annotations_per_task=record.annotations_per_task,
        ground_truth_rate=record.ground_truth_rate,
        iou_threshold=record.iou_threshold,
    )


def assigned_counts(counts: dict[str, int]) -> pb.AssignedTaskCounts:
    return pb.AssignedTaskCounts(
        pending=counts.get("pending", 0),
        in_progress=counts.get("in_progress", 0),
        completed=counts.get("completed", 0),
    )


class WorkflowServicer(workflow_service_pb2_grpc.WorkflowServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._database = database
        self._watch = Watch.for_server(settings, database)

    async def ConfigureProject(
        self, request: pb.ConfigureProjectRequest, context: Any
    ) -> pb.ConfigureProjectResponse:
        configured = await configure.configure_project(
            self._database,
            current_caller(),
            request.project_id,
            labels=[
                TagSpec(label.tag, label.color if label.HasField("color") else None)
                for label in request.labels
            ],
            label_config=request.label_config if request.HasField("label_config") else None,
            ready=request.ready,
            prelabel_model_version=(
                request.prelabel_model_version
                if request.HasField("prelabel_model_version")
                else None
            ),
            quality=quality_change(request.quality) if request.HasField("quality") else None,
        )
        response = pb.ConfigureProjectResponse(
            project_id=configured.project_id,
            status=name_to_enum(PROJECT_STATUS, configured.status),
            labels=[common_pb2.Label(name=lb.name, color=lb.color) for lb in configured.labels],
            config=configured.config,
            prelabel_model_version=configured.prelabel_model_version,
        )
        if configured.quality is not None:
            response.quality.CopyFrom(quality_settings(configured.quality))
        return response

    async def AssignTasks(
        self, request: pb.AssignTasksRequest, context: Any
    ) -> pb.AssignTasksResponse:
        assigned = await assignments.assign_tasks(
            self._database,
            current_caller(),
            request.project_id,
            annotator_id=request.annotator_id,
            task_ids=list(request.task_ids),
            count=request.count,
        )
        return pb.AssignTasksResponse(
            project_id=assigned.project_id,
            assigned_count=assigned.assigned_count,
            project_status=name_to_enum(PROJECT_STATUS, assigned.project_status),
        )

    async def UnassignTasks(
        self, request: pb.UnassignTasksRequest, context: Any
    ) -> pb.UnassignTasksResponse:
        unassigned = await assignments.unassign_tasks(
            self._database,
            current_caller(),
            request.project_id,
            annotator_id=request.annotator_id or None,
            task_ids=list(request.task_ids),
        )
        return pb.UnassignTasksResponse(
            project_id=unassigned.project_id, unassigned_count=unassigned.unassigned_count
        )

    async def StartTask(self, request: pb.StartTaskRequest, context: Any) -> pb.StartTaskResponse:
        moved = await annotating.start_task(self._database, current_caller(), request.task_id)
        return pb.StartTaskResponse(
            task_id=str(moved.task_id),
            status=name_to_enum(TASK_STATUS, moved.status),
            project_status=name_to_enum(PROJECT_STATUS, moved.project_status),
        )

    async def ReopenTask(
        self, request: pb.ReopenTaskRequest, context: Any
    ) -> pb.ReopenTaskResponse:
        moved = await annotating.reopen_task(self._database, current_caller(), request.task_id)
        return pb.ReopenTaskResponse(
            task_id=str(moved.task_id),
            status=name_to_enum(TASK_STATUS, moved.status),
            project_status=name_to_enum(PROJECT_STATUS, moved.project_status),
        )

    async def SubmitAnnotation(
        self, request: pb.SubmitAnnotationRequest, context: Any
    ) -> pb.SubmitAnnotationResponse:
        moved = await annotating.submit_annotation(
            self._database,
            current_caller(),
            request.task_id,
            result=request.result,
            parent_prediction_id=(
                request.parent_prediction_id if request.HasField("parent_prediction_id") else None
            ),
            lead_time_seconds=(
                request.lead_time_seconds if request.HasField("lead_time_seconds") else None
            ),
            image_width=request.image_width if request.HasField("image_width") else None,
            image_height=request.image_height if request.HasField("image_height") else None,
        )
        return pb.SubmitAnnotationResponse(
            annotation_id=str(moved.annotation_id),
            task_id=str(moved.task_id),
            status=name_to_enum(TASK_STATUS, moved.status),
            project_status=name_to_enum(PROJECT_STATUS, moved.project_status),
        )

    async def UpdateAnnotation(
        self, request: pb.UpdateAnnotationRequest, context: Any
    ) -> pb.UpdateAnnotationResponse:
        annotation_id, task_id, updated_at = await annotating.update_annotation(
            self._database,
            current_caller(),
            request.annotation_id,
            result=request.result,
            lead_time_seconds=(
                request.lead_time_seconds if request.HasField("lead_time_seconds") else None
            ),
        )
        return pb.UpdateAnnotationResponse(
            annotation_id=str(annotation_id), task_id=str(task_id), updated_at=timestamp(updated_at)
        )

    async def SkipTask(self, request: pb.SkipTaskRequest, context: Any) -> pb.SkipTaskResponse:
        moved = await annotating.skip_task(
            self._database, current_caller(), request.task_id, reason=request.reason
        )
        return pb.SkipTaskResponse(
            task_id=str(moved.task_id),
            status=name_to_enum(TASK_STATUS, moved.status),
            project_status=name_to_enum(PROJECT_STATUS, moved.project_status),
        )

    async def GetTask(self, request: pb.GetTaskRequest, context: Any) -> pb.GetTaskResponse:
        view = await queue.get_task(self._database, current_caller(), request.task_id)
        return pb.GetTaskResponse(task=task_detail(view))

    async def NextTask(self, request: pb.NextTaskRequest, context: Any) -> pb.NextTaskResponse:
        view = await queue.next_task(
            self._database, current_caller(), project_id=request.project_id or None
        )
        return pb.NextTaskResponse(task=task_detail(view))

    async def ListAssignedTasks(
        self, request: pb.ListAssignedTasksRequest, context: Any
    ) -> pb.ListAssignedTasksResponse:
        status = enum_to_name(TASK_STATUS, request.status) or None
        page = await queue.list_assigned_tasks(
            self._database,
            current_caller(),
            annotator_id=request.annotator_id or None,
            project_id=request.project_id or None,
            status=status,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListAssignedTasksResponse(
            tasks=[
                pb.AssignedTask(
                    task_id=str(t.task_id),
                    display_id=f"T-{t.task_id}",
                    project_id=t.project_id,
                    project_name=t.project_name,
                    external_id=t.external_id,
                    status=name_to_enum(TASK_STATUS, task_status_of(t.status)),
                    updated_at=timestamp(t.updated_at),
                    review_status=name_to_enum(REVIEW_STATUS, t.review_status or ""),
                    review_comment=(
                        t.review_comment if t.review_status == ReviewStatus.REJECTED else None
                    ),
                )
                for t in page.tasks
            ],
            next_page_token=page.next_page_token,
            counts=assigned_counts(page.counts),
        )

    async def WatchAssignedTasks(
        self, request: pb.WatchAssignedTasksRequest, context: Any
    ) -> AsyncIterator[pb.WatchAssignedTasksResponse]:
        caller, database = current_caller(), self._database
        token = bearer_token(context.invocation_metadata()) or ""
        event_id = request.last_event_id
        states = self._watch.states(
            caller, token, user_key(caller.user_id), lambda: queue.queue_counts(database, caller)
        )
        async for counts in states:
            event_id += 1
            yield pb.WatchAssignedTasksResponse(event_id=event_id, counts=assigned_counts(counts))

    def end_streams(self) -> None:
        """The server is stopping: every WatchAssignedTasks stream ends now, cleanly."""
        self._watch.close()

    async def ListUsers(self, request: pb.ListUsersRequest, context: Any) -> pb.ListUsersResponse:
        role = enum_to_name(USER_ROLE, request.role) or None
        found = await users.list_users(self._database, current_caller(), role=role)
        return pb.ListUsersResponse(
            users=[
                pb.User(
                    user_id=u.user_id, username=u.username, role=name_to_enum(USER_ROLE, u.role)
                )
                for u in found
            ]
        )

    async def GetCurrentUser(
        self, request: pb.GetCurrentUserRequest, context: Any
    ) -> pb.GetCurrentUserResponse:
        caller = current_caller()
        return pb.GetCurrentUserResponse(
            user=pb.User(
                user_id=caller.user_id,
                username=caller.username,
                role=name_to_enum(USER_ROLE, caller.role),
            )
        )
