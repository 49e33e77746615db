"""The whole workbench story in a real browser, on the real service.

Two projects are created over REST (object detection with imported predictions;
text classification). In the pages: the admin configures and assigns them;
annotator ann accepts one rectangle pre-label unchanged and moves another;
annotator ben picks a choice and skips a task; the admin sees progress and the
prediction statistics change and exports COCO, whose file holds the moved box.
Screenshots of every step go to test-artifacts/workbench/.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect
from pycocotools.coco import COCO

from gateway.serve import RunningGateway
from server.accounts import revoke
from storage.database import Database
from tests.helpers import TestUser
from tests.workbench.browser import Story, image_host, png
from tests.workflow.support import Rest, aap_bbox_file, make_user

WIDTH, HEIGHT = 480, 320
# Pre-labels in percent of the image: (x, y, width, height).
BOXES = [(10.0, 15.0, 30.0, 40.0), (50.0, 20.0, 25.0, 35.0)]
REVIEWS = ["这家店的服务很周到，菜也好吃。", "等了一个小时才上菜，<b>再也不来了</b>。"]


async def create_projects(owner: Rest, image_base: str) -> tuple[str, str]:
    detection = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "街景车辆检测",
            "task_type": "object_detection",
            "external_id": "street-2026-11",
            "data": [
                {
                    "id": f"street-{n}",
                    "content": f"{image_base}/street-{n}.png",
                    "metadata": {"width": WIDTH, "height": HEIGHT},
                }
                for n in range(len(BOXES))
            ],
            "tags": [{"tag": "car", "color": "#E4572E"}, {"tag": "行人", "color": "#29335C"}],
        },
    )
    tasks = await owner.call("GET", f"/api/external/projects/{detection['project_id']}/tasks")
    report = await owner.call(
        "POST",
        f"/api/v1/projects/{detection['project_id']}/predictions/import",
        files={
            "file": (
                "p.json",
                aap_bbox_file(
                    [t["task_id"] for t in tasks["tasks"]], BOXES, class_name="car", confidence=0.87
                ),
                "application/json",
            )
        },
        data={"model_version": "det-v3"},
    )
    assert report["imported"] == len(BOXES)
    reviews = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "评论情感",
            "task_type": "text_classification",
            "external_id": "reviews-2026-11",
            "data": [{"id": f"review-{n}", "content": text} for n, text in enumerate(REVIEWS)],
        },
    )
    return detection["project_id"], reviews["project_id"]


async def test_workbench_story(
    database: Database,
    admin: TestUser,
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    browser: Browser,
) -> None:
    started = time.monotonic()
    ann_user = await make_user(database, "ann", "annotator")
    ben_user = await make_user(database, "ben", "annotator")
    owner = Rest(http_client, admin)
    images = {f"street-{n}.png": png(WIDTH, HEIGHT, (90 + 60 * n, 140, 180)) for n in range(2)}
    story = Story(browser, gateway.url, "story")
    with image_host(images) as image_base:
        failed = True
        try:
            coco_path = await play(story, database, owner, image_base, ann_user, ben_user)
            failed = False
        finally:
            await story.close(failed=failed)

    coco = COCO(str(coco_path))
    boxes = sorted(tuple(a["bbox"]) for a in coco.loadAnns(coco.getAnnIds()))
    pixels = [
        (x * WIDTH / 100, y * HEIGHT / 100, w * WIDTH / 100, h * HEIGHT / 100)
        for x, y, w, h in BOXES
    ]
    assert len(boxes) == 2
    assert boxes[0] == pytest.approx(pixels[0], abs=0.01)  # accepted unchanged
    moved = boxes[1]
    assert moved[2:] == pytest.approx(pixels[1][2:], abs=0.5)  # same size
    assert moved[0] - pixels[1][0] == pytest.approx(48, abs=4)  # dragged 48 px right
    assert moved[1] - pixels[1][1] == pytest.approx(32, abs=4)  # and 32 px down
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["car", "行人"]

    print(f"workbench story: {time.monotonic() - started:.1f} s")


async def play(
    story: Story,
    database: Database,
    owner: Rest,
    image_base: str,
    ann_user: TestUser,
    ben_user: TestUser,
) -> Path:
    """The steps in the pages; returns the path of the downloaded COCO file."""
    detection_id, reviews_id = await create_projects(owner, image_base)
    base = story.base_url
    admin = owner.user
    # The admin signs in and finds the detection project by its external id.
    admin_page = await story.person()
    await admin_page.goto(f"{base}/workbench/")
    await expect(admin_page.locator("#signin")).to_be_visible()
    await story.shot(admin_page, "sign-in")
    await story.sign_in(admin_page, admin)
    await expect(admin_page.locator("#projects tbody tr")).to_have_count(2)
    await story.shot(admin_page, "projects")
    await admin_page.fill("#project-filter input[name=external_id]", "street-2026-11")
    await admin_page.click("#project-filter button[type=submit]")
    await expect(admin_page.locator("#projects tbody tr")).to_have_count(1)
    await admin_page.click(f"#projects tr[data-project={detection_id}] a")

    # Detection: labels came with init; mark ready and give ann both tasks.
    await expect(admin_page.locator("#labels-card .label-name")).to_have_count(2)
    await admin_page.click("#mark-ready")
    await expect(admin_page.locator("#labels-card")).to_contain_text("the project is ready")
    await admin_page.check("#assign-card input[value=ann]")
    await admin_page.fill("#assign-count", "2")
    await admin_page.click("#assign")
    await expect(admin_page.locator("#assign-result")).to_have_text("Assigned 2 to ann.")
    await story.shot(admin_page, "admin-configured-and-assigned")

    await expect(admin_page.locator("#annotator-progress tr[data-annotator=ann]")).to_be_visible()

    # ann: the queue, then the first task with its rectangle pre-label, accepted as it is.
    ann = await story.person()
    await story.sign_in(ann, ann_user)
    await expect(ann.locator(".count[data-status=pending] .count-value")).to_have_text("2")
    await story.shot(ann, "annotator-queue")
    await ann.click("#next-task")
    await expect(ann.locator(".labelling[data-ready=yes]")).to_be_visible()
    await expect(ann.locator(".ls-host")).to_contain_text("0.87")  # the pre-label's score
    first_task = await ann.get_attribute(".labelling", "data-task")
    await story.shot(ann, "annotator-prelabel")
    await ann.click("#submit")

    # Straight on to the second task: move its box, submit with the keyboard.
    await expect(
        ann.locator(f".labelling[data-ready=yes]:not([data-task='{first_task}'])")
    ).to_be_visible()
    image = await ann.locator(".ls-host img").bounding_box()
    assert image is not None
    x, y, w, h = BOXES[1]
    centre_x = image["x"] + (x + w / 2) / 100 * image["width"]
    centre_y = image["y"] + (y + h / 2) / 100 * image["height"]
    await ann.mouse.move(centre_x, centre_y)
    await ann.mouse.down()
    await ann.mouse.move(centre_x + 48, centre_y + 32, steps=8)
    await ann.mouse.up()
    await story.shot(ann, "annotator-moved-box")
    await ann.keyboard.press("Control+Enter")
    await expect(ann.locator("#queue-empty")).to_be_visible()
    await expect(ann.locator(".count[data-status=completed] .count-value")).to_have_text("2")

    # The admin configures the reviews project in the page: two labels, ready, ben.
    await admin_page.goto(f"{base}/workbench/#/projects")
    await admin_page.click(f"#projects tr[data-project={reviews_id}] a")
    for label in ("正面", "负面"):
        await admin_page.fill("#new-label", label)
        await admin_page.click("#labels-card form.inline button[type=submit]")
    # Assigning a draft is refused: the page shows the API's message.
    await admin_page.check("#assign-card input[value=ben]")
    await admin_page.click("#assign")
    await expect(admin_page.locator("#assign-card .error")).to_contain_text(
        "project is draft; tasks can be assigned once it is ready"
    )
    await admin_page.click("#mark-ready")
    await expect(admin_page.locator("#labels-card")).to_contain_text("the project is ready")
    # The project is ready now: the error about its state is gone.
    await expect(admin_page.locator("#assign-card .error")).to_have_count(0)
    await admin_page.check("#assign-card input[value=split]")
    await admin_page.click("#assign")
    await expect(admin_page.locator("#assign-result")).to_have_text("Assigned 2 to ben.")

    # ben picks a choice on the first review and skips the second, with a reason.
    ben = await story.person()
    await story.sign_in(ben, ben_user)
    await ben.click("#next-task")
    await expect(ben.locator(".labelling[data-ready=yes]")).to_be_visible()
    await expect(ben.locator(".ls-host")).to_contain_text(REVIEWS[0])
    await ben.locator(".ls-host label", has_text="正面").click()
    await story.shot(ben, "annotator-choice")
    await ben.click("#submit")
    await expect(ben.locator(".ls-host")).to_contain_text(REVIEWS[1])  # markup shown as text
    await expect(ben.locator(".labelling[data-ready=yes]")).to_be_visible()
    await ben.keyboard.press("Control+Shift+S")
    await ben.fill("#skip-reason", "看不出情感倾向")
    await story.shot(ben, "annotator-skip")
    await ben.click("#confirm-skip")
    await expect(ben.locator("#queue-empty")).to_be_visible()
    await expect(ben.locator(".count[data-status=completed] .count-value")).to_have_text("1")

    # The skipped task is free again, but not for ben: the page says why nothing was assigned.
    # (The admin's page follows the progress stream: no reload, no Refresh.)
    await expect(admin_page.locator("#assign-card")).to_contain_text("1 of 2 tasks not assigned")
    await admin_page.click("#assign")
    await expect(admin_page.locator("#assign-card .assign-none")).to_have_text(
        "Assigned 0 to ben: the 1 task still free was skipped by ben earlier, and a task an "
        "annotator skipped is not given back to them. Assign them to another annotator."
    )

    # The admin sees the reviews' progress, then the detection project's statistics.
    progress = admin_page.locator("#progress-card")
    await expect(progress).to_contain_text("1 completed, 0 in progress, 1 pending")
    await expect(progress.locator("tr[data-annotator=ben] td").nth(3)).to_have_text("1")
    await admin_page.goto(f"{base}/workbench/#/projects")
    await expect(admin_page.locator(f"tr[data-project={detection_id}]")).to_contain_text("2 / 2")
    await admin_page.select_option("#project-filter select[name=status]", "completed")
    await admin_page.click("#project-filter button[type=submit]")
    await expect(admin_page.locator("#projects tbody tr")).to_have_count(1)
    await admin_page.click(f"#projects tr[data-project={detection_id}] a")
    await expect(progress).to_contain_text("100% · 2 completed")
    model = admin_page.locator("#prediction-stats tr[data-model=det-v3]")
    await expect(model.locator("td.accepted")).to_have_text("1")
    await expect(model.locator("td.modified")).to_have_text("1")
    await story.shot(admin_page, "admin-progress-and-statistics", full_page=True)

    # COCO from the page: the file holds the accepted box and the moved one.
    async with admin_page.expect_download() as download_info:
        await admin_page.click("#export-coco")
    download = await download_info.value
    coco_path = story.artifacts / download.suggested_filename
    await download.save_as(coco_path)
    await expect(admin_page.locator("#export-result")).to_contain_text("2 tasks")
    await story.shot(admin_page, "admin-export")
    assert story.errors == []
    # Chromium logs each refusal as a console error: these are the ones the story expects.
    assert sorted(story.api_refusals) == [
        (404, "POST", "/api/v1/me/next-task"),  # ann's queue is done
        (404, "POST", "/api/v1/me/next-task"),  # ben's queue is done
        (409, "POST", f"/api/v1/projects/{reviews_id}/assignments"),  # a draft
    ]

    # A revoked token ends the session with the reason.
    await revoke(database, username="ben")
    await ben.reload()
    await expect(ben.locator("#signed-out-reason")).to_contain_text("revoked")
    await story.shot(ben, "session-ended")
    return coco_path
