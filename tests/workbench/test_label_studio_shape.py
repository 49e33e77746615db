"""What Label Studio 1.4.0's front end really submits, captured in the browser, against
tests.realistic's reproduction of it (ls_submitted, ls_box_region) and the server's
"unchanged" rule.

An annotator opens a task whose pre-label holds three boxes (the image's size is not in
the task's metadata) and submits it untouched, then drags one box of two on the next
task. The request bodies the workbench sends are captured, compared with the
reproduction (same keys in the same order, same values within the rule's tolerance),
and the prediction stats count one accepted unchanged and one modified.
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from gateway.serve import RunningGateway
from server.workflow.prelabel import COORDINATE_TOLERANCE, results_match
from storage.database import Database
from tests import realistic
from tests.helpers import TestUser
from tests.realistic import DETECTION, DETECTOR_NEW, ls_submitted
from tests.workbench.browser import Story, image_host
from tests.workflow.support import Rest, make_user

KEYS = ["accept", "move"]


async def captured_submit(page: Page, action: Any) -> dict[str, Any]:
    async with page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/annotations")
    ) as request:
        await action()
    body = (await request.value).post_data_json
    assert isinstance(body, dict)
    return body


def same_shape(real: list[dict[str, Any]], reproduced: list[dict[str, Any]]) -> None:
    realistic.check_label_studio_shape(real, reproduced, tolerance=COORDINATE_TOLERANCE)


async def test_label_studio_submits_what_the_fixtures_reproduce(
    browser: Browser,
    gateway: RunningGateway,
    database: Database,
    admin: TestUser,
    http_client: httpx.AsyncClient,
) -> None:
    images = {
        DETECTION[key].path.lstrip("/"): realistic.png_bytes(*DETECTION[key].size) for key in KEYS
    }
    owner = Rest(http_client, admin)
    annotator = await make_user(database, "ann", "annotator")
    with image_host(images) as host:
        body = realistic.detection_init(host=host)
        body["data"] = [d for d in body["data"] if d["id"] in KEYS]
        project_id = (await owner.call("POST", "/api/external/projects/init", json=body))[
            "project_id"
        ]
        tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
        ids = realistic.task_ids_by_key(tasks["tasks"])
        report = await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/predictions/import",
            files={"file": ("p.json", realistic.detection_predictions(ids, DETECTOR_NEW))},
        )
        assert report["imported"] == 5
        await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
        await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/assignments",
            json={"annotator_id": annotator.user_id, "count": 2},
        )
        shown = {
            key: (await owner.call("GET", f"/api/v1/tasks/{ids[key]}"))["task"]["predictions"][0]
            for key in KEYS
        }

        story = Story(browser, f"http://127.0.0.1:{gateway.port}", "label-studio-shape")
        failed = True
        try:
            page = await story.person()
            await story.sign_in(page, annotator)
            await page.click("#next-task")
            await expect(page.locator(".labelling[data-ready=yes]")).to_be_visible()
            accepted = await captured_submit(page, lambda: page.click("#submit"))

            await expect(
                page.locator(f".labelling[data-ready=yes][data-task='T-{ids['move']}']")
            ).to_be_visible()
            image = await page.locator(".ls-host img").bounding_box()
            assert image is not None
            car = DETECTION["move"].predictions[DETECTOR_NEW][0]
            width, height = DETECTION["move"].size
            centre_x = image["x"] + (car.x + car.w / 2) / width * image["width"]
            centre_y = image["y"] + (car.y + car.h / 2) / height * image["height"]
            await page.mouse.move(centre_x, centre_y)
            await page.mouse.down()
            await page.mouse.move(centre_x + 40, centre_y + 10, steps=8)
            await page.mouse.up()
            moved = await captured_submit(page, lambda: page.keyboard.press("Control+Enter"))
            await expect(page.locator("#queue-empty")).to_be_visible()
            assert story.errors == []
            failed = False
        finally:
            await story.close(failed=failed)

    # the untouched accept: exactly the reproduction's shape, unchanged by the server's rule
    stored = shown["accept"]["result"]
    assert accepted["parent_prediction_id"] == shown["accept"]["prediction_id"]
    same_shape(accepted["result"], ls_submitted(stored, size=DETECTION["accept"].size))
    assert results_match(accepted["result"], stored)
    assert all("original_width" not in region for region in stored)  # no size was known

    # the moved box: origin prediction-changed, its score kept; the other box untouched
    regions = moved["result"]
    assert [r["origin"] for r in regions] == ["prediction-changed", "prediction"]
    assert all(isinstance(r.get("score"), float) for r in regions)
    assert not results_match(regions, shown["move"]["result"])
    same_shape(regions[1:], ls_submitted(shown["move"]["result"][1:], size=DETECTION["move"].size))

    stats = await owner.call("GET", f"/api/external/projects/{project_id}/predictions/stats")
    [model] = stats["models"]
    assert (model["accepted_unchanged"], model["modified"]) == (1, 1)
