"""alpaca: LLaMA-Factory's instruction format, {"instruction", "input", "output"}.

For image classification the instruction starts with the `<image>`
placeholder, the input is empty, and the record carries `"images": [name]`
and `"image_urls": [url]` as sharegpt does (see llm.py); LLaMA-Factory reads
the images column when its dataset_info names it.
"""

from __future__ import annotations

from typing import Any

from server.exports.formats.llm import Example, InstructionWriter
from server.exports.formats.sharegpt import IMAGE_PLACEHOLDER


class AlpacaWriter(InstructionWriter):
    def record(self, example: Example) -> dict[str, Any]:
        if example.image is not None:
            return {
                "instruction": f"{IMAGE_PLACEHOLDER}{example.instruction}",
                "input": "",
                "output": example.output,
                "images": [example.image],
                "image_urls": [example.image_url],
            }
        return {
            "instruction": example.instruction,
            "input": example.input,
            "output": example.output,
        }
