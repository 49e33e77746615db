"""The process that formats an export: it ends with the export, and when it dies
or fails the export fails with EXPORT_FAILED and a message (it never hangs), and
leaves no file behind."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import update

from annotation_api.settings import Settings
from server.exports.format_process import WORKER_MODULE
from storage.database import Database
from storage.models import Task
from tests.helpers import TestUser

# Large enough that formatting takes well over the time it takes to find the worker.
TASKS = 40_000
CONTENT = "x" * 1500


def auth(user: TestUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def format_workers() -> list[psutil.Process]:
    workers = []
    for child in psutil.Process().children(recursive=True):
        try:
            if WORKER_MODULE in child.cmdline():
                workers.append(child)
        except psutil.Error:
            continue
    return workers


async def init_text_project(http_client: httpx.AsyncClient, admin: TestUser, count: int) -> str:
    created = await http_client.post(
        "/api/external/projects/init",
        json={
            "name": "worker",
            "task_type": "text_classification",
            "tags": [{"tag": "a"}],
            "data": [{"id": f"t{k}", "content": CONTENT} for k in range(count)],
        },
        headers=auth(admin),
    )
    assert created.status_code == 200, created.text
    return str(created.json()["project_id"])


@pytest.mark.slow
async def test_a_killed_format_process_fails_the_export_cleanly(
    http_client: httpx.AsyncClient, admin: TestUser, settings: Settings
) -> None:
    project_id = await init_text_project(http_client, admin, TASKS)
    earlier = {worker.pid for worker in format_workers()}  # of exports other tests left ending
    exporting = asyncio.create_task(
        http_client.post(
            f"/api/external/projects/{project_id}/export",
            json={"format": "json", "completed_only": False},
            headers=auth(admin),
            timeout=120,
        )
    )
    deadline = time.monotonic() + 60
    while not (workers := [w for w in format_workers() if w.pid not in earlier]):
        assert not exporting.done(), exporting.result().text
        assert time.monotonic() < deadline, "no format process started"
        await asyncio.sleep(0.005)
    for worker in workers:  # (another test's export still ending may have started one too)
        os.kill(worker.pid, signal.SIGKILL)

    response = await asyncio.wait_for(exporting, timeout=60)
    assert response.status_code == 500, response.text
    body = response.json()
    assert body["error_code"] == "EXPORT_FAILED"
    assert body["message"] == "export failed: the formatting process ended with status -9"

    listed = await http_client.get(
        f"/api/external/projects/{project_id}/exports", headers=auth(admin)
    )
    if listed.status_code == 200:  # the listing shows the failure as well
        [shown] = listed.json()["exports"]
        assert shown["status"] == "failed"
        assert shown["error_message"] == body["message"]
    export_dir = Path(settings.resolved_export_dir)
    assert not export_dir.exists() or list(export_dir.iterdir()) == []
    assert not {w.pid for w in workers} & {w.pid for w in format_workers()}


async def test_the_format_process_ends_with_its_export(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    project_id = await init_text_project(http_client, admin, 3)
    response = await http_client.post(
        f"/api/external/projects/{project_id}/export",
        json={"format": "csv", "completed_only": False},
        headers=auth(admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["total_exported"] == 3
    assert not any(worker.status() != psutil.STATUS_ZOMBIE for worker in format_workers())


async def test_an_error_in_the_format_process_fails_the_export_with_its_class_name(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database
) -> None:
    project_id = await init_text_project(http_client, admin, 3)
    async with database.transaction() as conn:  # a value no current code path stores
        await conn.execute(
            update(Task).where(Task.project_id == project_id).values(metadata_json="{not json")
        )
    response = await http_client.post(
        f"/api/external/projects/{project_id}/export",
        json={"format": "json", "completed_only": False},
        headers=auth(admin),
    )
    assert response.status_code == 500, response.text
    body = response.json()
    assert body["error_code"] == "EXPORT_FAILED"
    assert body["message"] == "export failed: JSONDecodeError"
    assert format_workers() == []
