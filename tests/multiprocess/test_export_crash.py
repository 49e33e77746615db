"""A server killed (SIGKILL) in the middle of an export leaves no export running.

One `annotation-api serve` starts writing a large export and is killed with
SIGKILL while the `.part` file and the scratch directory exist. A new `serve`
on the same database and export directory (short lease settings) must find
that nobody renews the export's lease any more, mark it `failed` with an
`error_message`, remove the partial file and the scratch directory, and send
the `failed` callback to the export's callback_url.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import signal
import time
from pathlib import Path

import httpx
import orjson
import psutil
import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Export
from tests.exports.receiver import receiving
from tests.helpers import wait_until
from tests.multiprocess.fleet import serve_environment, serving_fleet

pytestmark = pytest.mark.timeout(240)

TOKEN = "crash-bootstrap-token-0123456789abcdef"
CALLBACK_SECRET = "crash-callback-secret"
# Large enough that the export takes well over a second to write, so the kill
# lands while it is being written (the test checks that it did).
TASKS = 60_000
CONTENT = "x" * 1500
WAIT_SECONDS = 60.0


def serve_pids() -> list[int]:
    """The pids of the one `annotation-api serve` this test runs: its supervising
    process first, then its workers."""
    [child] = [
        child
        for child in psutil.Process().children()
        if "annotation_api.cli" in child.cmdline() and "serve" in child.cmdline()
    ]
    return [child.pid, *(worker.pid for worker in child.children(recursive=True))]


def gone(pid: int) -> bool:
    """Whether the process has exited (a zombie has: its sockets and files are closed)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def kill_hard(pids: list[int]) -> None:
    """SIGKILL, as a crash of the machine would; wait until the processes are gone.

    The supervisor first, so that it cannot replace the workers killed after it."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    await wait_until(lambda: all(gone(pid) for pid in pids), what=f"processes {pids} gone")


def partials(export_dir: Path) -> list[str]:
    if not export_dir.exists():
        return []
    return sorted(p.name for p in export_dir.iterdir() if p.name.endswith((".part", ".scratch")))


async def export_row(database_url: str, export_id: str) -> tuple[str, str | None]:
    database = Database(database_url)
    try:
        async with database.read() as conn:
            row = (
                await conn.execute(
                    select(Export.status, Export.lease_owner).where(Export.id == export_id)
                )
            ).one()
        return row.status, row.lease_owner
    finally:
        await database.dispose()


async def test_an_export_whose_server_was_killed_fails_and_is_cleaned_up(
    database_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    export_dir = tmp_path / "exports"
    async with receiving() as receiver:
        env = serve_environment(
            {
                "database_url": database_url,
                "data_dir": str(tmp_path / "data"),
                "export_dir": str(export_dir),
                "bootstrap_token": TOKEN,
                "callback_secret": CALLBACK_SECRET,
                "callback_allow_private": "true",
                "callback_poll_seconds": "0.1",
                "export_lease_seconds": "2",
                "export_heartbeat_seconds": "0.5",
            }
        )
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            serving_fleet({"first": env}, tmp_path) as fleet,
            httpx.AsyncClient(
                base_url=fleet["first"].base_url, headers=headers, timeout=120
            ) as http,
        ):
            created = await http.post(
                "/api/external/projects/init",
                json={
                    "name": "crash",
                    "task_type": "text_classification",
                    "tags": [{"tag": "a"}],
                    "data": [{"id": f"t{k}", "content": CONTENT} for k in range(TASKS)],
                },
            )
            assert created.status_code == 200, created.text
            project_id = created.json()["project_id"]
            exporting = asyncio.create_task(
                http.post(
                    f"/api/external/projects/{project_id}/export",
                    json={
                        "format": "json",
                        "completed_only": False,
                        "callback_url": receiver.url,
                    },
                )
            )
            deadline = time.monotonic() + WAIT_SECONDS
            while len(partials(export_dir)) < 2 and not exporting.done():
                assert time.monotonic() < deadline, "the export never started"
                await asyncio.sleep(0.01)
            await kill_hard(serve_pids())
            with contextlib.suppress(httpx.HTTPError):
                await exporting
            assert not exporting.done() or exporting.exception() is not None, (
                "the export finished before the kill; make it larger"
            )

        left = partials(export_dir)
        export_id = left[0].split(".", 1)[0]
        assert sorted(left) == sorted([f"{export_id}.json.part", f"{export_id}.scratch"])
        status, owner = await export_row(database_url, export_id)
        assert status == "running" and owner, (status, owner)

        async with (
            serving_fleet({"second": env}, tmp_path) as fleet,
            httpx.AsyncClient(
                base_url=fleet["second"].base_url, headers=headers, timeout=30
            ) as http,
        ):
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                shown = await http.get(f"/api/external/exports/{export_id}")
                assert shown.status_code == 200, shown.text
                details = shown.json()
                if details["status"] != "running" and details["callback_status"] in (
                    "delivered",
                    "failed",
                ):
                    break
                assert time.monotonic() < deadline, details
                assert not details.get("file_url"), details
                await asyncio.sleep(0.1)
            assert details["status"] == "failed"
            assert "interrupted" in details["error_message"]
            assert not details.get("file_url")
            assert details["callback_status"] == "delivered"
            download = await http.get(f"/api/exports/{export_id}/download")
            assert download.status_code == 404

    assert partials(export_dir) == []
    assert not any(export_dir.glob(f"{export_id}.*"))
    [callback] = receiver.requests
    expected = hmac.new(CALLBACK_SECRET.encode(), callback.body, hashlib.sha256).hexdigest()
    assert callback.headers["x-signature-256"] == f"sha256={expected}"
    payload = orjson.loads(callback.body)
    assert payload["export_id"] == export_id
    assert payload["status"] == "failed"
    assert payload["file_url"] == ""
    assert "interrupted" in payload["error_message"]
    assert await export_row(database_url, export_id) == ("failed", None)
    print(f"kill -9 export test: {time.monotonic() - started:.1f} s")
