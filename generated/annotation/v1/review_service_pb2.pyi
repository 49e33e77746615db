from annotation.v1 import common_pb2 as _common_pb2
from annotation.v1 import options_pb2 as _options_pb2
from annotation.v1 import workflow_service_pb2 as _workflow_service_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NextReviewRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class NextReviewResponse(_message.Message):
    __slots__ = ("annotation_id", "task")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    task: _workflow_service_pb2.TaskDetail
    def __init__(self, annotation_id: _Optional[str] = ..., task: _Optional[_Union[_workflow_service_pb2.TaskDetail, _Mapping]] = ...) -> None: ...

class ReviewAnnotationRequest(_message.Message):
    __slots__ = ("annotation_id", "verdict", "comment", "corrected_result", "lead_time_seconds")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_RESULT_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    verdict: _common_pb2.ReviewVerdict
    comment: str
    corrected_result: str
    lead_time_seconds: float
    def __init__(self, annotation_id: _Optional[str] = ..., verdict: _Optional[_Union[_common_pb2.ReviewVerdict, str]] = ..., comment: _Optional[str] = ..., corrected_result: _Optional[str] = ..., lead_time_seconds: _Optional[float] = ...) -> None: ...

class ReviewAnnotationResponse(_message.Message):
    __slots__ = ("annotation_id", "review_status", "correction_annotation_id", "task_id", "task_status", "project_status")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_STATUS_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_STATUS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_STATUS_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    review_status: _common_pb2.ReviewStatus
    correction_annotation_id: str
    task_id: str
    task_status: _common_pb2.TaskStatus
    project_status: _common_pb2.ProjectStatus
    def __init__(self, annotation_id: _Optional[str] = ..., review_status: _Optional[_Union[_common_pb2.ReviewStatus, str]] = ..., correction_annotation_id: _Optional[str] = ..., task_id: _Optional[str] = ..., task_status: _Optional[_Union[_common_pb2.TaskStatus, str]] = ..., project_status: _Optional[_Union[_common_pb2.ProjectStatus, str]] = ...) -> None: ...

class AddProjectReviewersRequest(_message.Message):
    __slots__ = ("project_id", "user_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AddProjectReviewersResponse(_message.Message):
    __slots__ = ("project_id", "reviewers")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    reviewers: _containers.RepeatedCompositeFieldContainer[_workflow_service_pb2.UserRef]
    def __init__(self, project_id: _Optional[str] = ..., reviewers: _Optional[_Iterable[_Union[_workflow_service_pb2.UserRef, _Mapping]]] = ...) -> None: ...

class RemoveProjectReviewersRequest(_message.Message):
    __slots__ = ("project_id", "user_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveProjectReviewersResponse(_message.Message):
    __slots__ = ("project_id", "reviewers")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    reviewers: _containers.RepeatedCompositeFieldContainer[_workflow_service_pb2.UserRef]
    def __init__(self, project_id: _Optional[str] = ..., reviewers: _Optional[_Iterable[_Union[_workflow_service_pb2.UserRef, _Mapping]]] = ...) -> None: ...

class ListProjectReviewersRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ListProjectReviewersResponse(_message.Message):
    __slots__ = ("project_id", "reviewers")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    reviewers: _containers.RepeatedCompositeFieldContainer[_workflow_service_pb2.UserRef]
    def __init__(self, project_id: _Optional[str] = ..., reviewers: _Optional[_Iterable[_Union[_workflow_service_pb2.UserRef, _Mapping]]] = ...) -> None: ...
