from annotation.v1 import common_pb2 as _common_pb2
from annotation.v1 import options_pb2 as _options_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImportPredictionsRequest(_message.Message):
    __slots__ = ("project_id", "format", "dry_run", "model_version", "overwrite_existing", "chunk")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_EXISTING_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    format: _common_pb2.ImportFormat
    dry_run: bool
    model_version: str
    overwrite_existing: bool
    chunk: bytes
    def __init__(self, project_id: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ImportFormat, str]] = ..., dry_run: _Optional[bool] = ..., model_version: _Optional[str] = ..., overwrite_existing: _Optional[bool] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ImportPredictionsResponse(_message.Message):
    __slots__ = ("imported", "skipped", "errors", "dry_run", "warnings")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    imported: int
    skipped: int
    errors: _containers.RepeatedCompositeFieldContainer[ImportError]
    dry_run: bool
    warnings: _containers.RepeatedCompositeFieldContainer[ImportWarning]
    def __init__(self, imported: _Optional[int] = ..., skipped: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ImportError, _Mapping]]] = ..., dry_run: _Optional[bool] = ..., warnings: _Optional[_Iterable[_Union[ImportWarning, _Mapping]]] = ...) -> None: ...

class ImportWarning(_message.Message):
    __slots__ = ("task_match", "message", "candidates")
    TASK_MATCH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    task_match: str
    message: str
    candidates: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, task_match: _Optional[str] = ..., message: _Optional[str] = ..., candidates: _Optional[_Iterable[str]] = ...) -> None: ...

class ImportError(_message.Message):
    __slots__ = ("task_match", "reason")
    TASK_MATCH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    task_match: str
    reason: str
    def __init__(self, task_match: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetPredictionStatsRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetPredictionStatsResponse(_message.Message):
    __slots__ = ("project_id", "models")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    models: _containers.RepeatedCompositeFieldContainer[ModelStats]
    def __init__(self, project_id: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelStats, _Mapping]]] = ...) -> None: ...

class ModelStats(_message.Message):
    __slots__ = ("model_version", "predictions", "tasks_covered", "annotations_from_prediction", "accepted_unchanged", "modified", "annotated_without_prediction_use", "median_lead_time_with_prelabel_seconds", "median_lead_time_without_prelabel_seconds")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    TASKS_COVERED_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FROM_PREDICTION_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_FIELD_NUMBER: _ClassVar[int]
    ANNOTATED_WITHOUT_PREDICTION_USE_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_LEAD_TIME_WITH_PRELABEL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_LEAD_TIME_WITHOUT_PRELABEL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    predictions: int
    tasks_covered: int
    annotations_from_prediction: int
    accepted_unchanged: int
    modified: int
    annotated_without_prediction_use: int
    median_lead_time_with_prelabel_seconds: float
    median_lead_time_without_prelabel_seconds: float
    def __init__(self, model_version: _Optional[str] = ..., predictions: _Optional[int] = ..., tasks_covered: _Optional[int] = ..., annotations_from_prediction: _Optional[int] = ..., accepted_unchanged: _Optional[int] = ..., modified: _Optional[int] = ..., annotated_without_prediction_use: _Optional[int] = ..., median_lead_time_with_prelabel_seconds: _Optional[float] = ..., median_lead_time_without_prelabel_seconds: _Optional[float] = ...) -> None: ...
