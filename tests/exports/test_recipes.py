"""The documented download recipes (docs/exports.md), run as printed against a
local image host, on exports of a realistic project: non-ASCII and spaced file
names, names that collide by suffix and case, negatives."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import grpc
import pytest
from globox import AnnotationSet
from PIL import Image
from sqlalchemy import update

from storage.database import Database
from storage.models import Task
from tests.exports import readers
from tests.exports.realistic import box
from tests.exports.recipes import image_host, recipe, run_recipe, write_images
from tests.exports.samples import choice
from tests.exports.support import Item, build_project, create_export, download
from tests.exports.test_tool_readers import ultralytics_dataset_root, ultralytics_images
from tests.helpers import TestUser

# as stored on the image host, and as the tasks' URLs spell them
FILES = ["dup/x.png", "dup/x.jpg", "dup/X.png", "dup/x.jpeg", "dup/猫 咪.png", "dup/a b.jpg"]
SIZED = {"original_width": 640, "original_height": 480}


def url_of(base: str, name: str) -> str:
    return f"{base}/{name.replace(' ', '%20')}"


def served_name(url: str) -> str:
    return unquote(urlsplit(url).path).lstrip("/")


async def detection_project(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    base: str,
) -> str:
    results: list[list[dict[str, object]] | None] = [
        [{**box("car", 10, 10, 30, 20), **SIZED}, {**box("person", 50, 40, 10, 35), **SIZED}],
        [],  # a negative, its size recorded below
        [{**box("car", 5, 5, 20, 20), **SIZED}],
        [],  # a negative of unknown size
        [{**box("person", 60, 20, 10, 30), **SIZED}],
        [{**box("car", 0, 0, 50, 50), **SIZED}],
    ]
    items = [Item(url_of(base, name), result) for name, result in zip(FILES, results, strict=True)]
    project_id, task_ids = await build_project(channel, admin, annotator, "object_detection", items)
    async with database.transaction() as conn:
        await conn.execute(
            update(Task).where(Task.id == int(task_ids[1])).values(image_width=40, image_height=24)
        )
    return project_id


async def exported(
    channel: grpc.aio.Channel, admin: TestUser, project_id: str, fmt: str, target: Path
) -> None:
    created = await create_export(channel, admin, project_id, fmt)
    await download(channel, admin, created.export_id, target)


async def test_the_yolo_recipe_gives_ultralytics_every_image_beside_its_labels(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
) -> None:
    images = write_images(tmp_path / "host", FILES)
    work = tmp_path / "work"
    work.mkdir()
    with image_host(tmp_path / "host") as base:
        project_id = await detection_project(channel, database, admin, annotator, base)
        await exported(channel, admin, project_id, "yolo", work / "export.zip")
        run_recipe(recipe("**yolo → Ultralytics.**"), work)

    dataset = work / "dataset"
    assert (work / "yolo-args.txt").read_text(encoding="utf-8").splitlines() == [
        "train",
        f"data={dataset}/data.yaml",
        "model=yolo11n.pt",
    ]
    found = readers.check_yolo(work / "export.zip")
    data = found["data"]
    root = ultralytics_dataset_root(data, dataset / "data.yaml", tmp_path / "datasets")
    listed = ultralytics_images((root / data["train"]).resolve())
    assert len(listed) == len(FILES)
    urls = {entry["image"]: entry["url"] for entry in found["manifest"]}
    for image in listed:
        relative = image.relative_to(dataset).as_posix()
        # each image holds its own bytes (x.png and X.png are different images)
        assert image.read_bytes() == images[served_name(urls[relative])], relative
        with Image.open(image) as opened:  # what Ultralytics' verify_image_label checks
            opened.verify()
        label = Path(str(image).replace(f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"))
        assert label.with_suffix(".txt").is_file()
    assert sorted(len(lines) for lines in found["labels"].values()) == [0, 0, 1, 1, 1, 2]


async def test_the_pascal_voc_recipe_writes_a_voc_folder_with_its_images(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
) -> None:
    images = write_images(tmp_path / "host", FILES)
    work = tmp_path / "work"
    work.mkdir()
    with image_host(tmp_path / "host") as base:
        project_id = await detection_project(channel, database, admin, annotator, base)
        await exported(channel, admin, project_id, "pascal_voc", work / "export.json")
        run_recipe(recipe("**pascal_voc → a VOC folder"), work)

    elements = readers.check_pascal_voc(work / "export.json")
    assert len(elements) == len(FILES) - 1  # the negative of unknown size is left out
    voc = work / "voc"
    stems = (voc / "ImageSets/Main/train.txt").read_text(encoding="utf-8").split()
    assert len(stems) == len(elements) == len(list((voc / "Annotations").iterdir()))
    for element in elements:
        image = voc / "JPEGImages" / element["filename"]
        assert image.read_bytes() == images[served_name(element["image"])]
    annotations = AnnotationSet.from_pascal_voc(voc / "Annotations")
    assert len(annotations) == len(elements) and annotations.nb_boxes() == 5


@pytest.mark.parametrize("fmt", ["sharegpt", "alpaca"])
async def test_the_llama_factory_recipe_puts_every_image_in_media(
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    fmt: str,
) -> None:
    images = write_images(tmp_path / "host", FILES)
    work = tmp_path / "work"
    work.mkdir()
    with image_host(tmp_path / "host") as base:
        items = [Item(url_of(base, name), [choice("car", "image")]) for name in FILES]
        project_id, _ = await build_project(
            channel, admin, annotator, "image_classification", items
        )
        await exported(channel, admin, project_id, fmt, work / "export.json")
        run_recipe(recipe("**sharegpt / alpaca → LLaMA-Factory.**"), work)

    check = readers.check_sharegpt if fmt == "sharegpt" else readers.check_alpaca
    records = check(work / "export.json")
    assert len(records) == len(FILES)
    for record in records:
        for name, url in zip(record["images"], record["image_urls"], strict=True):
            assert (work / "media" / name).read_bytes() == images[served_name(url)]
