"""Files of any allowed size cross gRPC at any message limit (chunk + framing < limit)."""

from __future__ import annotations

import orjson

from annotation_api.settings import Settings
from server.app import start_server
from storage.database import Database
from tests.gateway.support import auth, running_gateway, with_settings
from tests.helpers import TestUser
from tests.predictions.support import aap, image_tasks, prediction, seed_project

LIMIT = 64 * 1024


async def test_download_and_upload_many_times_the_message_limit(
    settings: Settings, database: Database, admin: TestUser
) -> None:
    tasks = [{**task, "metadata": {"note": "n" * 200}} for task in image_tasks(1500)]
    project = await seed_project(database, owner=admin, tasks=tasks)
    limited = with_settings(settings, max_message_bytes=LIMIT, max_upload_bytes=3 * 1024 * 1024)
    server = await start_server(limited, database)
    try:
        target = with_settings(limited, grpc_target=f"127.0.0.1:{server.port}")
        async with running_gateway(target) as client:
            created = await client.post(
                f"/api/external/projects/{project.project_id}/export",
                json={"format": "json", "completed_only": False},
                headers=auth(admin),
            )
            assert created.status_code == 200, created.text
            download = await client.get(created.json()["file_url"], headers=auth(admin))
            assert download.status_code == 200, download.text
            assert len(download.content) > 4 * LIMIT
            assert len(download.content) == int(download.headers["content-length"])
            assert len(orjson.loads(download.content)) == 1500

            payload = aap(
                *(
                    {
                        "task_match": {"display_id": project.display_id(i)},
                        "predictions": [prediction(model_version="m" * 100)],
                    }
                    for i in range(1500)
                )
            )
            assert len(payload) > 4 * LIMIT
            imported = await client.post(
                f"/api/v1/projects/{project.project_id}/predictions/import",
                files={"file": ("p.json", payload, "application/json")},
                headers=auth(admin),
            )
            assert imported.status_code == 200, imported.text
            assert imported.json()["imported"] == 1500
    finally:
        await server.stop(0)


def test_chunks_leave_room_for_framing_at_every_limit() -> None:
    for limit in (64 * 1024, 100_000, 1024 * 1024, 3 * 1024 * 1024, 256 * 1024 * 1024):
        chunk = Settings(max_message_bytes=limit).transfer_chunk_bytes
        assert 0 < chunk <= limit // 2
        assert chunk <= 1024 * 1024
