"""Quality control in a real browser, on the real service, for both review modes.

Three street images with a det-v3 pre-label each; kim's answer to street-gt is
imported. In the pages: the admin marks street-gt as ground truth, sets review
(every answer, or a sampled share of 1.0), two annotators per task and a
ground-truth rate of 1, makes rita a reviewer and gives ann and ben the two
other tasks. ann and ben correct the pre-labels (and get street-gt unmarked:
ann keeps its box, ben moves it off); ann moves street-1's box off the car.
rita sees ann's street-1 answer beside the pre-label and ben's answer, rejects
it with a comment (keyboard), corrects and accepts ben's street-0 answer, and
accepts the others. ann sees the comment in her queue and above the task, fixes
the box and submits again; rita accepts it. The admin's quality tab shows what
happened: agreement 100 % (every task's two answers match once fixed), ground-
truth accuracy 50 % (ann 100 %, ben 0 %), the review counts; the consensus COCO
export opens in pycocotools with one merged box per image.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from playwright.async_api import Browser, Page, expect
from pycocotools.coco import COCO

from gateway.serve import RunningGateway
from storage.database import Database
from tests.helpers import TestUser
from tests.workbench.browser import Story, image_host, png
from tests.workflow.support import Rest, aap_bbox_file, make_user

WIDTH, HEIGHT = 480, 320
# Pre-labels in percent of the image: (x, y, width, height), by external id.
BOXES = {
    "street-0": (10.0, 15.0, 30.0, 40.0),
    "street-1": (55.0, 20.0, 25.0, 35.0),
    "street-gt": (30.0, 30.0, 30.0, 30.0),
}
# How far each annotator drags the pre-label's box, in percent of the image width.
# Boxes 5 % apart still match at IoU 0.5; 25 % or more apart do not.
MOVES = {
    ("ann", "street-0"): 5.0,
    ("ben", "street-0"): 10.0,
    ("ann", "street-1"): -40.0,  # off the car: rejected, then moved back
    ("ben", "street-1"): 0.0,
    ("ann", "street-gt"): 0.0,  # the known answer
    ("ben", "street-gt"): -25.0,  # misses it
}
COMMENT = "The box left the car: drag it back onto the car (右边那辆)."


async def create_project(owner: Rest, image_base: str, kim: TestUser) -> str:
    names = list(BOXES)
    project = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "街景 quality",
            "task_type": "object_detection",
            "external_id": "street-qc",
            "data": [{"id": name, "content": f"{image_base}/{name}.png"} for name in names],
            "tags": [{"tag": "car", "color": "#E4572E"}],
        },
    )
    project_id: str = project["project_id"]
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/predictions/import",
        files={
            "file": (
                "p.json",
                aap_bbox_file(
                    [t["task_id"] for t in tasks["tasks"]],
                    list(BOXES.values()),
                    class_name="car",
                    confidence=0.9,
                ),
                "application/json",
            )
        },
        data={"model_version": "det-v3"},
    )
    await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
    # kim's answer to street-gt: the box where the pre-label put it.
    x, y, w, h = BOXES["street-gt"]
    known = [
        {
            "task_id": int(
                next(t for t in tasks["tasks"] if t["external_id"] == "street-gt")["task_id"]
            ),
            "data": {"image": f"{image_base}/street-gt.png"},
            "annotations": [
                {
                    "result": [
                        {
                            "type": "rectanglelabels",
                            "from_name": "label",
                            "to_name": "image",
                            "original_width": WIDTH,
                            "original_height": HEIGHT,
                            "value": {
                                "x": x,
                                "y": y,
                                "width": w,
                                "height": h,
                                "rectanglelabels": ["car"],
                            },
                        }
                    ],
                    "was_cancelled": False,
                }
            ],
        }
    ]
    report = await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/annotations/import",
        files={"file": ("gt.json", orjson.dumps(known), "application/json")},
        data={"annotator_id": kim.user_id},
    )
    assert report["imported"] == 1, report
    return project_id


async def drag_box(page: Page, box: tuple[float, float, float, float], dx_percent: float) -> None:
    """Drag the rectangle at box (percent of the image) dx_percent of the image's width."""
    image = await page.locator(".ls-host img").bounding_box()
    assert image is not None
    x, y, w, h = box
    centre_x = image["x"] + (x + w / 2) / 100 * image["width"]
    centre_y = image["y"] + (y + h / 2) / 100 * image["height"]
    await page.mouse.move(centre_x, centre_y)
    await page.mouse.down()
    await page.mouse.move(centre_x + dx_percent / 100 * image["width"], centre_y, steps=8)
    await page.mouse.up()


