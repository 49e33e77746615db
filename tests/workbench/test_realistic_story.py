"""The pre-labelling loop in the browser on realistic data (tests/realistic.py).

An object-detection project whose tasks carry no image size, several boxes per
image from two model versions, non-ASCII, spaced and colliding file names. In
Label Studio, annotator ann:

* sees the newest version's whole pre-label (every region rendered) and accepts
  it untouched; what Label Studio 1.4.0 submitted is saved as
  tests/workbench/data/ls140_submit.json for the server's tests;
* moves one box of the next image, reloads the page (the draft keeps the move)
  and submits;
* switches the third image to the older version, deletes its region and submits
  the empty result as a negative, confirming the question the page asks.

The admin then sees the statistics (newest version: accepted unchanged 1,
modified 1) and exports COCO, YOLO and Pascal VOC from the page; pycocotools
opens the COCO file with the negative listed and the moved box moved. The
pages are checked at 800 px wide, and the story ends with no console error.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

import httpx
import orjson
import pytest
from playwright.async_api import Browser, Locator, Page, Request, expect
from pycocotools.coco import COCO

from gateway.serve import RunningGateway
from storage.database import Database
from tests import realistic
from tests.helpers import TestUser
from tests.workbench.browser import Story, image_host
from tests.workflow.support import Rest, make_user

DATA = Path(__file__).parent / "data"
LS_SUBMIT_FIXTURE = DATA / "ls140_submit.json"
NARROW = {"width": 800, "height": 900}
DX, DY = 40, 24  # screen pixels the box is dragged by


def images() -> dict[str, Path]:
    """Every detection image at its path, in its natural size."""
    return {
        unquote(item.path).lstrip("/"): realistic.png_bytes(*item.size)
        for item in realistic.DETECTION_ITEMS
    }


async def prepare(owner: Rest, annotator: TestUser, image_base: str) -> tuple[str, dict[str, str]]:
    """The project over REST, both model versions imported, ready, every task assigned."""
    body = realistic.detection_init(name="街景 street scenes", host=image_base)
    created = await owner.call("POST", "/api/external/projects/init", json=body)
    project_id = str(created["project_id"])
    listed = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    task_ids = realistic.task_ids_by_key(listed["tasks"])
    for version in (realistic.DETECTOR_OLD, realistic.DETECTOR_NEW):
        report = await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/predictions/import",
            files={
                "file": (
                    "predictions.json",
                    # (the sub-pixel overrun is the prediction import's tests' concern)
                    realistic.detection_predictions(task_ids, version, with_overrun=False),
                    "application/json",
                )
            },
            data={"model_version": version},
        )
        imported = realistic.prediction_count(version, with_overrun=False)
        assert report["imported"] == imported, report
    await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
    await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/assignments",
        json={"annotator_id": annotator.user_id, "count": len(task_ids)},
    )
    return project_id, task_ids


def labelling(page: Page, task_id: str) -> Locator:
    """The task page of task_id once Label Studio is ready."""
    return page.locator(f".labelling[data-ready=yes][data-task='T-{task_id}']")


def regions_shown(page: Page) -> Locator:
    """The regions Label Studio lists in its side panel, one item per region."""
    return page.locator(".ls-host .lsf-region-item")


async def assert_no_sideways_scroll(page: Page) -> None:
    widths = await page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways at 800 px: {widths}"


async def test_realistic_story(
    database: Database,
    admin: TestUser,
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    browser: Browser,
) -> None:
    ann_user = await make_user(database, "ann", "annotator")
    owner = Rest(http_client, admin)
    story = Story(browser, gateway.url, "realistic")
    with image_host(images()) as image_base:
        failed = True
        try:
            project_id, task_ids = await prepare(owner, ann_user, image_base)
            submitted = await annotate(story, ann_user, task_ids)
            await answer_without_size(Rest(http_client, ann_user), task_ids["accents"])
            files = await export(story, owner.user, project_id, f"T-{task_ids['accents']}")
            failed = False
        finally:
            await story.close(failed=failed)
    check_submitted(submitted, story.artifacts)
    check_coco(files["coco"])
    check_yolo(files["yolo"].read_bytes())
    check_voc(files["pascal_voc"].read_bytes())
    assert story.errors == []
    assert story.api_refusals == []


async def annotate(story: Story, user: TestUser, task_ids: dict[str, str]) -> list[dict[str, Any]]:
    """ann's three tasks in the page; returns the request bodies of the three submits."""
    page = await story.person()
    submitted: list[dict[str, Any]] = []

    def keep_submit(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/annotations"):
            submitted.append(orjson.loads(request.post_data or "{}"))

    page.on("request", keep_submit)
    await story.sign_in(page, user)
    await expect(page.locator("#username")).to_have_text("ann")
    await page.click("#next-task")

    # 1. accept: the newest version's three boxes, all shown; submitted untouched.
    accept = realistic.DETECTION["accept"]
    await expect(page.locator(".labelling[data-ready=yes]")).to_be_visible()
    picker = page.locator("#prelabel-version")
    await expect(picker.locator("option:checked")).to_contain_text(
        f"{realistic.DETECTOR_NEW} · 3 regions"
    )
    await expect(regions_shown(page)).to_have_count(len(accept.predictions[realistic.DETECTOR_NEW]))
    await story.shot(page, "whole-prelabel")
    await page.click("#submit")

    # 2. move: drag the car, reload (the draft keeps it), submit.
    move = realistic.DETECTION["move"]
    await expect(labelling(page, task_ids["move"])).to_be_visible()
    await expect(regions_shown(page)).to_have_count(2)
    image = await page.locator(".ls-host img").bounding_box()
    assert image is not None
    car = move.predictions[realistic.DETECTOR_NEW][0]
    width, height = move.size
    centre_x = image["x"] + (car.x + car.w / 2) / width * image["width"]
    centre_y = image["y"] + (car.y + car.h / 2) / height * image["height"]
    await page.mouse.move(centre_x, centre_y)
    await page.mouse.down()
    await page.mouse.move(centre_x + DX, centre_y + DY, steps=8)
    await page.mouse.up()
    await page.reload()
    await expect(page.locator("#draft-restored")).to_be_visible()
    await expect(page.locator(".labelling[data-ready=yes]")).to_be_visible()
    await story.shot(page, "draft-restored")
    await page.keyboard.press("Control+Enter")

    # 3. negative: switch to the older version (one region), delete it, submit empty.
    await expect(labelling(page, task_ids["negative"])).to_be_visible()
    await expect(regions_shown(page)).to_have_count(2)
    older = f"{realistic.DETECTOR_OLD} · 1 region · score 0.41"
    await page.select_option("#prelabel-version", label=older)
    await expect(page.locator(".labelling[data-ready=yes]")).to_be_visible()
    await expect(regions_shown(page)).to_have_count(1)
    await regions_shown(page).first.click()
    await page.keyboard.press("Backspace")
    await expect(regions_shown(page)).to_have_count(0)
    await page.click("#submit")
    await expect(page.locator("#confirm-empty")).to_contain_text("Submit with no regions?")
    await story.shot(page, "confirm-negative")
    await page.click("#submit-empty")
    await expect(labelling(page, task_ids["overrun"])).to_be_visible()

    # The annotator's page at 800 px: the task stays in view.
    narrow = await story.person(NARROW)
    await story.sign_in(narrow, user)
    await expect(narrow.locator("#my-tasks")).to_be_visible()
    await assert_no_sideways_scroll(narrow)
    await narrow.goto(f"{story.base_url}/workbench/#/tasks/{task_ids['cjk']}")
    await expect(narrow.locator(".labelling[data-ready=yes]")).to_be_visible()
    await expect(regions_shown(narrow)).to_have_count(2)
    await assert_no_sideways_scroll(narrow)
    await story.shot(narrow, "annotator-800px")
    return submitted


async def answer_without_size(annotator: Rest, task_id: str) -> None:
    """A negative from a client that records no image size: the task's size stays unknown."""
    await annotator.call("POST", f"/api/v1/tasks/{task_id}/start", json={})
    await annotator.call("POST", f"/api/v1/tasks/{task_id}/annotations", json={"result": []})


async def export(
    story: Story, admin: TestUser, project_id: str, unknown_size: str
) -> dict[str, Path]:
    """Statistics and the three exports from the admin's page (800 px wide)."""
    page = await story.person(NARROW)
    await story.sign_in(page, admin)
    await expect(page.locator(f"#projects tr[data-project='{project_id}']")).to_be_visible()
    await assert_no_sideways_scroll(page)
    await page.goto(f"{story.base_url}/workbench/#/projects/{project_id}")
    new = page.locator(f"#prediction-stats tr[data-model='{realistic.DETECTOR_NEW}']")
    await expect(new.locator("td.accepted")).to_have_text("1")
    await expect(new.locator("td.modified")).to_have_text("1")
    old = page.locator(f"#prediction-stats tr[data-model='{realistic.DETECTOR_OLD}']")
    await expect(old.locator("td.modified")).to_have_text("1")
    await expect(page.locator("#labels-readonly")).to_contain_text("Read-only")
    await assert_no_sideways_scroll(page)
    files: dict[str, Path] = {}
    for format_name in ("coco", "yolo", "pascal_voc"):
        async with page.expect_download() as download_info:
            await page.click(f"#export-{format_name}")
        download = await download_info.value
        path = story.artifacts / download.suggested_filename
        await download.save_as(path)
        files[format_name] = path
        await expect(page.locator("#export-result")).to_contain_text(download.suggested_filename)
        warnings = page.locator("#export-warnings li")
        if format_name == "yolo":  # needs no pixel size: every task is written
            await expect(warnings).to_have_count(0)
        else:  # the task is left out, and named
            await expect(warnings).to_have_count(1)
            await expect(warnings.first).to_contain_text(unknown_size)
            await story.shot(page, f"export-warnings-{format_name}")
    await story.shot(page, "admin-800px", full_page=True)
    return files


def check_submitted(submitted: list[dict[str, Any]], artifacts: Path) -> None:
    """Each submit names its group and the image's natural size; the first, untouched,
    is kept as the fixture of what Label Studio 1.4.0 returns."""
    assert len(submitted) == 3, submitted
    sizes = [(body.get("image_width"), body.get("image_height")) for body in submitted]
    keys = ("accept", "move", "negative")
    assert sizes == [realistic.DETECTION[key].size for key in keys]
    assert all(body.get("parent_prediction_id") for body in submitted)
    assert submitted[2]["result"] == []
    assert len(submitted[0]["result"]) == 3
    fixture = {
        "about": (
            "Request bodies of SubmitAnnotation as the workbench sent them with Label Studio "
            "1.4.0's front end (tests/workbench/test_realistic_story.py): the 'accept' item "
            "of tests/realistic.py accepted untouched, the 'move' item with its car dragged "
            "(and restored from the draft after a reload), and the 'negative' item submitted "
            "empty. Ids, region ids and lead times are those of the run that captured them. "
            "Rewrite with WORKBENCH_UPDATE_FIXTURES=1."
        ),
        "accept": submitted[0],
        "move": submitted[1],
        "negative": submitted[2],
    }
    # Key order as Label Studio wrote it: the file is what it returned.
    captured = orjson.dumps(fixture, option=orjson.OPT_INDENT_2) + b"\n"
    (artifacts / "ls140_submit.json").write_bytes(captured)
    if os.environ.get("WORKBENCH_UPDATE_FIXTURES") == "1":
        LS_SUBMIT_FIXTURE.write_bytes(captured)
    # The committed capture still has the shape Label Studio returns today.
    assert shape(orjson.loads(LS_SUBMIT_FIXTURE.read_bytes())) == shape(fixture)


def shape(value: Any) -> Any:
    """A value's structure: key order and types, not the values themselves."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items() if key != "about"]
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__ if not isinstance(value, int | float) else "number"


def check_coco(path: Path) -> None:
    """pycocotools opens the file: the negative listed without annotations, the moved
    box moved, the untouched image with its three boxes."""
    coco = COCO(str(path))
    by_size = {(image["width"], image["height"]): image["id"] for image in coco.dataset["images"]}
    assert len(coco.dataset["images"]) == 3
    negative = by_size[realistic.DETECTION["negative"].size]
    assert coco.getAnnIds(imgIds=[negative]) == []
    moved = by_size[realistic.DETECTION["move"].size]
    boxes = sorted(tuple(a["bbox"]) for a in coco.loadAnns(coco.getAnnIds(imgIds=[moved])))
    car = realistic.DETECTION["move"].predictions[realistic.DETECTOR_NEW][0]
    moved_car = next(b for b in boxes if b[2] == pytest.approx(car.w, abs=0.5))
    assert moved_car[0] > car.x + 2 and moved_car[1] > car.y + 2  # moved right and down
    assert len(coco.getAnnIds(imgIds=[by_size[realistic.DETECTION["accept"].size]])) == 3


def check_yolo(data: bytes) -> None:
    """One label file per image, distinct even ignoring case; the negatives' are empty."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        labels = {
            name: archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("labels/train/")
        }
    assert len(labels) == len({name.casefold() for name in labels}) == 4, labels
    assert sorted(len(text.splitlines()) for text in labels.values()) == [0, 0, 2, 3]


def check_voc(data: bytes) -> None:
    """One annotation per image, each with its size; the negative has no object."""
    documents = orjson.loads(data)
    assert len(documents) == 3
    sizes = set()
    for document in documents:
        root = ElementTree.fromstring(document["xml_content"])
        size = root.find("size")
        assert size is not None
        sizes.add((int(size.findtext("width", "0")), int(size.findtext("height", "0"))))
        objects = len(root.findall("object"))
        assert objects == len(document["objects"])
    assert sizes == {realistic.DETECTION[key].size for key in ("accept", "move", "negative")}
    assert sorted(len(document["objects"]) for document in documents) == [0, 2, 3]
