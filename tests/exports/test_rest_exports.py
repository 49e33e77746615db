"""Exports over REST: the seed's request and response, the file download, errors."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import grpc
import httpx
from sqlalchemy import update

from storage.database import Database
from storage.models import Export
from storage.types import utcnow
from tests.exports.support import build_project
from tests.helpers import TestUser


def auth(user: TestUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


async def test_export_and_download_over_rest(
    http_client: httpx.AsyncClient,
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "object_detection")
    response = await http_client.post(
        f"/api/external/projects/{project_id}/export",
        json={"format": "yolo", "completed_only": True},
        headers=auth(admin),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    export_id = body["export_id"]
    assert body["project_id"] == project_id and body["format"] == "yolo"
    assert body["total_exported"] == 2 and isinstance(body["file_size"], int)
    assert body["file_url"] == f"/api/exports/{export_id}/download"
    assert re.fullmatch(rf"export_{project_id}_yolo_\d{{8}}\.zip", body["file_name"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["expires_at"])

    download = await http_client.get(body["file_url"], headers=auth(admin))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert int(download.headers["content-length"]) == body["file_size"] == len(download.content)
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;") and body["file_name"] in disposition
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert "data.yaml" in archive.namelist()

    shown = await http_client.get(f"/api/external/exports/{export_id}", headers=auth(admin))
    assert shown.status_code == 200
    details = shown.json()
    assert details["status"] == "completed" and details["callback_status"] is None
    assert details["error_message"] is None and details["callback_url"] is None


async def test_rest_defaults_and_errors(
    http_client: httpx.AsyncClient,
    channel: grpc.aio.Channel,
    admin: TestUser,
    other_admin: TestUser,
    annotator: TestUser,
    database: Database,
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "text_classification")
    url = f"/api/external/projects/{project_id}/export"

    created = await http_client.post(url, json={}, headers=auth(admin))
    assert created.status_code == 200 and created.json()["format"] == "json"
    assert created.json()["total_exported"] == 2

    unknown = await http_client.post(url, json={"format": "xml"}, headers=auth(admin))
    assert unknown.status_code == 400 and unknown.json()["error_code"] == "INVALID_REQUEST"

    wrong = await http_client.post(url, json={"format": "coco"}, headers=auth(admin))
    assert wrong.status_code == 400
    assert wrong.json()["error_code"] == "INVALID_REQUEST"
    assert "sharegpt" in wrong.json()["details"]["supported"]

    hidden = await http_client.post(url, json={}, headers=auth(other_admin))
    assert hidden.status_code == 404 and hidden.json()["error_code"] == "PROJECT_NOT_FOUND"

    file_url = created.json()["file_url"]
    foreign = await http_client.get(file_url, headers=auth(other_admin))
    assert foreign.status_code == 404 and foreign.json()["error_code"] == "EXPORT_NOT_FOUND"

    exports = Export.__table__
    async with database.transaction() as conn:
        await conn.execute(
            update(exports)
            .where(exports.c.id == created.json()["export_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await http_client.get(file_url, headers=auth(admin))
    assert expired.status_code == 404
    assert expired.json() == {
        "error_code": "EXPORT_EXPIRED",
        "message": expired.json()["message"],
        "details": {"export_id": created.json()["export_id"]},
    }


async def test_export_formats_over_rest(http_client: httpx.AsyncClient, admin: TestUser) -> None:
    response = await http_client.get("/api/external/export-formats", headers=auth(admin))
    assert response.status_code == 200
    formats = {f["format"]: f for f in response.json()["formats"]}
    assert formats["yolo"]["task_types"] == ["object_detection", "polygon"]
    assert formats["yolo"]["file_extension"] == "zip"
    assert formats["csv"]["content_type"] == "text/csv; charset=utf-8"
    assert len(formats) == 7


async def test_export_options_over_rest(
    http_client: httpx.AsyncClient,
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "text_classification")
    path = f"/api/external/projects/{project_id}/export"
    response = await http_client.post(
        path, json={"format": "csv", "consensus": True}, headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    export_id = response.json()["export_id"]
    # one answer per task: the consensus is that answer, byte for byte
    assert response.json()["total_exported"] == 2
    plain = await http_client.post(path, json={"format": "csv"}, headers=auth(admin))
    files = [
        (await http_client.get(body["file_url"], headers=auth(admin))).content
        for body in (response.json(), plain.json())
    ]
    assert files[0] == files[1] and "正面".encode() in files[0]
    shown = (
        await http_client.get(f"/api/external/exports/{export_id}", headers=auth(admin))
    ).json()
    assert (shown["consensus"], shown["accepted_only"], shown["ground_truth_only"]) == (
        True,
        False,
        False,
    )
    # review is off: no answer was accepted, so nothing is exported
    response = await http_client.post(
        path, json={"format": "json", "accepted_only": True}, headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["total_exported"] == 0
    response = await http_client.post(path, json={"consensus": "yes"}, headers=auth(admin))
    assert response.status_code == 400, response.text
