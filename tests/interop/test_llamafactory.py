"""LLaMA-Factory's own dataset parser and converter accept the sharegpt and alpaca
exports of an image project once the images are in media_dir (docs/exports.md):
no example dropped, every image a local file."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from tests.helpers import TestUser
from tests.interop.support import export_file, write_image

pytest.importorskip("llamafactory", reason="opt-in: make interop")

DATASET_INFO = {
    "sharegpt": {
        "formatting": "sharegpt",
        "columns": {"messages": "conversations", "images": "images"},
        "tags": {
            "role_tag": "from",
            "content_tag": "value",
            "user_tag": "human",
            "assistant_tag": "gpt",
        },
    },
    "alpaca": {
        "formatting": "alpaca",
        "columns": {
            "prompt": "instruction",
            "query": "input",
            "response": "output",
            "images": "images",
        },
    },
}


@pytest.mark.parametrize("fmt", ["sharegpt", "alpaca"])
async def test_llamafactory_converter_keeps_every_example_with_local_images(
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    fmt: str,
) -> None:
    from datasets import load_dataset
    from llamafactory.data.converter import align_dataset
    from llamafactory.data.parser import get_dataset_list
    from llamafactory.hparams import DataArguments
    from transformers import Seq2SeqTrainingArguments

    path = await export_file(channel, admin, annotator, tmp_path, "image_classification", fmt)
    records = json.loads(path.read_text(encoding="utf-8"))
    media = tmp_path / "media"
    for record in records:  # step 1 of the recipe, with stand-in images
        for name in record["images"]:
            write_image(media / name)
    dataset_dir = tmp_path / "llamafactory_data"
    dataset_dir.mkdir()
    (dataset_dir / "export.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    info = {"my_set": {"file_name": "export.json", **DATASET_INFO[fmt]}}
    (dataset_dir / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")

    [attr] = get_dataset_list(["my_set"], str(dataset_dir))
    data_args = DataArguments(dataset_dir=str(dataset_dir), media_dir=str(media))
    training_args = Seq2SeqTrainingArguments(output_dir=str(tmp_path / "out"))
    raw = load_dataset("json", data_files=str(dataset_dir / "export.json"), split="train")
    aligned = align_dataset(raw, attr, data_args, training_args)

    assert len(aligned) == len(records) == 2
    for example in aligned:
        assert example["_images"] and all(Path(p).is_file() for p in example["_images"])
        assert example["_response"][0]["content"] in ("正面", "负面")