async def label_queue(story: Story, page: Page, name: str) -> list[str]:
    """Take tasks with Next task until the queue is empty; returns their external ids."""
    seen: list[str] = []
    await page.click("#next-task")
    while True:
        ready = page.locator(".labelling[data-ready=yes]")
        empty = page.locator("#queue-empty")
        await expect(ready.or_(empty)).to_be_visible()
        if await empty.is_visible():
            return seen
        external_id = await ready.get_attribute("data-external-id") or ""
        assert external_id not in seen, f"{name} got {external_id} twice"
        seen.append(external_id)
        move = MOVES[(name, external_id)]
        if move:
            await drag_box(page, BOXES[external_id], move)
        await story.shot(page, f"{name}-{external_id}")
        await page.keyboard.press("Control+Enter")
        await expect(page.locator(f".labelling[data-external-id='{external_id}']")).to_have_count(0)


async def review_all(story: Story, rita: Page) -> list[tuple[str, str]]:
    """rita reviews until nothing waits: rejects ann's street-1 (keyboard), corrects and
    accepts ben's street-0, accepts the rest. Returns (external id, author) in order."""
    seen: list[tuple[str, str]] = []
    while True:
        item = rita.locator(".reviewing[data-ready=yes]")
        empty = rita.locator("#review-empty")
        await expect(item.or_(empty)).to_be_visible()
        if await empty.is_visible():
            return seen
        external_id = await item.get_attribute("data-external-id") or ""
        author = await item.get_attribute("data-author") or ""
        seen.append((external_id, author))
        # The pre-label it started from is beside it, and so is the other answer.
        await expect(rita.locator("#review-prelabel")).to_contain_text("det-v3")
        other = "ben" if author == "ann" else "ann"
        await expect(rita.locator(".answer-other figcaption")).to_contain_text(other)
        if (external_id, author) == ("street-1", "ann"):
            await story.shot(rita, "reviewer-sees-wrong-box")
            await rita.keyboard.press("Alt+r")
            await rita.fill("#reject-comment", COMMENT)
            await story.shot(rita, "reviewer-rejects")
            await rita.keyboard.press("Control+Enter")
            verdict = "Rejected"
        elif (external_id, author) == ("street-0", "ben"):
            await expect(rita.locator("#correct")).to_contain_text("Alt+C")
            await rita.keyboard.press("Alt+c")
            verdict = "Corrected and accepted"
        else:
            await expect(rita.locator("#accept")).to_contain_text("Alt+A")
            await rita.click("#accept")
            verdict = "Accepted"
        await expect(rita.locator("#review-done")).to_contain_text(
            f"{verdict} {author}'s answer to"
        )
        await expect(
            rita.locator(
                f".reviewing[data-ready=yes][data-author='{author}'][data-external-id='{external_id}']"
            )
        ).to_have_count(0)


def percent(value: float) -> str:
    return f"{value:.1f}%"


