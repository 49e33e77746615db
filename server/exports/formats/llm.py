"""Instruction, input and answer of one task, for the LLaMA-Factory formats.

The instruction names the task and lists the project's labels; the answer is
the chosen label(s) of the latest annotation, or for NER a JSON list of
{text, label, start, end}. A task without an answer (no annotation, or a
classification annotation without a choice) is left out: it teaches nothing.
Texts are in Chinese, the language of the platform's users.

Images (image classification) are named, not linked: LLaMA-Factory loads
media from local paths under its `media_dir`, never from URLs. Each record
names its image by the exported name (server.images, unique in the export)
in `images`, and maps it to where it is in `image_urls` (same order): the
manifest, one entry per record. The user downloads each URL to that name in
one folder and points `media_dir` at it (docs/exports.md). LLaMA-Factory
drops columns it is not told about, so `image_urls` does not disturb it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from server.exports.answers import answer
from server.exports.formats.base import ExportContext, FormatWriter, JsonArrayStream, image_url
from server.exports.formats.results import chosen_labels, spans
from server.images import ImageNames
from server.vocabulary import TaskType
from storage.export_records import ExportTask

LABEL_JOINER = ", "
LIST_JOINER = "、"


@dataclass(frozen=True, slots=True)
class Example:
    """One supervised example."""

    instruction: str
    input: str
    output: str
    # the image the example is about (image classification): its file name
    # under LLaMA-Factory's media_dir, and where to download it; else None.
    image: str | None
    image_url: str | None


def instruction_for(task_type: str, labels: Sequence[str]) -> str:
    """The instruction for every example of a project."""
    choices = f"可选标签:{LIST_JOINER.join(labels)}。" if labels else ""
    if task_type == TaskType.NER:
        kinds = f"实体类型:{LIST_JOINER.join(labels)}。" if labels else ""
        return (
            f"请从以下文本中抽取命名实体。{kinds}"
            "以 JSON 列表输出,每个实体包含 text、label、start、end(字符位置,end 不含)。"
        )
    if task_type == TaskType.IMAGE_CLASSIFICATION:
        return f"请对这张图片进行分类。{choices}只输出标签。"
    return f"请对以下文本进行分类。{choices}只输出标签。"


def example_for(
    task: ExportTask, task_type: str, instruction: str, names: ImageNames
) -> Example | None:
    """The example of one task, or None when the task has no answer."""
    latest = answer(task)
    if latest is None:
        return None
    if task_type == TaskType.NER:
        output = orjson.dumps(
            [
                {"text": s.text, "label": s.label, "start": s.start, "end": s.end}
                for s in spans(latest.result)
            ]
        ).decode("utf-8")
    else:
        labels = chosen_labels(latest.result)
        if not labels:
            return None
        output = LABEL_JOINER.join(labels)
    image = url = None
    if task_type == TaskType.IMAGE_CLASSIFICATION:
        url = image_url(task)
        image = names.file_name(task.task_id, url)
    return Example(
        instruction=instruction, input=task.content, output=output, image=image, image_url=url
    )


class InstructionWriter(FormatWriter):
    """A JSON array with one training record per task that has an answer."""

    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        self.instruction = instruction_for(context.task_type, context.labels)
        self.names = ImageNames()
        self.array = JsonArrayStream(out)
        self.array.open()

    def record(self, example: Example) -> dict[str, Any]:
        """The format's record for one example."""
        raise NotImplementedError

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        for task in tasks:
            example = example_for(task, self.context.task_type, self.instruction, self.names)
            if example is not None:
                self.array.append(self.record(example))
        self.exported = self.array.count

    def finish(self) -> None:
        self.array.close()
