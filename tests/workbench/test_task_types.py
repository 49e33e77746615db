"""Label Studio in the workbench for the task types the story does not cover:
polygons (an imported pre-label accepted as it is), NER spans on Chinese text
(selected with the mouse) and image classification, then a correction of an
earlier annotation. Screenshots go to test-artifacts/workbench/task-types/."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from playwright.async_api import Browser, Page, expect

from gateway.serve import RunningGateway
from storage.database import Database
from tests.helpers import TestUser
from tests.workbench.browser import Story, image_host, png
from tests.workflow.support import Rest, make_user

WIDTH, HEIGHT = 400, 300
TRIANGLE = [[0.2, 0.2], [0.7, 0.25], [0.45, 0.8]]
SENTENCE = "李雷在上海工作。"


async def init(owner: Rest, task_type: str, content: str, labels: list[str]) -> str:
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            # Markup in a name is shown as text, never interpreted.
            "name": f"<i>{task_type}</i> 项目",
            "task_type": task_type,
            "data": [
                {"id": "one", "content": content, "metadata": {"width": WIDTH, "height": HEIGHT}}
            ],
            "tags": [{"tag": label} for label in labels],
        },
    )
    return str(created["project_id"])


async def prepare(owner: Rest, annotator: TestUser, image_base: str) -> dict[str, str]:
    """Three projects, ready, their one task assigned to the annotator."""
    projects = {
        "polygon": await init(owner, "polygon", f"{image_base}/roof.png", ["建筑"]),
        "ner": await init(owner, "ner", SENTENCE, ["人名", "地名"]),
        "image_classification": await init(
            owner, "image_classification", f"{image_base}/pet.png", ["猫", "狗"]
        ),
    }
    aap = {
        "schema_version": "1.0",
        "tasks": [
            {
                "task_match": {"external_id": "one"},
                "predictions": [
                    {
                        "geometry": {"type": "polygon", "points": TRIANGLE},
                        "class_name": "建筑",
                        "confidence": 0.75,
                    }
                ],
            }
        ],
    }
    report = await owner.call(
        "POST",
        f"/api/v1/projects/{projects['polygon']}/predictions/import",
        files={"file": ("p.json", orjson.dumps(aap), "application/json")},
        data={"model_version": "seg-v1"},
    )
    assert report["imported"] == 1, report
    for project_id in projects.values():
        await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
        await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/assignments",
            json={"annotator_id": annotator.user_id, "count": 1},
        )
    return projects


async def select_text(page: Page, text: str) -> None:
    """Drag the mouse over `text` inside Label Studio's text area, as a person would."""
    box = await page.evaluate(
        """(wanted) => {
          const host = document.querySelector(".ls-host");
          const walker = document.createTreeWalker(host, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.textContent.indexOf(wanted);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + wanted.length);
            const r = range.getBoundingClientRect();
            return { left: r.left, right: r.right, y: r.top + r.height / 2 };
          }
          return null;
        }""",
        text,
    )
    assert box is not None, f"{text!r} is not on the page"
    await page.mouse.move(box["left"] + 1, box["y"])
    await page.mouse.down()
    await page.mouse.move(box["right"] - 1, box["y"], steps=5)
    await page.mouse.up()


async def label_one(story: Story, page: Page, done: list[str]) -> None:
    """Label the task on screen the way its type asks and submit; note its type in done."""
    # The task after the one just submitted, once Label Studio shows it.
    others = "".join(f":not([data-task-type={kind}])" for kind in done)
    labelling = page.locator(f".labelling[data-ready=yes]{others}")
    await expect(labelling).to_be_visible()
    task_type = str(await labelling.get_attribute("data-task-type"))
    ls = page.locator(".ls-host")
    if task_type == "polygon":
        await expect(ls).to_contain_text("0.75")  # the pre-label, kept as it is
        await story.shot(page, "polygon-prelabel")
    elif task_type == "ner":
        await expect(ls).to_contain_text(SENTENCE)
        await ls.locator(".lsf-label", has_text="人名").click()
        await select_text(page, "李雷")
        await expect(
            ls.locator(".lsf-outliner, .lsf-entities, [class*=region]").first
        ).to_be_visible()
        await story.shot(page, "ner-span")
    else:
        await ls.locator("label", has_text="狗").click()
        await story.shot(page, "image-classification")
    await page.click("#submit")
    done.append(task_type)


def regions(task: dict[str, Any]) -> list[dict[str, Any]]:
    [annotation] = task["annotations"]
    return list(annotation["result"])


async def test_polygon_ner_and_image_classification_in_label_studio(
    database: Database,
    admin: TestUser,
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    browser: Browser,
) -> None:
    owner = Rest(http_client, admin)
    annotator = await make_user(database, "ann", "annotator")
    images = {
        "roof.png": png(WIDTH, HEIGHT, (170, 120, 90)),
        "pet.png": png(WIDTH, HEIGHT, (90, 160, 110)),
    }
    story = Story(browser, gateway.url, "task-types")
    failed = True
    with image_host(images) as image_base:
        projects = await prepare(owner, annotator, image_base)
        try:
            page = await story.person()
            await story.sign_in(page, annotator)
            await page.click("#next-task")
            done: list[str] = []
            for _ in projects:
                await label_one(story, page, done)
            await expect(page.locator("#queue-empty")).to_be_visible()
            assert sorted(done) == sorted(projects)

            # Correct the image classification: 狗 was wrong, it is 猫.
            row = page.locator("#my-tasks tr", has_text="<i>image_classification</i> 项目")
            await row.get_by_role("link").click()
            await expect(page.locator(".labelling[data-ready=yes]")).to_be_visible()
            await expect(page.locator("#submit")).to_contain_text("Save correction")
            await page.locator(".ls-host label", has_text="猫").click()
            await page.keyboard.press("Control+Enter")
            await expect(page.locator("#saved")).to_be_visible()
            await story.shot(page, "correction-saved")
            assert story.errors == []
            failed = False
        finally:
            await story.close(failed=failed)

    tasks = {}
    for kind, project_id in projects.items():
        listed = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
        task_id = listed["tasks"][0]["task_id"]
        tasks[kind] = (await owner.call("GET", f"/api/v1/tasks/{task_id}"))["task"]
        assert tasks[kind]["status"] == "completed"
    [span] = regions(tasks["ner"])
    assert span["type"] == "labels"
    assert (span["value"]["start"], span["value"]["end"]) == (0, 2)
    assert span["value"]["text"] == "李雷"
    assert span["value"]["labels"] == ["人名"]
    [choice] = regions(tasks["image_classification"])
    assert choice["value"]["choices"] == ["猫"]
    [polygon] = regions(tasks["polygon"])
    assert polygon["value"]["polygonlabels"] == ["建筑"]
    stats = await owner.call(
        "GET", f"/api/external/projects/{projects['polygon']}/predictions/stats"
    )
    [model] = stats["models"]
    assert (model["model_version"], model["accepted_unchanged"]) == ("seg-v1", 1)
