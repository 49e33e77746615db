"""SubmitAnnotation and UpdateAnnotation hold results to the coordinate rule of every
import (server/coordinates.py), over REST with real tokens, each engine."""

from __future__ import annotations

from typing import Any

import httpx

from storage.database import Database
from tests.helpers import TestUser
from tests.workflow.support import Rest, make_user


def rectangle(size: tuple[int, int] | None = (200, 100), **value: Any) -> dict[str, Any]:
    """A region as Label Studio's front end returns it (percent, with the image's size)."""
    region: dict[str, Any] = {
        "id": "r1",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "image_rotation": 0,
        "origin": "manual",
        "value": {"rotation": 0, **value, "rectanglelabels": ["cat"]},
    }
    if size is not None:
        region["original_width"], region["original_height"] = size
    return region


async def started_task(database: Database, owner: Rest) -> tuple[Rest, str]:
    """A project of images without size metadata (as the README creates them), assigned
    to an annotator who started its first task."""
    ann = Rest(owner.client, await make_user(database, "ann", "annotator"))
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "coordinates",
            "task_type": "object_detection",
            "data": [{"content": "https://img.example/猫 1.jpg".replace(" ", "%20")}],
            "tags": [{"tag": "cat"}, {"tag": "dog"}],
        },
    )
    project_id = created["project_id"]
    await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
    await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/assignments",
        json={"annotator_id": ann.user.user_id, "count": 1},
    )
    task = (await ann.call("POST", "/api/v1/me/next-task", json={"project_id": project_id}))["task"]
    await ann.call("POST", f"/api/v1/tasks/{task['task_id']}/start", json={})
    return ann, task["task_id"]


async def test_results_outside_the_image_are_refused_naming_the_region(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann, task_id = await started_task(database, owner)
    good = rectangle(x=10, y=10, width=20, height=20)
    for bad, message in [
        (rectangle(None, x=1e308, y=0, width=1e308, height=5), "overruns the image"),
        (rectangle(None, x=-50, y=0, width=-10, height=5), "width and height must be"),
        (rectangle(x=5000, y=10, width=10, height=10), "overruns the image by more than 1 px"),
        (rectangle(x=90, y=10, width=11, height=10), "overruns the image by more than 1 px"),
        (rectangle(x="10", y=10, width=10, height=10), "x must be a finite number"),
    ]:
        body = await ann.call(
            "POST",
            f"/api/v1/tasks/{task_id}/annotations",
            json={"result": [good, bad]},
            status=400,
        )
        assert body["error_code"] == "INVALID_REQUEST"
        assert body["details"]["field"] == "result[1].value"
        assert body["message"].startswith("region 1 (rectanglelabels): ")
        assert message in body["message"]
    task = (await ann.call("GET", f"/api/v1/tasks/{task_id}"))["task"]
    assert (task["status"], task["annotations"]) == ("in_progress", [])


async def test_a_subpixel_overrun_is_clamped_on_submit_and_update(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann, task_id = await started_task(database, owner)
    # 0.4 px past the right edge and 0.5 px past the bottom of a 200x100 image
    over = rectangle(x=90, y=80, width=10.2, height=20.5)
    rotated = rectangle(x=20, y=20, width=10, height=10, rotation=30)

    submitted = await ann.call(
        "POST", f"/api/v1/tasks/{task_id}/annotations", json={"result": [over, rotated]}
    )

    task = (await ann.call("GET", f"/api/v1/tasks/{task_id}"))["task"]
    [annotation] = task["annotations"]
    first, second = annotation["result"]
    assert first["value"] == {
        "rotation": 0,
        "x": 90.0,
        "y": 80.0,
        "width": 10.0,
        "height": 20.0,
        "rectanglelabels": ["cat"],
    }
    assert second == rotated

    # 0.6 px left of the image: clamped; 50 % left of it with a negative width: refused
    path = f"/api/v1/annotations/{submitted['annotation_id']}"
    await ann.call("PATCH", path, json={"result": [rectangle(x=-0.3, y=0, width=20, height=20)]})
    body = await ann.call(
        "PATCH",
        path,
        json={"result": [rectangle(None, x=-50, y=0, width=-10, height=5)]},
        status=400,
    )
    assert (body["error_code"], body["details"]["field"]) == ("INVALID_REQUEST", "result[0].value")
    [annotation] = (await ann.call("GET", f"/api/v1/tasks/{task_id}"))["task"]["annotations"]
    assert annotation["result"][0]["value"]["x"] == 0.0
    assert annotation["result"][0]["value"]["width"] == 19.7
