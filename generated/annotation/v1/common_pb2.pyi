from annotation.v1 import options_pb2 as _options_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_TYPE_UNSPECIFIED: _ClassVar[TaskType]
    TASK_TYPE_TEXT_CLASSIFICATION: _ClassVar[TaskType]
    TASK_TYPE_IMAGE_CLASSIFICATION: _ClassVar[TaskType]
    TASK_TYPE_OBJECT_DETECTION: _ClassVar[TaskType]
    TASK_TYPE_NER: _ClassVar[TaskType]
    TASK_TYPE_POLYGON: _ClassVar[TaskType]

class ProjectStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROJECT_STATUS_UNSPECIFIED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_DRAFT: _ClassVar[ProjectStatus]
    PROJECT_STATUS_CONFIGURING: _ClassVar[ProjectStatus]
    PROJECT_STATUS_READY: _ClassVar[ProjectStatus]
    PROJECT_STATUS_IN_PROGRESS: _ClassVar[ProjectStatus]
    PROJECT_STATUS_COMPLETED: _ClassVar[ProjectStatus]

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_PENDING: _ClassVar[TaskStatus]
    TASK_STATUS_IN_PROGRESS: _ClassVar[TaskStatus]
    TASK_STATUS_COMPLETED: _ClassVar[TaskStatus]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_SHAREGPT: _ClassVar[ExportFormat]
    EXPORT_FORMAT_YOLO: _ClassVar[ExportFormat]
    EXPORT_FORMAT_COCO: _ClassVar[ExportFormat]
    EXPORT_FORMAT_ALPACA: _ClassVar[ExportFormat]
    EXPORT_FORMAT_PASCAL_VOC: _ClassVar[ExportFormat]

class ExportStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_STATUS_UNSPECIFIED: _ClassVar[ExportStatus]
    EXPORT_STATUS_RUNNING: _ClassVar[ExportStatus]
    EXPORT_STATUS_COMPLETED: _ClassVar[ExportStatus]
    EXPORT_STATUS_FAILED: _ClassVar[ExportStatus]
    EXPORT_STATUS_EXPIRED: _ClassVar[ExportStatus]

class CallbackStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALLBACK_STATUS_UNSPECIFIED: _ClassVar[CallbackStatus]
    CALLBACK_STATUS_PENDING: _ClassVar[CallbackStatus]
    CALLBACK_STATUS_DELIVERED: _ClassVar[CallbackStatus]
    CALLBACK_STATUS_FAILED: _ClassVar[CallbackStatus]

class ImportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_FORMAT_UNSPECIFIED: _ClassVar[ImportFormat]
    IMPORT_FORMAT_AAP_JSON: _ClassVar[ImportFormat]
    IMPORT_FORMAT_COCO: _ClassVar[ImportFormat]

class ReviewMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_MODE_UNSPECIFIED: _ClassVar[ReviewMode]
    REVIEW_MODE_OFF: _ClassVar[ReviewMode]
    REVIEW_MODE_ALL: _ClassVar[ReviewMode]
    REVIEW_MODE_SAMPLE: _ClassVar[ReviewMode]

class ReviewStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_STATUS_UNSPECIFIED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_PENDING: _ClassVar[ReviewStatus]
    REVIEW_STATUS_ACCEPTED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_REJECTED: _ClassVar[ReviewStatus]

class ReviewVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_VERDICT_UNSPECIFIED: _ClassVar[ReviewVerdict]
    REVIEW_VERDICT_ACCEPT: _ClassVar[ReviewVerdict]
    REVIEW_VERDICT_REJECT: _ClassVar[ReviewVerdict]
TASK_TYPE_UNSPECIFIED: TaskType
TASK_TYPE_TEXT_CLASSIFICATION: TaskType
TASK_TYPE_IMAGE_CLASSIFICATION: TaskType
TASK_TYPE_OBJECT_DETECTION: TaskType
TASK_TYPE_NER: TaskType
TASK_TYPE_POLYGON: TaskType
PROJECT_STATUS_UNSPECIFIED: ProjectStatus
PROJECT_STATUS_DRAFT: ProjectStatus
PROJECT_STATUS_CONFIGURING: ProjectStatus
PROJECT_STATUS_READY: ProjectStatus
PROJECT_STATUS_IN_PROGRESS: ProjectStatus
PROJECT_STATUS_COMPLETED: ProjectStatus
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_PENDING: TaskStatus
TASK_STATUS_IN_PROGRESS: TaskStatus
TASK_STATUS_COMPLETED: TaskStatus
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_SHAREGPT: ExportFormat
EXPORT_FORMAT_YOLO: ExportFormat
EXPORT_FORMAT_COCO: ExportFormat
EXPORT_FORMAT_ALPACA: ExportFormat
EXPORT_FORMAT_PASCAL_VOC: ExportFormat
EXPORT_STATUS_UNSPECIFIED: ExportStatus
EXPORT_STATUS_RUNNING: ExportStatus
EXPORT_STATUS_COMPLETED: ExportStatus
EXPORT_STATUS_FAILED: ExportStatus
EXPORT_STATUS_EXPIRED: ExportStatus
CALLBACK_STATUS_UNSPECIFIED: CallbackStatus
CALLBACK_STATUS_PENDING: CallbackStatus
CALLBACK_STATUS_DELIVERED: CallbackStatus
CALLBACK_STATUS_FAILED: CallbackStatus
IMPORT_FORMAT_UNSPECIFIED: ImportFormat
IMPORT_FORMAT_AAP_JSON: ImportFormat
IMPORT_FORMAT_COCO: ImportFormat
REVIEW_MODE_UNSPECIFIED: ReviewMode
REVIEW_MODE_OFF: ReviewMode
REVIEW_MODE_ALL: ReviewMode
REVIEW_MODE_SAMPLE: ReviewMode
REVIEW_STATUS_UNSPECIFIED: ReviewStatus
REVIEW_STATUS_PENDING: ReviewStatus
REVIEW_STATUS_ACCEPTED: ReviewStatus
REVIEW_STATUS_REJECTED: ReviewStatus
REVIEW_VERDICT_UNSPECIFIED: ReviewVerdict
REVIEW_VERDICT_ACCEPT: ReviewVerdict
REVIEW_VERDICT_REJECT: ReviewVerdict

class Label(_message.Message):
    __slots__ = ("name", "color")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    color: str
    def __init__(self, name: _Optional[str] = ..., color: _Optional[str] = ...) -> None: ...

class TagInput(_message.Message):
    __slots__ = ("tag", "color")
    TAG_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    tag: str
    color: str
    def __init__(self, tag: _Optional[str] = ..., color: _Optional[str] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ("error_code", "details")
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    error_code: str
    details: _struct_pb2.Struct
    def __init__(self, error_code: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class QualitySettings(_message.Message):
    __slots__ = ("review_mode", "review_share", "annotations_per_task", "ground_truth_rate", "iou_threshold")
    REVIEW_MODE_FIELD_NUMBER: _ClassVar[int]
    REVIEW_SHARE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_PER_TASK_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_RATE_FIELD_NUMBER: _ClassVar[int]
    IOU_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    review_mode: ReviewMode
    review_share: float
    annotations_per_task: int
    ground_truth_rate: float
    iou_threshold: float
    def __init__(self, review_mode: _Optional[_Union[ReviewMode, str]] = ..., review_share: _Optional[float] = ..., annotations_per_task: _Optional[int] = ..., ground_truth_rate: _Optional[float] = ..., iou_threshold: _Optional[float] = ...) -> None: ...
