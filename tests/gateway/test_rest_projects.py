"""Project init, progress and task listing through real HTTP to the gateway."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.gateway.support import INIT, auth, init_body
from tests.helpers import TestUser

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def test_init_answers_the_documented_body(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await http_client.post(INIT, json=init_body(), headers=auth(admin))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == [
        "project_id",
        "project_name",
        "task_count",
        "status",
        "created_at",
        "config",
        "external_id",
    ]
    assert re.fullmatch(r"proj_[0-9a-f]{12}", body["project_id"])
    assert body["project_name"] == "图像分类项目-批次001"
    assert body["task_count"] == 2
    assert body["status"] == "draft"
    assert TIMESTAMP.match(body["created_at"])
    assert '<Choice value="猫猫"' in body["config"]
    assert body["external_id"] == "sample_center_proj_001"


async def test_absent_external_id_is_null(http_client: httpx.AsyncClient, admin: TestUser) -> None:
    body = init_body()
    del body["external_id"]
    response = await http_client.post(INIT, json=body, headers=auth(admin))
    assert response.status_code == 200, response.text
    assert response.json()["external_id"] is None


async def test_progress_and_tasks_of_a_new_project(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    created = await http_client.post(INIT, json=init_body(), headers=auth(admin))
    project_id = created.json()["project_id"]

    progress = await http_client.get(
        f"/api/external/projects/{project_id}/progress", headers=auth(admin)
    )
    assert progress.status_code == 200, progress.text
    body = progress.json()
    assert body["project_id"] == project_id
    assert body["status"] == "draft"
    assert (body["total_tasks"], body["pending_tasks"], body["completed_tasks"]) == (2, 2, 0)
    assert body["completion_percentage"] == 0
    assert body["annotators"] == []
    assert body["last_updated"] is None or TIMESTAMP.match(body["last_updated"])

    page = await http_client.get(
        f"/api/external/projects/{project_id}/tasks",
        params={"page_size": 1, "status": "pending"},
        headers=auth(admin),
    )
    assert page.status_code == 200, page.text
    first = page.json()
    assert first["total_size"] == 2
    assert [t["external_id"] for t in first["tasks"]] == ["ext_001"]
    assert first["tasks"][0]["status"] == "pending"
    assert first["tasks"][0]["file_path"] == "https://example.com/images/product1.jpg"
    assert first["next_page_token"]

    rest = await http_client.get(
        f"/api/external/projects/{project_id}/tasks",
        params={"page_size": 10, "status": "pending", "page_token": first["next_page_token"]},
        headers=auth(admin),
    )
    assert [t["external_id"] for t in rest.json()["tasks"]] == ["ext_002"]


@pytest.mark.slow
async def test_init_of_200000_tasks_through_rest(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    data = [
        {"id": f"ext_{i}", "content": f"https://example.com/images/{i}.jpg", "metadata": {"i": i}}
        for i in range(200_000)
    ]
    response = await http_client.post(INIT, json=init_body(data=data, tags=[]), headers=auth(admin))

    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body["task_count"] == 200_000
    progress = await http_client.get(
        f"/api/external/projects/{body['project_id']}/progress", headers=auth(admin)
    )
    assert progress.json()["total_tasks"] == 200_000


async def test_request_id_is_echoed_or_generated(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    given = await http_client.get(
        "/api/external/export-formats", headers={**auth(admin), "X-Request-Id": "req-42"}
    )
    assert given.headers["x-request-id"] == "req-42"

    generated = await http_client.get("/api/external/export-formats", headers=auth(admin))
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])

    unsafe = await http_client.get(
        "/api/external/export-formats", headers={**auth(admin), "X-Request-Id": "a b\tc"}
    )
    assert unsafe.headers["x-request-id"] != "a b\tc"
