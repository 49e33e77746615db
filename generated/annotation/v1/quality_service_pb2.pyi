from annotation.v1 import options_pb2 as _options_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetAgreementRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetAgreementResponse(_message.Message):
    __slots__ = ("project_id", "agreement", "krippendorff_alpha", "tasks_scored", "iou_threshold", "annotators", "labels", "overlap_agreement")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    KRIPPENDORFF_ALPHA_FIELD_NUMBER: _ClassVar[int]
    TASKS_SCORED_FIELD_NUMBER: _ClassVar[int]
    IOU_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ANNOTATORS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    agreement: float
    krippendorff_alpha: float
    tasks_scored: int
    iou_threshold: float
    annotators: _containers.RepeatedCompositeFieldContainer[AnnotatorScore]
    labels: _containers.RepeatedCompositeFieldContainer[LabelScore]
    overlap_agreement: float
    def __init__(self, project_id: _Optional[str] = ..., agreement: _Optional[float] = ..., krippendorff_alpha: _Optional[float] = ..., tasks_scored: _Optional[int] = ..., iou_threshold: _Optional[float] = ..., annotators: _Optional[_Iterable[_Union[AnnotatorScore, _Mapping]]] = ..., labels: _Optional[_Iterable[_Union[LabelScore, _Mapping]]] = ..., overlap_agreement: _Optional[float] = ...) -> None: ...

class AnnotatorScore(_message.Message):
    __slots__ = ("user_id", "username", "score", "tasks", "precision", "recall", "labels", "overlap_score")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_SCORE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    score: float
    tasks: int
    precision: float
    recall: float
    labels: _containers.RepeatedCompositeFieldContainer[LabelScore]
    overlap_score: float
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., score: _Optional[float] = ..., tasks: _Optional[int] = ..., precision: _Optional[float] = ..., recall: _Optional[float] = ..., labels: _Optional[_Iterable[_Union[LabelScore, _Mapping]]] = ..., overlap_score: _Optional[float] = ...) -> None: ...

class LabelScore(_message.Message):
    __slots__ = ("label", "score", "count")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    label: str
    score: float
    count: int
    def __init__(self, label: _Optional[str] = ..., score: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class GetTaskAgreementRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class GetTaskAgreementResponse(_message.Message):
    __slots__ = ("task_id", "agreement", "annotations")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    agreement: float
    annotations: _containers.RepeatedCompositeFieldContainer[AnnotationScore]
    def __init__(self, task_id: _Optional[str] = ..., agreement: _Optional[float] = ..., annotations: _Optional[_Iterable[_Union[AnnotationScore, _Mapping]]] = ...) -> None: ...

class AnnotationScore(_message.Message):
    __slots__ = ("annotation_id", "user_id", "username", "score")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    user_id: str
    username: str
    score: float
    def __init__(self, annotation_id: _Optional[str] = ..., user_id: _Optional[str] = ..., username: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class GetQualityReportRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetQualityReportResponse(_message.Message):
    __slots__ = ("project_id", "ground_truth_tasks", "accuracy", "iou_threshold", "annotators", "labels", "overlap_accuracy", "precision", "recall")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_TASKS_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    IOU_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ANNOTATORS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    ground_truth_tasks: int
    accuracy: float
    iou_threshold: float
    annotators: _containers.RepeatedCompositeFieldContainer[AnnotatorScore]
    labels: _containers.RepeatedCompositeFieldContainer[LabelScore]
    overlap_accuracy: float
    precision: float
    recall: float
    def __init__(self, project_id: _Optional[str] = ..., ground_truth_tasks: _Optional[int] = ..., accuracy: _Optional[float] = ..., iou_threshold: _Optional[float] = ..., annotators: _Optional[_Iterable[_Union[AnnotatorScore, _Mapping]]] = ..., labels: _Optional[_Iterable[_Union[LabelScore, _Mapping]]] = ..., overlap_accuracy: _Optional[float] = ..., precision: _Optional[float] = ..., recall: _Optional[float] = ...) -> None: ...

class SetGroundTruthRequest(_message.Message):
    __slots__ = ("project_id", "task_ids", "ground_truth")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    ground_truth: bool
    def __init__(self, project_id: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ..., ground_truth: _Optional[bool] = ...) -> None: ...

class SetGroundTruthResponse(_message.Message):
    __slots__ = ("project_id", "changed_count", "ground_truth_tasks")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_COUNT_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_TASKS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    changed_count: int
    ground_truth_tasks: int
    def __init__(self, project_id: _Optional[str] = ..., changed_count: _Optional[int] = ..., ground_truth_tasks: _Optional[int] = ...) -> None: ...
