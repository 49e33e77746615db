import datetime

from annotation.v1 import common_pb2 as _common_pb2
from annotation.v1 import options_pb2 as _options_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateExportRequest(_message.Message):
    __slots__ = ("project_id", "format", "completed_only", "callback_url", "accepted_only", "ground_truth_only", "consensus")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_ONLY_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_ONLY_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_ONLY_FIELD_NUMBER: _ClassVar[int]
    CONSENSUS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    format: _common_pb2.ExportFormat
    completed_only: bool
    callback_url: str
    accepted_only: bool
    ground_truth_only: bool
    consensus: bool
    def __init__(self, project_id: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ExportFormat, str]] = ..., completed_only: _Optional[bool] = ..., callback_url: _Optional[str] = ..., accepted_only: _Optional[bool] = ..., ground_truth_only: _Optional[bool] = ..., consensus: _Optional[bool] = ...) -> None: ...

class CreateExportResponse(_message.Message):
    __slots__ = ("project_id", "format", "total_exported", "file_url", "file_name", "file_size", "expires_at", "export_id", "warnings")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EXPORTED_FIELD_NUMBER: _ClassVar[int]
    FILE_URL_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    format: _common_pb2.ExportFormat
    total_exported: int
    file_url: str
    file_name: str
    file_size: int
    expires_at: _timestamp_pb2.Timestamp
    export_id: str
    warnings: _containers.RepeatedCompositeFieldContainer[ExportWarning]
    def __init__(self, project_id: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ExportFormat, str]] = ..., total_exported: _Optional[int] = ..., file_url: _Optional[str] = ..., file_name: _Optional[str] = ..., file_size: _Optional[int] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., export_id: _Optional[str] = ..., warnings: _Optional[_Iterable[_Union[ExportWarning, _Mapping]]] = ...) -> None: ...

class ExportWarning(_message.Message):
    __slots__ = ("task_id", "display_id", "message")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    display_id: str
    message: str
    def __init__(self, task_id: _Optional[str] = ..., display_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class GetExportRequest(_message.Message):
    __slots__ = ("export_id",)
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    def __init__(self, export_id: _Optional[str] = ...) -> None: ...

class GetExportResponse(_message.Message):
    __slots__ = ("export_id", "project_id", "format", "status", "completed_only", "total_exported", "file_url", "file_name", "file_size", "created_at", "expires_at", "error_message", "callback_url", "callback_status", "callback_attempts", "warnings", "accepted_only", "ground_truth_only", "consensus")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_ONLY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EXPORTED_FIELD_NUMBER: _ClassVar[int]
    FILE_URL_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_STATUS_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_ONLY_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_ONLY_FIELD_NUMBER: _ClassVar[int]
    CONSENSUS_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    project_id: str
    format: _common_pb2.ExportFormat
    status: _common_pb2.ExportStatus
    completed_only: bool
    total_exported: int
    file_url: str
    file_name: str
    file_size: int
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    error_message: str
    callback_url: str
    callback_status: _common_pb2.CallbackStatus
    callback_attempts: int
    warnings: _containers.RepeatedCompositeFieldContainer[ExportWarning]
    accepted_only: bool
    ground_truth_only: bool
    consensus: bool
    def __init__(self, export_id: _Optional[str] = ..., project_id: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ExportFormat, str]] = ..., status: _Optional[_Union[_common_pb2.ExportStatus, str]] = ..., completed_only: _Optional[bool] = ..., total_exported: _Optional[int] = ..., file_url: _Optional[str] = ..., file_name: _Optional[str] = ..., file_size: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_message: _Optional[str] = ..., callback_url: _Optional[str] = ..., callback_status: _Optional[_Union[_common_pb2.CallbackStatus, str]] = ..., callback_attempts: _Optional[int] = ..., warnings: _Optional[_Iterable[_Union[ExportWarning, _Mapping]]] = ..., accepted_only: _Optional[bool] = ..., ground_truth_only: _Optional[bool] = ..., consensus: _Optional[bool] = ...) -> None: ...

class DownloadExportRequest(_message.Message):
    __slots__ = ("export_id",)
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    def __init__(self, export_id: _Optional[str] = ...) -> None: ...

class DownloadExportResponse(_message.Message):
    __slots__ = ("file_name", "content_type", "file_size", "chunk")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    content_type: str
    file_size: int
    chunk: bytes
    def __init__(self, file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., file_size: _Optional[int] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ListExportFormatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListExportFormatsResponse(_message.Message):
    __slots__ = ("formats",)
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    formats: _containers.RepeatedCompositeFieldContainer[ExportFormatSupport]
    def __init__(self, formats: _Optional[_Iterable[_Union[ExportFormatSupport, _Mapping]]] = ...) -> None: ...

class ExportFormatSupport(_message.Message):
    __slots__ = ("format", "task_types", "file_extension", "content_type")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPES_FIELD_NUMBER: _ClassVar[int]
    FILE_EXTENSION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    format: _common_pb2.ExportFormat
    task_types: _containers.RepeatedScalarFieldContainer[_common_pb2.TaskType]
    file_extension: str
    content_type: str
    def __init__(self, format: _Optional[_Union[_common_pb2.ExportFormat, str]] = ..., task_types: _Optional[_Iterable[_Union[_common_pb2.TaskType, str]]] = ..., file_extension: _Optional[str] = ..., content_type: _Optional[str] = ...) -> None: ...
