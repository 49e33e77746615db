import datetime

from annotation.v1 import common_pb2 as _common_pb2
from annotation.v1 import options_pb2 as _options_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_ROLE_UNSPECIFIED: _ClassVar[UserRole]
    USER_ROLE_SUPER_ADMIN: _ClassVar[UserRole]
    USER_ROLE_ADMIN: _ClassVar[UserRole]
    USER_ROLE_ANNOTATOR: _ClassVar[UserRole]
    USER_ROLE_REVIEWER: _ClassVar[UserRole]
USER_ROLE_UNSPECIFIED: UserRole
USER_ROLE_SUPER_ADMIN: UserRole
USER_ROLE_ADMIN: UserRole
USER_ROLE_ANNOTATOR: UserRole
USER_ROLE_REVIEWER: UserRole

class ConfigureProjectRequest(_message.Message):
    __slots__ = ("project_id", "labels", "label_config", "ready", "prelabel_model_version", "quality")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    PRELABEL_MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    labels: _containers.RepeatedCompositeFieldContainer[_common_pb2.TagInput]
    label_config: str
    ready: bool
    prelabel_model_version: str
    quality: _common_pb2.QualitySettings
    def __init__(self, project_id: _Optional[str] = ..., labels: _Optional[_Iterable[_Union[_common_pb2.TagInput, _Mapping]]] = ..., label_config: _Optional[str] = ..., ready: _Optional[bool] = ..., prelabel_model_version: _Optional[str] = ..., quality: _Optional[_Union[_common_pb2.QualitySettings, _Mapping]] = ...) -> None: ...

class ConfigureProjectResponse(_message.Message):
    __slots__ = ("project_id", "status", "labels", "config", "prelabel_model_version", "quality")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    PRELABEL_MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    status: _common_pb2.ProjectStatus
    labels: _containers.RepeatedCompositeFieldContainer[_common_pb2.Label]
    config: str
    prelabel_model_version: str
    quality: _common_pb2.QualitySettings
    def __init__(self, project_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ..., labels: _Optional[_Iterable[_Union[_common_pb2.Label, _Mapping]]] = ..., config: _Optional[str] = ..., prelabel_model_version: _Optional[str] = ..., quality: _Optional[_Union[_common_pb2.QualitySettings, _Mapping]] = ...) -> None: ...

class AssignTasksRequest(_message.Message):
    __slots__ = ("project_id", "annotator_id", "task_ids", "count")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    annotator_id: str
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    count: int
    def __init__(self, project_id: _Optional[str] = ..., annotator_id: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ..., count: _Optional[int] = ...) -> None: ...

class AssignTasksResponse(_message.Message):
    __slots__ = ("project_id", "assigned_count", "project_status")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_STATUS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    assigned_count: int
    project_status: _common_pb2.ProjectStatus
    def __init__(self, project_id: _Optional[str] = ..., assigned_count: _Optional[int] = ..., project_status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ...) -> None: ...

