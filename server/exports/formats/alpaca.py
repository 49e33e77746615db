"""alpaca: LLaMA-Factory's instruction format, {"instruction", "input", "output"}.

For image classification the input is the image URL.
"""

from __future__ import annotations

from typing import Any

from server.exports.formats.llm import Example, InstructionWriter


class AlpacaWriter(InstructionWriter):
    def record(self, example: Example) -> dict[str, Any]:
        return {
            "instruction": example.instruction,
            "input": example.image or example.input,
            "output": example.output,
        }
