"""A client that goes away mid-request is not a server error: INFO log, counted as 499."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from gateway.serve import RunningGateway
from storage.database import Database
from tests.gateway.raw_http import RawConnection
from tests.gateway.support import INIT, auth
from tests.helpers import WAIT_SECONDS, TestUser, wait_until
from tests.predictions.support import image_tasks, seed_project

IMPORT = "/api/v1/projects/proj_000000000000/predictions/import"


def count(metrics: str, method: str, route: str, status: str) -> float:
    prefix = f'gateway_http_requests_total{{method="{method}",route="{route}",status="{status}"}} '
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


async def counted(http_client: httpx.AsyncClient, method: str, route: str) -> str:
    """The gateway's metrics once it has counted a request to `route`, whatever its status."""

    async def metrics_with_route() -> str | None:
        metrics = (await http_client.get("/metrics")).text
        prefix = f'gateway_http_requests_total{{method="{method}",route="{route}",'
        return metrics if prefix in metrics else None

    return await wait_until(metrics_with_route, what=f"{method} {route} counted")


@pytest.mark.parametrize(
    ("path", "content_type", "start"),
    [
        (INIT, "application/json", b'{"name": "half'),
        (
            IMPORT,
            "multipart/form-data; boundary=b0undary",
            b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="p.json"\r\n'
            b"\r\n{",
        ),
    ],
)
async def test_a_client_gone_mid_body_is_logged_at_info_and_counted_499(
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    admin: TestUser,
    caplog: pytest.LogCaptureFixture,
    path: str,
    content_type: str,
    start: bytes,
) -> None:
    caplog.set_level(logging.INFO)
    connection = await RawConnection.open(gateway.port)
    await connection.send_head(
        "POST",
        path,
        {
            "Authorization": f"Bearer {admin.token}",
            "Content-Type": content_type,
            "Content-Length": "10000",
        },
    )
    await connection.send(start)
    connection.close()  # TCP delivers the head and the start of the body before the end

    route = path.replace("proj_000000000000", "{project_id}")
    metrics = await counted(http_client, "POST", route)
    assert count(metrics, "POST", route, "499") == 1
    assert count(metrics, "POST", route, "500") == 0
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)
    [entry] = [r for r in caplog.records if getattr(r, "status", None) == 499]
    assert entry.levelno == logging.INFO


@pytest.mark.slow
async def test_a_download_cut_short_is_counted_499(
    gateway: RunningGateway,
    http_client: httpx.AsyncClient,
    database: Database,
    admin: TestUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    tasks = [{**task, "metadata": {"note": "n" * 400}} for task in image_tasks(20000)]
    project = await seed_project(database, owner=admin, tasks=tasks)
    created = await http_client.post(
        f"/api/external/projects/{project.project_id}/export",
        json={"format": "json", "completed_only": False},
        headers=auth(admin),
    )
    assert created.status_code == 200, created.text
    file_url = created.json()["file_url"]

    connection = await RawConnection.open(gateway.port)
    await connection.send_head("GET", file_url, {"Authorization": f"Bearer {admin.token}"})
    await asyncio.wait_for(connection.reader.readuntil(b"\r\n\r\n"), WAIT_SECONDS)
    await connection.reader.read(65536)  # a little of the file, then the client is gone
    connection.close()

    route = "/api/exports/{export_id}/download"
    metrics = await counted(http_client, "GET", route)
    assert count(metrics, "GET", route, "499") == 1
    assert count(metrics, "GET", route, "200") == 0
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
