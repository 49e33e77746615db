"""sharegpt: LLaMA-Factory's conversation format.

Each element is {"conversations": [{"from": "human", ...}, {"from": "gpt", ...}]}:
the roles alternate and the count is even, as LLaMA-Factory requires. For
image classification the human turn starts with the `<image>` placeholder and
the element carries `"images": [url]`, LLaMA-Factory's multimodal layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from server.exports.formats.base import ExportContext, FormatWriter, JsonArrayStream
from server.exports.formats.llm import Example, example_for, instruction_for
from storage.export_tasks import ExportTask

IMAGE_PLACEHOLDER = "<image>"


def conversation(example: Example) -> dict[str, Any]:
    if example.image is not None:
        human = f"{IMAGE_PLACEHOLDER}{example.instruction}"
        return {
            "conversations": [
                {"from": "human", "value": human},
                {"from": "gpt", "value": example.output},
            ],
            "images": [example.image],
        }
    return {
        "conversations": [
            {"from": "human", "value": f"{example.instruction}\n\n{example.input}"},
            {"from": "gpt", "value": example.output},
        ]
    }


class ShareGptWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        self.instruction = instruction_for(context.task_type, context.labels)
        self.array = JsonArrayStream(out)
        self.array.open()

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        for task in tasks:
            example = example_for(task, self.context.task_type, self.instruction)
            if example is not None:
                self.array.append(conversation(example))
        self.exported = self.array.count

    def finish(self) -> None:
        self.array.close()
