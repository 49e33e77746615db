"""The domain's words: task types, export formats, geometry kinds, and the
statuses of projects, tasks and assignments.

Values are the documented lowercase strings; they are what the database
stores and what the REST gateway shows (derived from the proto enums by one
naming rule, so the two always agree).
"""

from __future__ import annotations

from enum import StrEnum


class TaskType(StrEnum):
    TEXT_CLASSIFICATION = "text_classification"
    IMAGE_CLASSIFICATION = "image_classification"
    OBJECT_DETECTION = "object_detection"
    NER = "ner"
    POLYGON = "polygon"


# Task types whose content is an image location (an http(s) URL or a path).
IMAGE_TASK_TYPES = frozenset(
    {TaskType.IMAGE_CLASSIFICATION, TaskType.OBJECT_DETECTION, TaskType.POLYGON}
)
# Task types whose content is a text.
TEXT_TASK_TYPES = frozenset({TaskType.TEXT_CLASSIFICATION, TaskType.NER})
# Task types answered by a choice or by text spans (no regions on an image).
CLASSIFICATION_AND_SPAN_TASK_TYPES = frozenset(
    {TaskType.TEXT_CLASSIFICATION, TaskType.IMAGE_CLASSIFICATION, TaskType.NER}
)
# Task types whose answers are regions drawn on an image.
REGION_TASK_TYPES = frozenset({TaskType.OBJECT_DETECTION, TaskType.POLYGON})
SUPPORTED_TASK_TYPES = [t.value for t in TaskType]


class ExportFormat(StrEnum):
    """Export file formats, in the order of the API's ExportFormat enum."""

    JSON = "json"
    CSV = "csv"
    SHAREGPT = "sharegpt"
    YOLO = "yolo"
    COCO = "coco"
    ALPACA = "alpaca"
    PASCAL_VOC = "pascal_voc"


class GeometryKind(StrEnum):
    """What an imported prediction marks (AAP JSON `geometry.type`): a region of the
    image (normalized to 0..1), a span of the text, or the class of the whole task."""

    BBOX = "bbox"
    POLYGON = "polygon"
    MULTI_POLYGON = "multi_polygon"
    SPAN = "span"
    CLASS = "class"


# Which geometry kinds a project of each task type can hold.
GEOMETRY_KINDS_BY_TASK_TYPE: dict[str, frozenset[GeometryKind]] = {
    TaskType.OBJECT_DETECTION: frozenset({GeometryKind.BBOX}),
    TaskType.POLYGON: frozenset({GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON}),
    TaskType.NER: frozenset({GeometryKind.SPAN}),
    TaskType.TEXT_CLASSIFICATION: frozenset({GeometryKind.CLASS}),
    TaskType.IMAGE_CLASSIFICATION: frozenset({GeometryKind.CLASS}),
}


class ProjectStatus(StrEnum):
    """draft -> configuring -> ready -> in_progress -> completed (-> in_progress on new work)."""

    DRAFT = "draft"
    CONFIGURING = "configuring"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class TaskStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ReviewMode(StrEnum):
    """What a project's reviewers see: nothing, every answer, or a sampled share of tasks."""

    OFF = "off"
    ALL = "all"
    SAMPLE = "sample"


class ReviewStatus(StrEnum):
    """Where an annotation stands in review (NULL in the database: not under review)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ReviewVerdict(StrEnum):
    """A reviewer's decision (a correction is an accept with a corrected result)."""

    ACCEPT = "accept"
    REJECT = "reject"
