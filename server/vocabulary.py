"""The domain's words: task types, and the statuses of projects, tasks and assignments.

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
SUPPORTED_TASK_TYPES = [t.value for t in TaskType]


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
