import datetime

from annotation.v1 import common_pb2 as _common_pb2
from annotation.v1 import options_pb2 as _options_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InitProjectRequest(_message.Message):
    __slots__ = ("name", "description", "task_type", "data", "external_id", "tags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    task_type: _common_pb2.TaskType
    data: _containers.RepeatedCompositeFieldContainer[TaskInput]
    external_id: str
    tags: _containers.RepeatedCompositeFieldContainer[_common_pb2.TagInput]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., task_type: _Optional[_Union[_common_pb2.TaskType, str]] = ..., data: _Optional[_Iterable[_Union[TaskInput, _Mapping]]] = ..., external_id: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[_common_pb2.TagInput, _Mapping]]] = ...) -> None: ...

class TaskInput(_message.Message):
    __slots__ = ("id", "content", "metadata")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    content: str
    metadata: str
    def __init__(self, id: _Optional[str] = ..., content: _Optional[str] = ..., metadata: _Optional[str] = ...) -> None: ...

class InitProjectResponse(_message.Message):
    __slots__ = ("project_id", "project_name", "task_count", "status", "created_at", "config", "external_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    project_name: str
    task_count: int
    status: _common_pb2.ProjectStatus
    created_at: _timestamp_pb2.Timestamp
    config: str
    external_id: str
    def __init__(self, project_id: _Optional[str] = ..., project_name: _Optional[str] = ..., task_count: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., config: _Optional[str] = ..., external_id: _Optional[str] = ...) -> None: ...

class InitProjectStreamRequest(_message.Message):
    __slots__ = ("name", "description", "task_type", "data", "external_id", "tags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    task_type: _common_pb2.TaskType
    data: _containers.RepeatedCompositeFieldContainer[TaskInput]
    external_id: str
    tags: _containers.RepeatedCompositeFieldContainer[_common_pb2.TagInput]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., task_type: _Optional[_Union[_common_pb2.TaskType, str]] = ..., data: _Optional[_Iterable[_Union[TaskInput, _Mapping]]] = ..., external_id: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[_common_pb2.TagInput, _Mapping]]] = ...) -> None: ...

class InitProjectStreamResponse(_message.Message):
    __slots__ = ("project_id", "project_name", "task_count", "status", "created_at", "config", "external_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    project_name: str
    task_count: int
    status: _common_pb2.ProjectStatus
    created_at: _timestamp_pb2.Timestamp
    config: str
    external_id: str
    def __init__(self, project_id: _Optional[str] = ..., project_name: _Optional[str] = ..., task_count: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., config: _Optional[str] = ..., external_id: _Optional[str] = ...) -> None: ...

class GetProgressRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetProgressResponse(_message.Message):
    __slots__ = ("project_id", "project_name", "status", "total_tasks", "completed_tasks", "in_progress_tasks", "pending_tasks", "completion_percentage", "annotators", "last_updated", "review_pending_count", "accepted_count", "rejected_count", "reviewed_count", "agreement", "ground_truth_accuracy")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TASKS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_TASKS_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_TASKS_FIELD_NUMBER: _ClassVar[int]
    PENDING_TASKS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATORS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    REVIEW_PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_COUNT_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    project_name: str
    status: _common_pb2.ProjectStatus
    total_tasks: int
    completed_tasks: int
    in_progress_tasks: int
    pending_tasks: int
    completion_percentage: float
    annotators: _containers.RepeatedCompositeFieldContainer[AnnotatorProgress]
    last_updated: _timestamp_pb2.Timestamp
    review_pending_count: int
    accepted_count: int
    rejected_count: int
    reviewed_count: int
    agreement: float
    ground_truth_accuracy: float
    def __init__(self, project_id: _Optional[str] = ..., project_name: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ..., total_tasks: _Optional[int] = ..., completed_tasks: _Optional[int] = ..., in_progress_tasks: _Optional[int] = ..., pending_tasks: _Optional[int] = ..., completion_percentage: _Optional[float] = ..., annotators: _Optional[_Iterable[_Union[AnnotatorProgress, _Mapping]]] = ..., last_updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_pending_count: _Optional[int] = ..., accepted_count: _Optional[int] = ..., rejected_count: _Optional[int] = ..., reviewed_count: _Optional[int] = ..., agreement: _Optional[float] = ..., ground_truth_accuracy: _Optional[float] = ...) -> None: ...

class WatchProgressRequest(_message.Message):
    __slots__ = ("project_id", "last_event_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    last_event_id: int
    def __init__(self, project_id: _Optional[str] = ..., last_event_id: _Optional[int] = ...) -> None: ...

class WatchProgressResponse(_message.Message):
    __slots__ = ("event_id", "progress")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    progress: GetProgressResponse
    def __init__(self, event_id: _Optional[int] = ..., progress: _Optional[_Union[GetProgressResponse, _Mapping]] = ...) -> None: ...

class AnnotatorProgress(_message.Message):
    __slots__ = ("user_id", "username", "assigned_count", "completed_count", "in_progress_count", "completion_rate", "review_pending_count", "accepted_count", "rejected_count", "agreement", "ground_truth_accuracy")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    REVIEW_PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    assigned_count: int
    completed_count: int
    in_progress_count: int
    completion_rate: float
    review_pending_count: int
    accepted_count: int
    rejected_count: int
    agreement: float
    ground_truth_accuracy: float
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., assigned_count: _Optional[int] = ..., completed_count: _Optional[int] = ..., in_progress_count: _Optional[int] = ..., completion_rate: _Optional[float] = ..., review_pending_count: _Optional[int] = ..., accepted_count: _Optional[int] = ..., rejected_count: _Optional[int] = ..., agreement: _Optional[float] = ..., ground_truth_accuracy: _Optional[float] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("project_id", "page_size", "page_token", "status")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    page_size: int
    page_token: str
    status: _common_pb2.TaskStatus
    def __init__(self, project_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token", "total_size")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskSummary]
    next_page_token: str
    total_size: int
    def __init__(self, tasks: _Optional[_Iterable[_Union[TaskSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class TaskSummary(_message.Message):
    __slots__ = ("task_id", "display_id", "external_id", "file_path", "status")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_PATH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    display_id: str
    external_id: str
    file_path: str
    status: _common_pb2.TaskStatus
    def __init__(self, task_id: _Optional[str] = ..., display_id: _Optional[str] = ..., external_id: _Optional[str] = ..., file_path: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("external_id", "status", "page_size", "page_token")
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    external_id: str
    status: _common_pb2.ProjectStatus
    page_size: int
    page_token: str
    def __init__(self, external_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects", "next_page_token")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[ProjectSummary]
    next_page_token: str
    def __init__(self, projects: _Optional[_Iterable[_Union[ProjectSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ProjectSummary(_message.Message):
    __slots__ = ("project_id", "name", "description", "task_type", "status", "external_id", "task_count", "completed_count", "created_at", "updated_at")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    description: str
    task_type: _common_pb2.TaskType
    status: _common_pb2.ProjectStatus
    external_id: str
    task_count: int
    completed_count: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., task_type: _Optional[_Union[_common_pb2.TaskType, str]] = ..., status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ..., external_id: _Optional[str] = ..., task_count: _Optional[int] = ..., completed_count: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