@pytest.mark.timeout(400)
@pytest.mark.parametrize("review_mode", ["all", "sample"])
async def test_quality_story(
    review_mode: str,
    database: Database,
    admin: TestUser,
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    browser: Browser,
) -> None:
    users = {
        name: await make_user(database, name, role)
        for name, role in [
            ("ann", "annotator"),
            ("ben", "annotator"),
            ("kim", "annotator"),
            ("rita", "reviewer"),
        ]
    }
    owner = Rest(http_client, admin)
    images = {
        f"{name}.png": png(WIDTH, HEIGHT, (80 + 50 * n, 140, 180)) for n, name in enumerate(BOXES)
    }
    story = Story(browser, gateway.url, f"quality-{review_mode}")
    with image_host(images) as image_base:
        failed = True
        try:
            coco_path = await play(story, owner, image_base, users, review_mode)
            failed = False
        finally:
            await story.close(failed=failed)

    coco = COCO(str(coco_path))
    by_name = {image["file_name"]: image["id"] for image in coco.loadImgs(coco.getImgIds())}
    for name in ("street-0", "street-1"):
        image_id = next(i for file_name, i in by_name.items() if name in file_name)
        boxes = [a["bbox"] for a in coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))]
        assert len(boxes) == 1, (name, boxes)  # the two answers merged into one box
        x, y, w, h = BOXES[name]
        merged_x, merged_y, merged_w, merged_h = boxes[0]
        assert (merged_y, merged_w, merged_h) == pytest.approx(
            (y * HEIGHT / 100, w * WIDTH / 100, h * HEIGHT / 100), abs=3
        )
        moves = [MOVES[("ann", name)], MOVES[("ben", name)]] if name == "street-0" else [0.0, 0.0]
        low, high = (x + min(moves)) * WIDTH / 100, (x + max(moves)) * WIDTH / 100
        assert low - 3 <= merged_x <= high + 3, (name, merged_x, low, high)
        if name == "street-0":
            assert low + 3 < merged_x < high - 3  # between the two answers, not one of them


