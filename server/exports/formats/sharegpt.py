"""sharegpt: LLaMA-Factory's conversation format.

Each element is {"conversations": [{"from": "human", ...}, {"from": "gpt", ...}]}:
the roles alternate and the count is even, as LLaMA-Factory requires. For
image classification the human turn starts with the `<image>` placeholder and
the element carries `"images": [name]`, LLaMA-Factory's multimodal layout,
with `"image_urls": [url]` saying where to download it (see llm.py).
"""

from __future__ import annotations

from typing import Any

from server.exports.formats.llm import Example, InstructionWriter

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
            "image_urls": [example.image_url],
        }
    return {
        "conversations": [
            {"from": "human", "value": f"{example.instruction}\n\n{example.input}"},
            {"from": "gpt", "value": example.output},
        ]
    }


class ShareGptWriter(InstructionWriter):
    def record(self, example: Example) -> dict[str, Any]:
        return conversation(example)