class UnassignTasksRequest(_message.Message):
    __slots__ = ("project_id", "annotator_id", "task_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    annotator_id: str
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., annotator_id: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class UnassignTasksResponse(_message.Message):
    __slots__ = ("project_id", "unassigned_count")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_COUNT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    unassigned_count: int
    def __init__(self, project_id: _Optional[str] = ..., unassigned_count: _Optional[int] = ...) -> None: ...

class StartTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class StartTaskResponse(_message.Message):
    __slots__ = ("task_id", "status", "project_status")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_STATUS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    status: _common_pb2.TaskStatus
    project_status: _common_pb2.ProjectStatus
    def __init__(self, task_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., project_status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ...) -> None: ...

class ReopenTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ReopenTaskResponse(_message.Message):
    __slots__ = ("task_id", "status", "project_status")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_STATUS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    status: _common_pb2.TaskStatus
    project_status: _common_pb2.ProjectStatus
    def __init__(self, task_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., project_status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ...) -> None: ...

class SubmitAnnotationRequest(_message.Message):
    __slots__ = ("task_id", "result", "parent_prediction_id", "lead_time_seconds", "image_width", "image_height")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PARENT_PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    IMAGE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    result: str
    parent_prediction_id: str
    lead_time_seconds: float
    image_width: int
    image_height: int
    def __init__(self, task_id: _Optional[str] = ..., result: _Optional[str] = ..., parent_prediction_id: _Optional[str] = ..., lead_time_seconds: _Optional[float] = ..., image_width: _Optional[int] = ..., image_height: _Optional[int] = ...) -> None: ...

class SubmitAnnotationResponse(_message.Message):
    __slots__ = ("annotation_id", "task_id", "status", "project_status")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_STATUS_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    task_id: str
    status: _common_pb2.TaskStatus
    project_status: _common_pb2.ProjectStatus
    def __init__(self, annotation_id: _Optional[str] = ..., task_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., project_status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ...) -> None: ...

class UpdateAnnotationRequest(_message.Message):
    __slots__ = ("annotation_id", "result", "lead_time_seconds")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    result: str
    lead_time_seconds: float
    def __init__(self, annotation_id: _Optional[str] = ..., result: _Optional[str] = ..., lead_time_seconds: _Optional[float] = ...) -> None: ...

class UpdateAnnotationResponse(_message.Message):
    __slots__ = ("annotation_id", "task_id", "updated_at")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    task_id: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, annotation_id: _Optional[str] = ..., task_id: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SkipTaskRequest(_message.Message):
    __slots__ = ("task_id", "reason")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    reason: str
    def __init__(self, task_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SkipTaskResponse(_message.Message):
    __slots__ = ("task_id", "status", "project_status")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_STATUS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    status: _common_pb2.TaskStatus
    project_status: _common_pb2.ProjectStatus
    def __init__(self, task_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., project_status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class GetTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskDetail
    def __init__(self, task: _Optional[_Union[TaskDetail, _Mapping]] = ...) -> None: ...

class UserRef(_message.Message):
    __slots__ = ("user_id", "username")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class TaskDetail(_message.Message):
    __slots__ = ("task_id", "display_id", "project_id", "external_id", "task_type", "status", "assignee", "data", "label_config", "predictions", "annotations", "prelabel_prediction_id", "ground_truth", "agreement", "assignees")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LABEL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    PRELABEL_PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEES_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    display_id: str
    project_id: str
    external_id: str
    task_type: _common_pb2.TaskType
    status: _common_pb2.TaskStatus
    assignee: UserRef
    data: str
    label_config: str
    predictions: _containers.RepeatedCompositeFieldContainer[TaskPrediction]
    annotations: _containers.RepeatedCompositeFieldContainer[TaskAnnotation]
    prelabel_prediction_id: str
    ground_truth: bool
    agreement: float
    assignees: _containers.RepeatedCompositeFieldContainer[UserRef]
    def __init__(self, task_id: _Optional[str] = ..., display_id: _Optional[str] = ..., project_id: _Optional[str] = ..., external_id: _Optional[str] = ..., task_type: _Optional[_Union[_common_pb2.TaskType, str]] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., assignee: _Optional[_Union[UserRef, _Mapping]] = ..., data: _Optional[str] = ..., label_config: _Optional[str] = ..., predictions: _Optional[_Iterable[_Union[TaskPrediction, _Mapping]]] = ..., annotations: _Optional[_Iterable[_Union[TaskAnnotation, _Mapping]]] = ..., prelabel_prediction_id: _Optional[str] = ..., ground_truth: _Optional[bool] = ..., agreement: _Optional[float] = ..., assignees: _Optional[_Iterable[_Union[UserRef, _Mapping]]] = ...) -> None: ...

class TaskPrediction(_message.Message):
    __slots__ = ("prediction_id", "source", "model_version", "score", "result", "created_at", "region_prediction_ids")
    PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REGION_PREDICTION_IDS_FIELD_NUMBER: _ClassVar[int]
    prediction_id: str
    source: str
    model_version: str
    score: float
    result: str
    created_at: _timestamp_pb2.Timestamp
    region_prediction_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, prediction_id: _Optional[str] = ..., source: _Optional[str] = ..., model_version: _Optional[str] = ..., score: _Optional[float] = ..., result: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region_prediction_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class TaskAnnotation(_message.Message):
    __slots__ = ("annotation_id", "annotator", "result", "parent_prediction_id", "lead_time_seconds", "created_at", "updated_at", "review_status", "reviewer", "review_comment", "reviewed_at", "corrects_annotation_id", "ground_truth")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PARENT_PREDICTION_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVIEW_STATUS_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COMMENT_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    CORRECTS_ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    annotator: UserRef
    result: str
    parent_prediction_id: str
    lead_time_seconds: float
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    review_status: _common_pb2.ReviewStatus
    reviewer: UserRef
    review_comment: str
    reviewed_at: _timestamp_pb2.Timestamp
    corrects_annotation_id: str
    ground_truth: bool
    def __init__(self, annotation_id: _Optional[str] = ..., annotator: _Optional[_Union[UserRef, _Mapping]] = ..., result: _Optional[str] = ..., parent_prediction_id: _Optional[str] = ..., lead_time_seconds: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_status: _Optional[_Union[_common_pb2.ReviewStatus, str]] = ..., reviewer: _Optional[_Union[UserRef, _Mapping]] = ..., review_comment: _Optional[str] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., corrects_annotation_id: _Optional[str] = ..., ground_truth: _Optional[bool] = ...) -> None: ...

class ListAssignedTasksRequest(_message.Message):
    __slots__ = ("status", "project_id", "annotator_id", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.TaskStatus
    project_id: str
    annotator_id: str
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., project_id: _Optional[str] = ..., annotator_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssignedTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token", "counts")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[AssignedTask]
    next_page_token: str
    counts: AssignedTaskCounts
    def __init__(self, tasks: _Optional[_Iterable[_Union[AssignedTask, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., counts: _Optional[_Union[AssignedTaskCounts, _Mapping]] = ...) -> None: ...

class AssignedTask(_message.Message):
    __slots__ = ("task_id", "display_id", "project_id", "project_name", "external_id", "status", "updated_at", "review_status", "review_comment")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVIEW_STATUS_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COMMENT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    display_id: str
    project_id: str
    project_name: str
    external_id: str
    status: _common_pb2.TaskStatus
    updated_at: _timestamp_pb2.Timestamp
    review_status: _common_pb2.ReviewStatus
    review_comment: str
    def __init__(self, task_id: _Optional[str] = ..., display_id: _Optional[str] = ..., project_id: _Optional[str] = ..., project_name: _Optional[str] = ..., external_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_status: _Optional[_Union[_common_pb2.ReviewStatus, str]] = ..., review_comment: _Optional[str] = ...) -> None: ...

class WatchAssignedTasksRequest(_message.Message):
    __slots__ = ("last_event_id",)
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    last_event_id: int
    def __init__(self, last_event_id: _Optional[int] = ...) -> None: ...

class WatchAssignedTasksResponse(_message.Message):
    __slots__ = ("event_id", "counts")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    counts: AssignedTaskCounts
    def __init__(self, event_id: _Optional[int] = ..., counts: _Optional[_Union[AssignedTaskCounts, _Mapping]] = ...) -> None: ...

class AssignedTaskCounts(_message.Message):
    __slots__ = ("pending", "in_progress", "completed")
    PENDING_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    pending: int
    in_progress: int
    completed: int
    def __init__(self, pending: _Optional[int] = ..., in_progress: _Optional[int] = ..., completed: _Optional[int] = ...) -> None: ...

class NextTaskRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class NextTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskDetail
    def __init__(self, task: _Optional[_Union[TaskDetail, _Mapping]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: UserRole
    def __init__(self, role: _Optional[_Union[UserRole, str]] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ...) -> None: ...

class GetCurrentUserRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCurrentUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("user_id", "username", "role")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    role: UserRole
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., role: _Optional[_Union[UserRole, str]] = ...) -> None: ...