async def play(
    story: Story, owner: Rest, image_base: str, users: dict[str, TestUser], review_mode: str
) -> Path:
    project_id = await create_project(owner, image_base, users["kim"])
    base = story.base_url

    # The admin: quality settings, a reviewer and ground truth on the Quality tab.
    admin = await story.person()
    await story.sign_in(admin, owner.user)
    await admin.goto(f"{base}/workbench/#/projects/{project_id}?tab=quality")
    await expect(admin.locator("#review-mode")).to_have_value("off")
    await admin.select_option("#review-mode", review_mode)
    if review_mode == "sample":
        await admin.fill("#review-share", "1")
    await admin.fill("#annotations-per-task", "2")
    await admin.fill("#ground-truth-rate", "1")
    await admin.click("#save-quality")
    await expect(admin.locator("#quality-saved")).to_be_visible()
    await expect(admin.locator("#annotations-per-task")).to_have_value("2")
    await admin.select_option("#reviewer-choice", label="rita")
    await admin.click("#add-reviewer")
    await expect(admin.locator("#reviewers li[data-reviewer=rita]")).to_be_visible()
    await admin.check("#ground-truth-card input[value=street-gt]")
    await admin.click("#mark-ground-truth")
    await expect(admin.locator("#ground-truth-result")).to_have_text(
        "Marked 1; the project has 1 ground-truth task."
    )
    await story.shot(admin, "admin-quality-settings", full_page=True)

    # Two tasks to each annotator (two annotators per task).
    await admin.click("#tab-overview")
    await admin.check("#assign-card input[value=ann]")
    await admin.check("#assign-card input[value=ben]")
    await admin.fill("#assign-count", "2")
    await admin.click("#assign")
    await expect(admin.locator("#assign-result")).to_have_text("Assigned 2 to ann, 2 to ben.")

    # ann and ben label everything they are served; street-gt comes unmarked.
    pages: dict[str, Page] = {}
    for name in ("ann", "ben"):
        pages[name] = await story.person()
        await story.sign_in(pages[name], users[name])
        served = await label_queue(story, pages[name], name)
        assert sorted(served) == ["street-0", "street-1", "street-gt"], (name, served)

    # rita reviews: one rejection, one correction, the rest accepted.
    rita = await story.person()
    await story.sign_in(rita, users["rita"])
    await expect(rita.locator("#role")).to_have_text("reviewer")
    reviewed = await review_all(story, rita)
    assert sorted(reviewed) == [
        ("street-0", "ann"),
        ("street-0", "ben"),
        ("street-1", "ann"),
        ("street-1", "ben"),
    ]

    # ann sees why street-1 came back, fixes it and submits it again.
    ann = pages["ann"]
    await ann.click(".topbar a[href='#/queue']:not(.brand)")  # the queue, read afresh
    returned = ann.locator("#my-tasks tr[data-review=rejected]")
    await expect(returned).to_have_count(1)
    await expect(returned).to_contain_text(COMMENT)
    await expect(returned).to_contain_text("returned")
    await story.shot(ann, "annotator-sees-returned-task")
    await returned.locator("a").click()
    await expect(
        ann.locator(".labelling[data-ready=yes][data-external-id=street-1]")
    ).to_be_visible()
    await expect(ann.locator("#review-comment")).to_contain_text(COMMENT)
    await expect(ann.locator("#review-comment")).to_contain_text("rita")
    await expect(ann.locator("#submit")).to_contain_text("Submit again")
    x, y, w, h = BOXES["street-1"]
    await drag_box(ann, (x + MOVES[("ann", "street-1")], y, w, h), -MOVES[("ann", "street-1")])
    await story.shot(ann, "annotator-fixes")
    await ann.keyboard.press("Control+Enter")
    await expect(ann.locator("#queue-empty")).to_be_visible()

    # rita accepts the fix with the keyboard; nothing waits afterwards.
    await rita.click("#next-review")
    fixed = rita.locator(".reviewing[data-ready=yes][data-author=ann][data-external-id=street-1]")
    await expect(fixed).to_be_visible()
    await expect(rita.locator(".reviewing .readonly-note")).to_contain_text(COMMENT)
    await rita.keyboard.press("Alt+a")
    await expect(rita.locator("#review-done")).to_contain_text("Accepted ann's answer to")
    await expect(rita.locator("#review-empty")).to_be_visible()

    # The admin sees exactly that: 5 verdicts, every answer accepted, agreement and accuracy.
    await admin.goto(f"{base}/workbench/#/projects/{project_id}?tab=quality")
    card = admin.locator("#quality-card")
    counts = {
        "review-pending": "0",
        "accepted": "4",  # the annotators' answers; rita's correction is hers, not counted
        "rejected": "0",
        "reviewed": "5",
        "agreement": percent(100),
        "ground-truth-accuracy": percent(50),
    }
    for key, value in counts.items():
        await expect(card.locator(f".count[data-count={key}] .count-value")).to_have_text(value)
    expected_rows = {
        "ann": ("2", percent(100), percent(100)),
        "ben": ("2", percent(100), percent(0)),
    }
    for name, (accepted, agreement, accuracy) in expected_rows.items():
        row = card.locator(f"#annotator-quality tr[data-annotator={name}]")
        await expect(row.locator("td.accepted")).to_have_text(accepted)
        await expect(row.locator("td.rejected")).to_have_text("0")
        await expect(row.locator("td.agreement")).to_have_text(agreement)
        await expect(row.locator("td.accuracy")).to_have_text(accuracy)
    car = card.locator("#label-quality tr[data-label=car]")
    await expect(car.locator("td.agreement")).to_have_text(percent(100))
    await expect(car.locator("td.accuracy")).to_have_text(percent(50))
    await expect(admin.locator("#agreement-summary")).to_contain_text(
        "2 tasks with two or more answers"
    )
    await expect(admin.locator("#agreement-summary")).to_contain_text("1 ground-truth task")
    await story.shot(admin, "admin-quality", full_page=True)

    # Progress counts tasks: street-0 and street-1 completed once each; street-gt holds
    # kim's one answer of the two a task now needs (the ground-truth answers are not counted).
    await admin.click("#tab-overview")
    progress = admin.locator("#progress-card")
    await expect(progress).to_contain_text("66.67% · 2 completed, 1 in progress, 0 pending")
    for name in ("ann", "ben"):
        await expect(progress.locator(f"tr[data-annotator={name}] td").nth(3)).to_have_text("2")

    # The consensus COCO export, from the page.
    await admin.check("#export-consensus")
    async with admin.expect_download() as download_info:
        await admin.click("#export-coco")
    download = await download_info.value
    coco_path = story.artifacts / download.suggested_filename
    await download.save_as(coco_path)
    await expect(admin.locator("#export-result")).to_contain_text("2 tasks")
    await story.shot(admin, "admin-consensus-export")
    assert story.errors == []
    assert sorted(story.api_refusals) == [
        (404, "POST", "/api/v1/me/next-review"),  # nothing waits for rita
        (404, "POST", "/api/v1/me/next-review"),  # nothing waits, at the end
        (404, "POST", "/api/v1/me/next-task"),  # ann's queue is done
        (404, "POST", "/api/v1/me/next-task"),  # ben's queue is done
        (404, "POST", "/api/v1/me/next-task"),  # ann's queue is done again
    ]
    return coco_path
