"""The admin's project page follows the progress stream: while another client works over
REST, the figures move in the open page without a reload, and without the page
asking for the progress again (it is pushed, not polled)."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, Request, expect

from gateway.serve import RunningGateway
from tests.gateway.test_event_stream import RESULT, new_project
from tests.helpers import TestUser
from tests.workbench.browser import Story
from tests.workflow.support import Rest


async def test_the_admin_page_shows_progress_moving_while_another_client_submits(
    admin: TestUser,
    annotator: TestUser,
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    browser: Browser,
) -> None:
    owner, worker = Rest(http_client, admin), Rest(http_client, annotator)
    project_id, task_ids = await new_project(owner, annotator, 3)
    story = Story(browser, gateway.url, "live-progress")
    failed = True
    try:
        page = await story.person()
        progress_reads: list[str] = []

        def note(request: Request) -> None:
            if request.url.endswith(f"/projects/{project_id}/progress"):
                progress_reads.append(request.url)

        page.on("request", note)
        await story.sign_in(page, admin)
        await page.goto(f"{gateway.url}/workbench/#/projects/{project_id}")
        card = page.locator("#progress-card")
        await expect(page.locator("#live-state")).to_have_text("● live")
        await expect(card).to_contain_text("0 completed, 0 in progress, 3 pending")
        await expect(page.locator("#refresh")).to_have_count(0)  # nothing to press
        reads = len(progress_reads)
        await story.shot(page, "before")

        await worker.call("POST", f"/api/v1/tasks/{task_ids[0]}/start", json={})
        await expect(card).to_contain_text("0 completed, 1 in progress, 2 pending")
        await worker.call(
            "POST", f"/api/v1/tasks/{task_ids[0]}/annotations", json={"result": RESULT}
        )
        await expect(card).to_contain_text("33.33% · 1 completed, 0 in progress, 2 pending")
        row = card.locator(f"tr[data-annotator={annotator.username}] td")
        await expect(row.nth(3)).to_have_text("1")
        for task_id in task_ids[1:]:
            await worker.call("POST", f"/api/v1/tasks/{task_id}/start", json={})
            await worker.call(
                "POST", f"/api/v1/tasks/{task_id}/annotations", json={"result": RESULT}
            )
        await expect(card).to_contain_text("100% · 3 completed")
        await expect(page.locator("h1 .badge")).to_contain_text("completed")
        await story.shot(page, "after")
        # The figures came from the stream: the page did not ask for them again.
        assert len(progress_reads) == reads
        assert story.errors == []
        failed = False
    finally:
        await story.close(failed=failed)


async def test_the_annotator_queue_counts_move_when_an_admin_assigns(
    admin: TestUser,
    annotator: TestUser,
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    browser: Browser,
) -> None:
    owner, worker = Rest(http_client, admin), Rest(http_client, annotator)
    _, task_ids = await new_project(owner, annotator, 2)
    story = Story(browser, gateway.url, "live-queue")
    failed = True
    try:
        page = await story.person()
        await story.sign_in(page, annotator)
        counts = page.locator(".count[data-status=pending] .count-value")
        await expect(page.locator("#live-state")).to_have_text("● live")
        await expect(counts).to_have_text("2")
        await expect(page.locator("#my-tasks tbody tr")).to_have_count(2)

        # An admin elsewhere assigns a new project's three tasks: the queue grows in the page.
        await new_project(owner, annotator, 3)
        await expect(counts).to_have_text("5")
        await expect(page.locator("#my-tasks tbody tr")).to_have_count(5)
        # The annotator works in another tab (another client): the counts follow.
        await worker.call("POST", f"/api/v1/tasks/{task_ids[0]}/start", json={})
        await expect(page.locator(".count[data-status=in_progress] .count-value")).to_have_text("1")
        await expect(counts).to_have_text("4")
        await story.shot(page, "queue-live")
        assert story.errors == []
        failed = False
    finally:
        await story.close(failed=failed)
