"""Export leases: a renewed export stays running, a lapsed one is failed and cleaned up.

A real server (with its workers, on short lease settings) runs its lease
sweeper against export rows written as a dead server would have left them; the
kill -9 of a real `serve` process is in tests/multiprocess/test_export_crash.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import grpc
import orjson
from annotation.v1 import common_pb2, project_service_pb2, project_service_pb2_grpc

from annotation_api.settings import Settings
from annotation_api.states import ExportStatus
from server.exports.files import export_file, partial_file, scratch_dir, sweep_orphaned_partials
from server.exports.lease import holding_lease, new_lease
from server.exports.outcomes import end_export
from storage.database import Database
from storage.exports import ExportLease, NewExport, get_export, insert_export
from storage.types import utcnow
from tests.exports.receiver import receiving
from tests.exports.support import get_export as get_export_rpc
from tests.exports.support import serving
from tests.gateway.support import with_settings
from tests.helpers import WAIT_SECONDS, TestUser, wait_until


async def init_project(channel: grpc.aio.Channel, owner: TestUser) -> str:
    stub = project_service_pb2_grpc.ProjectServiceStub(channel)
    created = await stub.InitProject(
        project_service_pb2.InitProjectRequest(
            name="lease",
            task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
            data=[project_service_pb2.TaskInput(id="t1", content="hello")],
        ),
        metadata=owner.metadata,
    )
    return str(created.project_id)


def new_export(export_id: str, project_id: str, owner: TestUser, callback: str | None) -> NewExport:
    now = utcnow()
    return NewExport(
        export_id=export_id,
        project_id=project_id,
        format="json",
        completed_only=False,
        file_name=f"export_{project_id}_json.json",
        storage_path=f"{export_id}.json",
        content_type="application/json",
        callback_url=callback,
        created_by=owner.user_id,
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )


async def insert_running(database: Database, new: NewExport, lease: ExportLease) -> None:
    async with database.transaction() as conn:
        await insert_export(conn, new=new, status=ExportStatus.RUNNING, lease=lease)


def leave_partials(settings: Settings, new: NewExport) -> list[Path]:
    """What a writer leaves mid-way: the partial file and a scratch directory with a file."""
    part = partial_file(export_file(settings, new.storage_path))
    scratch = scratch_dir(settings, new.export_id)
    scratch.mkdir(parents=True)
    (scratch / "coco_annotations.jsonl").write_text("{}\n")
    part.write_bytes(b"[{")
    return [part, scratch]


async def status_of(database: Database, export_id: str) -> ExportStatus:
    async with database.read() as conn:
        record = await get_export(conn, export_id=export_id)
    assert record is not None
    return record.status


async def has_failed(database: Database, export_id: str) -> bool:
    return await status_of(database, export_id) is ExportStatus.FAILED


async def test_a_renewed_export_stays_running_and_a_lapsed_one_fails(
    settings: Settings, database: Database, admin: TestUser
) -> None:
    async with receiving() as receiver:
        short = with_settings(
            settings,
            export_lease_seconds=2,
            export_heartbeat_seconds=0.1,
            callback_allow_private=True,
            callback_poll_seconds=0.05,
        )
        async with serving(short, database) as (_, channel):
            project_id = await init_project(channel, admin)
            live = new_export("exp_live000000000001", project_id, admin, None)
            dead = new_export("exp_dead000000000001", project_id, admin, receiver.url)
            first_lease = new_lease(short)
            await insert_running(database, live, first_lease)
            # The same lease, held by a server that is gone: nobody renews it.
            lapsed = ExportLease(owner="gone-host:1:00000000", expires_at=first_lease.expires_at)
            await insert_running(database, dead, lapsed)
            left = leave_partials(short, dead)

            async with holding_lease(short, database, live.export_id):
                # Once the sweeper has failed the dead export, the first lease has run
                # out: only the renewals keep the live one.
                await wait_until(
                    lambda: has_failed(database, dead.export_id), what="the dead export failed"
                )
                assert await status_of(database, live.export_id) is ExportStatus.RUNNING
                shown = await get_export_rpc(channel, admin, live.export_id)
                assert shown.status == common_pb2.EXPORT_STATUS_RUNNING
                assert shown.file_url == ""

            failed = await get_export_rpc(channel, admin, dead.export_id)
            assert failed.status == common_pb2.EXPORT_STATUS_FAILED
            assert "interrupted" in failed.error_message
            assert failed.file_url == ""
            await wait_until(
                lambda: not any(path.exists() for path in left), what="the partials removed"
            )
            await asyncio.wait_for(receiver.arrived.wait(), timeout=WAIT_SECONDS)
            payload = orjson.loads(receiver.requests[0].body)
            assert (payload["export_id"], payload["status"]) == (dead.export_id, "failed")

            # Nobody renews the live export any more: it fails in turn, and its
            # writer, back too late, cannot complete it.
            await wait_until(lambda: has_failed(database, live.export_id), what="the lease lapsed")
            late = await end_export(
                short,
                database,
                live,
                status=ExportStatus.COMPLETED,
                actor_id=admin.user_id,
                lease_owner=new_lease(short).owner,
            )
            assert late is None
            assert await status_of(database, live.export_id) is ExportStatus.FAILED


async def test_the_sweeper_removes_partials_of_exports_that_are_not_running(
    settings: Settings, database: Database, admin: TestUser
) -> None:
    async with serving(settings, database) as (_, channel):
        project_id = await init_project(channel, admin)
    running = new_export("exp_running000000001", project_id, admin, None)
    await insert_running(database, running, new_lease(settings))
    kept = leave_partials(settings, running)
    orphan = new_export("exp_orphan0000000001", project_id, admin, None)
    removed = leave_partials(settings, orphan)  # no row: a writer of an earlier run
    legacy = settings.resolved_export_dir / "k3j4h5w1.scratch"  # a temporary name of old
    legacy.mkdir()
    assert await sweep_orphaned_partials(settings, database) == 3
    assert all(path.exists() for path in kept)
    assert not any(path.exists() for path in [*removed, legacy])
