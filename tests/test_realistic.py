"""The shared realistic data holds what it promises (tests.realistic)."""

from __future__ import annotations

import struct
import zlib

from server.images import pixel_size
from server.workflow.prelabel import results_match
from tests import realistic
from tests.realistic import DETECTION, DETECTOR_NEW, DETECTOR_OLD, OVERRUN_BOX


def test_image_tasks_have_no_size_but_the_fixture_knows_it() -> None:
    body = realistic.detection_init()
    for task in body["data"]:
        assert pixel_size([], task["metadata"]) is None
    sizes = realistic.natural_sizes()
    assert len(sizes) == len(body["data"])
    assert sizes[DETECTION["move"].content()] == (200, 100)


def test_several_boxes_from_two_versions_a_negative_and_an_unpredicted_image() -> None:
    assert any(len(i.predictions.get(DETECTOR_NEW, ())) >= 3 for i in DETECTION.values())
    assert all(DETECTOR_OLD in i.predictions for i in DETECTION.values() if i.key != "cjk"
               and i.key != "unpredicted")  # fmt: skip
    assert DETECTION["negative"].truth == ()
    assert DETECTION["negative"].predictions[DETECTOR_NEW]
    assert DETECTION["unpredicted"].predictions == {}


def test_colliding_stems_and_unusual_names() -> None:
    names = [DETECTION[k].path.rsplit("/", 1)[1] for k in realistic.COLLIDING_KEYS]
    assert sorted(names) == ["X.png", "x.jpeg", "x.jpg", "x.png"]
    assert len({DETECTION[k].path.rsplit("/", 1)[0] for k in realistic.COLLIDING_KEYS}) == 1
    assert DETECTION["accents"].file_name == "crème brûlée café.jpg"
    assert DETECTION["cjk"].file_name == "駅 前 1.png"
    assert not DETECTION["cjk"].content().isascii()


def test_the_overrun_passes_the_edge_by_under_a_pixel() -> None:
    width, _ = DETECTION["overrun"].size
    overrun = OVERRUN_BOX.x + OVERRUN_BOX.w - width
    assert 0 < overrun < 1
    assert (
        OVERRUN_BOX.percent(DETECTION["overrun"].size)["x"]
        + OVERRUN_BOX.percent(DETECTION["overrun"].size)["width"]
        > 100
    )


def test_label_studio_shape_adds_what_its_front_end_adds() -> None:
    stored = {"type": "rectanglelabels", "from_name": "label", "to_name": "image", "score": 0.9,
              "value": {"x": 10.0, "y": 30.0, "width": 30.0, "height": 40.0, "rotation": 0,
                        "rectanglelabels": ["car"]}}  # fmt: skip
    [region] = realistic.ls_submitted([stored], size=(200, 100))
    assert list(region) == ["original_width", "original_height", "image_rotation", "value",
                            "id", "from_name", "to_name", "type", "origin", "score"]  # fmt: skip
    assert (region["original_width"], region["image_rotation"], region["origin"]) == (
        200, 0, "prediction")  # fmt: skip
    assert list(region["value"]) == ["x", "y", "width", "height", "rotation", "rectanglelabels"]
    assert abs(region["value"]["y"] - 30.0) < 1e-9


def test_png_bytes_is_a_png_of_the_size() -> None:
    data = realistic.png_bytes(200, 100)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (200, 100)
    length = struct.unpack(">I", data[33:37])[0]
    assert len(zlib.decompress(data[41 : 41 + length])) == (1 + 3 * 200) * 100


def test_the_reproduction_matches_label_studio_as_captured() -> None:
    """tests/realistic/label_studio_1_4_0_capture.json: what its front end really sent."""
    capture = realistic.label_studio_capture()
    accept, move = capture["accept"], capture["move"]
    size = tuple(capture["sizes"]["accept"])
    realistic.check_label_studio_shape(
        accept["submitted"], realistic.ls_submitted(accept["shown"], size=size), tolerance=0.01
    )
    assert results_match(accept["submitted"], accept["shown"])
    assert not results_match(move["submitted"], move["shown"])
    assert [r["origin"] for r in move["submitted"]] == ["prediction-changed", "prediction"]


def test_the_coco_ground_truth_holds_the_negative_and_the_overrun() -> None:
    coco = realistic.coco_ground_truth()
    assert len(coco["images"]) == len(realistic.DETECTION_ITEMS)
    annotated = {a["image_id"] for a in coco["annotations"]}
    negative = next(i for i in coco["images"] if i["file_name"] == DETECTION["negative"].content())
    assert negative["id"] not in annotated
    assert [180.0, 90.0, 20.4, 10.0] in [a["bbox"] for a in coco["annotations"]]
