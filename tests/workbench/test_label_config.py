"""The label config in the admin's page: a config that would render task text as
HTML (`<HyperText>`) is refused at configure and the page says why; the error
goes once the config is edited; once the project is ready the labels and the
config are read-only, and the page says why."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from gateway.serve import RunningGateway
from tests.helpers import TestUser
from tests.workbench.browser import Story
from tests.workflow.support import Rest

HYPERTEXT_CONFIG = """<View>
  <HyperText name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="positive"/>
    <Choice value="negative"/>
  </Choices>
</View>"""
TEXT_CONFIG = HYPERTEXT_CONFIG.replace("HyperText", "Text")


async def test_a_hypertext_config_is_refused_in_the_page(
    admin: TestUser,
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    browser: Browser,
) -> None:
    owner = Rest(http_client, admin)
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "reviews",
            "task_type": "text_classification",
            "data": [{"id": "r1", "content": "<b>great</b> <script>alert(1)</script>"}],
            "tags": [{"tag": "positive"}, {"tag": "negative"}],
        },
    )
    project_id = created["project_id"]
    story = Story(browser, gateway.url, "label-config")
    failed = True
    try:
        page = await story.person()
        await story.sign_in(page, admin)
        await page.goto(f"{gateway.url}/workbench/#/projects/{project_id}")
        await page.click("#config-xml summary")
        await page.fill("#label-config", HYPERTEXT_CONFIG)
        await page.click("#save-config")
        error = page.locator("#labels-card .error")
        await expect(error).to_contain_text("HyperText")
        await story.shot(page, "hypertext-refused")

        # Editing the config removes the cause: the error goes.
        await page.fill("#label-config", TEXT_CONFIG)
        await expect(error).to_have_count(0)
        await page.click("#save-config")
        await expect(page.locator("#labels-saved")).to_contain_text("configuring")
        await page.click("#mark-ready")
        await expect(page.locator("#labels-readonly")).to_contain_text("Read-only")
        await expect(page.locator("#label-config")).to_have_attribute("readonly", "")
        await expect(page.locator("#mark-ready")).to_have_count(0)
        await story.shot(page, "labels-read-only")
        failed = False
    finally:
        await story.close(failed=failed)
    assert story.errors == []
    assert story.api_refusals == [(400, "POST", f"/api/v1/projects/{project_id}/configure")]
