"""Prediction import through the REST gateway: the multipart form of seed 002."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from annotation_api.settings import Settings
from gateway.serve import start_gateway
from server.app import start_server
from storage.database import Database
from tests.helpers import TestUser
from tests.predictions.support import (
    aap,
    audit_entries,
    prediction,
    seed_project,
    stored_predictions,
)

ROUTE = "/api/v1/projects/{}/predictions/import"


def auth(user: TestUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


async def post_import(
    client: httpx.AsyncClient,
    user: TestUser,
    project_id: str,
    payload: bytes | Any,
    *,
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        ROUTE.format(project_id),
        params=params or {},
        data=data or {},
        files={"file": ("predictions.json", payload, "application/json")},
        headers=auth(user),
    )


async def test_the_seed_example_over_rest(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    payload = aap(
        {"task_match": {"display_id": project.display_id(0)}, "predictions": [prediction()]},
        {"task_match": {"display_id": "T-999999"}, "predictions": [prediction()]},
        {
            "task_match": {"file_path": "a.jpg"},
            "predictions": [prediction({"type": "polyline", "points": []})],
        },
    )

    response = await post_import(
        http_client,
        admin,
        project.project_id,
        payload,
        params={"format": "aap_json", "dry_run": "false"},
        data={"model_version": "ext-v1", "overwrite_existing": "true"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 1
    assert body["skipped"] == 2
    assert body["dry_run"] is False
    assert body["errors"][0] == {
        "task_match": {"display_id": "T-999999"},
        "reason": "task not found in project (tasks[1])",
    }
    assert body["errors"][1]["task_match"] == {"file_path": "a.jpg"}
    assert body["errors"][1]["reason"].startswith("unsupported geometry kind: 'polyline'")
    [row] = await stored_predictions(database, project.project_id)
    assert row["model_version"] == "ext-v1"
    [entry] = await audit_entries(database, "predictions.import")
    assert entry["detail"]["overwrite_existing"] is True
    assert entry["detail"]["model_version_fallback"] == "ext-v1"


async def test_dry_run_and_coco_over_rest(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    payload = orjson.dumps(
        {
            "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50}],
            "annotations": [{"image_id": 1, "category_id": 1, "bbox": [10, 5, 20, 10]}],
            "categories": [{"id": 1, "name": "dog"}],
        }
    )

    response = await post_import(
        http_client,
        admin,
        project.project_id,
        payload,
        params={"format": "coco", "dry_run": "true"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "imported": 1,
        "skipped": 0,
        "errors": [],
        "dry_run": True,
        "warnings": [],
    }
    assert await stored_predictions(database, project.project_id) == []


async def test_format_defaults_to_aap_json(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    payload = aap({"task_match": {"file_path": "a.jpg"}, "predictions": [prediction()]})

    response = await post_import(http_client, admin, project.project_id, payload)

    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1


async def test_an_unknown_format_is_400(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    project = await seed_project(database, owner=admin)

    response = await post_import(
        http_client, admin, project.project_id, aap(), params={"format": "yolo"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_REQUEST"
    assert body["details"]["field"] == "format"
    assert sorted(body["details"]["supported"]) == ["aap_json", "coco"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "the file is not valid JSON"),
        (b'{"schema_version": "1.0"}', "the file has no tasks"),
        (b'{"schema_version": "3.0", "tasks": []}', "schema_version 3.0 is not supported"),
    ],
)
async def test_a_file_that_cannot_be_read_is_422_over_rest(
    database: Database,
    admin: TestUser,
    http_client: httpx.AsyncClient,
    payload: bytes,
    message: str,
) -> None:
    project = await seed_project(database, owner=admin)

    response = await post_import(http_client, admin, project.project_id, payload)

    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"error_code", "message", "details"}
    assert body["error_code"] == "INVALID_IMPORT_FILE"
    assert message in body["message"]


@pytest.mark.parametrize(
    ("who", "status", "error_code"),
    [
        ("admin", 200, None),
        ("super_admin", 200, None),
        ("other_admin", 404, "PROJECT_NOT_FOUND"),
        ("annotator", 403, "PERMISSION_DENIED"),
        ("nobody", 401, "INVALID_TOKEN"),
    ],
)
async def test_permissions_over_rest(
    database: Database,
    http_client: httpx.AsyncClient,
    admin: TestUser,
    super_admin: TestUser,
    other_admin: TestUser,
    annotator: TestUser,
    who: str,
    status: int,
    error_code: str | None,
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    users = {
        "admin": admin,
        "super_admin": super_admin,
        "other_admin": other_admin,
        "annotator": annotator,
        "nobody": TestUser("user_000000000000", "nobody", "admin", "wrong-token"),
    }
    user = users[who]
    payload = aap({"task_match": {"file_path": "a.jpg"}, "predictions": [prediction()]})

    response = await post_import(http_client, user, project.project_id, payload)

    assert response.status_code == status, response.text
    if error_code is not None:
        assert response.json()["error_code"] == error_code
        assert await stored_predictions(database, project.project_id) == []


@pytest.fixture
async def small_limit_client(
    settings: Settings, database: Database
) -> AsyncIterator[httpx.AsyncClient]:
    """Server and gateway with an upload limit of 2,000 bytes."""
    limited = settings.model_copy(update={"max_upload_bytes": 2000})
    server = await start_server(limited, database)
    gateway = await start_gateway(
        limited.model_copy(update={"grpc_target": f"127.0.0.1:{server.port}"})
    )
    try:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
            yield client
    finally:
        await gateway.stop()
        await server.stop(0)


async def test_a_file_over_the_upload_limit_is_413_over_rest(
    database: Database, admin: TestUser, small_limit_client: httpx.AsyncClient
) -> None:
    project = await seed_project(database, owner=admin)

    response = await post_import(small_limit_client, admin, project.project_id, b" " * 5000)

    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"


def write_large_aap_file(path: Path, *, tasks: int, predictions_per_task: int) -> int:
    """An AAP file of about 100 MB: every prediction carries a 4 KB field the reader
    ignores (a model's debug output), so the upload is large but the import quick."""
    debug = "x" * 4096
    with path.open("wb") as out:
        out.write(b'{"schema_version": "1.1", "tasks": [')
        for index in range(tasks):
            entry = {
                "task_match": {"external_id": f"ext-{index}"},
                "predictions": [
                    {
                        "geometry": {"type": "bbox", "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2},
                        "class_name": "cat",
                        "confidence": 0.5,
                        "debug": debug,
                    }
                ]
                * predictions_per_task,
            }
            out.write((b"," if index else b"") + orjson.dumps(entry))
        out.write(b"]}")
    return path.stat().st_size


@pytest.mark.slow
async def test_an_upload_of_about_100_mb_streams_through(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    tasks = [{"content": f"https://h/{i}.jpg", "external_id": f"ext-{i}"} for i in range(2_500)]
    project = await seed_project(database, owner=admin, tasks=tasks)
    path = tmp_path / "large.json"
    size = write_large_aap_file(path, tasks=2_500, predictions_per_task=10)
    assert size > 100_000_000

    with path.open("rb") as file:
        response = await post_import(http_client, admin, project.project_id, file)

    assert response.status_code == 200, response.text[:500]
    assert response.json() == {
        "imported": 25_000,
        "skipped": 0,
        "errors": [],
        "dry_run": False,
        "warnings": [],
    }
    assert len(await stored_predictions(database, project.project_id)) == 25_000
