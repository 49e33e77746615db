"""The rule that coco and pascal_voc need every image's pixel size (the size
itself and the images' file names are server.images' rules)."""

from __future__ import annotations

from annotation_api.errors import DomainError, ErrorCode
from server.display_ids import display_id
from storage.export_records import ExportTask

# How many tasks without a pixel size a refusal names.
MAX_NAMED_TASKS = 20


class PixelSizeCheck:
    """Collects tasks without a pixel size and refuses the export for them."""

    def __init__(self, format_name: str) -> None:
        self.format_name = format_name
        self.missing: list[ExportTask] = []

    def note_missing(self, task: ExportTask) -> None:
        """Remember a task without a size; refuse once enough are known."""
        self.missing.append(task)
        if len(self.missing) >= MAX_NAMED_TASKS:
            self.refuse_if_any()

    def refuse_if_any(self) -> None:
        if not self.missing:
            return
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"{self.format_name} needs each image's width and height: give the annotations "
            "original_width/original_height or the tasks metadata width/height",
            {
                "format": self.format_name,
                "tasks_without_size": [
                    {
                        "task_id": str(t.task_id),
                        "display_id": display_id(t.task_id),
                        "external_id": t.external_id,
                    }
                    for t in self.missing[:MAX_NAMED_TASKS]
                ],
            },
        )
