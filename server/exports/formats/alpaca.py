"""alpaca: LLaMA-Factory's instruction format, {"instruction", "input", "output"}.

For image classification the input is the image URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from server.exports.formats.base import ExportContext, FormatWriter, JsonArrayStream
from server.exports.formats.llm import example_for, instruction_for
from storage.export_tasks import ExportTask


class AlpacaWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        self.instruction = instruction_for(context.task_type, context.labels)
        self.array = JsonArrayStream(out)
        self.array.open()

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        for task in tasks:
            example = example_for(task, self.context.task_type, self.instruction)
            if example is not None:
                self.array.append(
                    {
                        "instruction": example.instruction,
                        "input": example.image or example.input,
                        "output": example.output,
                    }
                )
        self.exported = self.array.count

    def finish(self) -> None:
        self.array.close()
