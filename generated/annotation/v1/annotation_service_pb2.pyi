from annotation.v1 import options_pb2 as _options_pb2
from annotation.v1 import prediction_service_pb2 as _prediction_service_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnnotationImportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANNOTATION_IMPORT_FORMAT_UNSPECIFIED: _ClassVar[AnnotationImportFormat]
    ANNOTATION_IMPORT_FORMAT_LABEL_STUDIO_JSON: _ClassVar[AnnotationImportFormat]
    ANNOTATION_IMPORT_FORMAT_COCO: _ClassVar[AnnotationImportFormat]
ANNOTATION_IMPORT_FORMAT_UNSPECIFIED: AnnotationImportFormat
ANNOTATION_IMPORT_FORMAT_LABEL_STUDIO_JSON: AnnotationImportFormat
ANNOTATION_IMPORT_FORMAT_COCO: AnnotationImportFormat

class ImportAnnotationsRequest(_message.Message):
    __slots__ = ("project_id", "format", "dry_run", "annotator_id", "model_version", "chunk", "ground_truth")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    format: AnnotationImportFormat
    dry_run: bool
    annotator_id: str
    model_version: str
    chunk: bytes
    ground_truth: bool
    def __init__(self, project_id: _Optional[str] = ..., format: _Optional[_Union[AnnotationImportFormat, str]] = ..., dry_run: _Optional[bool] = ..., annotator_id: _Optional[str] = ..., model_version: _Optional[str] = ..., chunk: _Optional[bytes] = ..., ground_truth: _Optional[bool] = ...) -> None: ...

class ImportAnnotationsResponse(_message.Message):
    __slots__ = ("imported", "predictions_imported", "skipped", "errors", "dry_run", "ground_truth_tasks")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_IMPORTED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_TASKS_FIELD_NUMBER: _ClassVar[int]
    imported: int
    predictions_imported: int
    skipped: int
    errors: _containers.RepeatedCompositeFieldContainer[_prediction_service_pb2.ImportError]
    dry_run: bool
    ground_truth_tasks: int
    def __init__(self, imported: _Optional[int] = ..., predictions_imported: _Optional[int] = ..., skipped: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[_prediction_service_pb2.ImportError, _Mapping]]] = ..., dry_run: _Optional[bool] = ..., ground_truth_tasks: _Optional[int] = ...) -> None: ...
