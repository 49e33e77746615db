"""Image names, YOLO label stems and Pascal VOC xml names never collide: not by
suffix (`x.png` / `x.jpg` share a stem), not by case (`X.png` / `x.png` are one
file on macOS and Windows), not by Unicode normalization; and every format
names each task's image alike."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from server.images import ImageNames
from storage.export_records import ExportTask
from tests.exports import readers
from tests.exports.realistic import AWKWARD_NAMES, COLLIDING_NAMES, FOLDER, box, make_task
from tests.exports.samples import choice, write_export

LABELS = ("car", "person")
# NFC and NFD spellings of one name: one file on macOS
NORMALIZATION = ("caf\u00e9.png", "cafe\u0301.png")
NAMES = (*COLLIDING_NAMES, *AWKWARD_NAMES, "A%20B.jpg", *NORMALIZATION)


def folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def stem(name: str) -> str:
    return PurePosixPath(name).stem


def detection_tasks() -> list[ExportTask]:
    # the first has no size: coco and pascal_voc leave it out, yet name the rest alike
    tasks = [make_task(1, FOLDER + NAMES[0], [box("car", 10, 10, 10, 10)])]
    tasks += [
        make_task(i, FOLDER + name, [box("car", 10, 10, 10, 10, size=(64, 48))])
        for i, name in enumerate(NAMES[1:], start=2)
    ]
    # the same URL again, a negative
    tasks.append(make_task(len(NAMES) + 1, FOLDER + NAMES[1], [], recorded=(64, 48)))
    return tasks


def assert_never_collide(names: list[str]) -> None:
    assert len({folded(n) for n in names}) == len(names), names
    assert len({folded(stem(n)) for n in names}) == len(names), names


def test_image_names_differ_in_stem_ignoring_case_and_normalization() -> None:
    names = ImageNames()
    given = [names.file_name(i, FOLDER + name) for i, name in enumerate(NAMES, start=1)]
    assert given[:4] == ["dup__x.png", "dup__x__T-2.jpg", "dup__X__T-3.png", "dup__x__T-4.jpeg"]
    assert given[4:7] == ["dup__猫_咪.png", "dup__a_b.jpg", "dup__Ünïcode_Näme.jpg"]
    assert given[7] == "dup__A_B__T-8.jpg"
    assert_never_collide(given)


def test_a_name_taken_by_an_earlier_image_is_never_given_twice() -> None:
    names = ImageNames()
    first = names.file_name(1, FOLDER + "x.png")
    literal = names.file_name(9, FOLDER + "x__T-2.png")  # an image really named so
    second = names.file_name(2, FOLDER + "x.jpg")
    assert (first, literal, second) == ("dup__x.png", "dup__x__T-2.png", "dup__x__T-2__T-2.jpg")


def test_yolo_images_and_label_files_never_collide(tmp_path: Path) -> None:
    path, _ = write_export(tmp_path, "yolo", "object_detection", detection_tasks(), LABELS)
    found = readers.check_yolo(path)
    images = [PurePosixPath(image).name for image in found["labels"]]
    assert len(images) == len(NAMES) + 1
    assert_never_collide(images)
    with zipfile.ZipFile(path) as archive:
        labels = [n for n in archive.namelist() if n.startswith("labels/")]
    assert len(labels) == len(images) and len({folded(n) for n in labels}) == len(labels)
    # unzipped where case and normalization do not count, no file replaces another
    extracted = tmp_path / "folded"
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            target = extracted / folded(name)
            assert not target.exists(), name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))


@pytest.mark.parametrize("fmt", ["coco", "pascal_voc", "yolo"])
def test_every_format_names_each_image_alike(tmp_path: Path, fmt: str) -> None:
    tasks = detection_tasks()
    path, _ = write_export(tmp_path, fmt, "object_detection", tasks, LABELS)
    if fmt == "coco":
        given = {str(i["id"]): i["file_name"] for i in readers.check_coco(path)["images"]}
    elif fmt == "pascal_voc":
        elements = readers.check_pascal_voc(path)
        task_ids = [str(t.task_id) for t in tasks[1:]]  # the first has no size
        given = dict(zip(task_ids, [e["filename"] for e in elements], strict=True))
    else:
        manifest = readers.check_yolo(path)["manifest"]
        given = {e["task_id"]: PurePosixPath(e["image"]).name for e in manifest}
    names = ImageNames()
    expected = {str(t.task_id): names.file_name(t.task_id, t.content) for t in tasks}
    assert given == {k: v for k, v in expected.items() if k in given}
    assert len(given) == (len(tasks) if fmt == "yolo" else len(tasks) - 1)
    assert_never_collide(list(given.values()))


def test_pascal_voc_xml_files_of_the_documented_recipe_never_collide(tmp_path: Path) -> None:
    path, _ = write_export(tmp_path, "pascal_voc", "object_detection", detection_tasks(), LABELS)
    stems = [stem(e["filename"]) for e in readers.check_pascal_voc(path)]
    assert len({folded(s) for s in stems}) == len(stems) == len(NAMES)  # 1 left out, 1 repeat


@pytest.mark.parametrize("fmt", ["sharegpt", "alpaca"])
def test_llm_media_names_never_collide(tmp_path: Path, fmt: str) -> None:
    tasks = [
        make_task(i, FOLDER + name, [choice("car", "image")])
        for i, name in enumerate(NAMES, start=1)
    ]
    path, _ = write_export(tmp_path, fmt, "image_classification", tasks, LABELS)
    check = readers.check_sharegpt if fmt == "sharegpt" else readers.check_alpaca
    images = [name for record in check(path) for name in record["images"]]
    assert len(images) == len(NAMES)
    assert_never_collide(images)
