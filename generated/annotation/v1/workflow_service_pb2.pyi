from annotation.v1 import common_pb2 as _common_pb2
from annotation.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConfigureProjectRequest(_message.Message):
    __slots__ = ("project_id", "labels", "label_config", "ready")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    labels: _containers.RepeatedCompositeFieldContainer[_common_pb2.TagInput]
    label_config: str
    ready: bool
    def __init__(self, project_id: _Optional[str] = ..., labels: _Optional[_Iterable[_Union[_common_pb2.TagInput, _Mapping]]] = ..., label_config: _Optional[str] = ..., ready: _Optional[bool] = ...) -> None: ...

class ConfigureProjectResponse(_message.Message):
    __slots__ = ("project_id", "status", "labels", "config")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    status: _common_pb2.ProjectStatus
    labels: _containers.RepeatedCompositeFieldContainer[_common_pb2.Label]
    config: str
    def __init__(self, project_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ..., labels: _Optional[_Iterable[_Union[_common_pb2.Label, _Mapping]]] = ..., config: _Optional[str] = ...) -> None: ...

class AssignTasksRequest(_message.Message):
    __slots__ = ("project_id", "annotator_id", "task_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    annotator_id: str
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., annotator_id: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AssignTasksResponse(_message.Message):
    __slots__ = ("project_id", "assigned_count", "project_status")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_STATUS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    assigned_count: int
    project_status: _common_pb2.ProjectStatus
    def __init__(self, project_id: _Optional[str] = ..., assigned_count: _Optional[int] = ..., project_status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ...) -> None: ...

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

class SubmitAnnotationRequest(_message.Message):
    __slots__ = ("task_id", "result")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    result: str
    def __init__(self, task_id: _Optional[str] = ..., result: _Optional[str] = ...) -> None: ...

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
