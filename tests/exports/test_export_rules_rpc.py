"""Who may export and download, expiry, and the request's validation."""

from __future__ import annotations

from pathlib import Path

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2

from annotation_api.settings import Settings
from storage.database import Database
from tests.exports.support import (
    build_project,
    create_export,
    download,
    get_export,
    serving,
)
from tests.helpers import TestUser, rpc_error


async def failure(call: object) -> tuple[grpc.StatusCode, str | None, dict]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    error = rpc_error(caught.value)
    return error.code, error.error_code, error.details


async def test_exports_of_a_hidden_project_do_not_exist(
    channel: grpc.aio.Channel,
    admin: TestUser,
    other_admin: TestUser,
    super_admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "text_classification")
    code, error_code, details = await failure(create_export(channel, other_admin, project_id))
    assert (code, error_code, details) == (
        grpc.StatusCode.NOT_FOUND,
        "PROJECT_NOT_FOUND",
        {"project_id": project_id},
    )

    created = await create_export(channel, admin, project_id, "csv")
    for call in (
        get_export(channel, other_admin, created.export_id),
        download(channel, other_admin, created.export_id, tmp_path / "x"),
    ):
        code, error_code, _ = await failure(call)
        assert (code, error_code) == (grpc.StatusCode.NOT_FOUND, "EXPORT_NOT_FOUND")
    # a super_admin sees every project's exports
    details = await get_export(channel, super_admin, created.export_id)
    assert details.status == common_pb2.EXPORT_STATUS_COMPLETED
    assert details.total_exported == 2 and details.completed_only
    assert not details.HasField("callback_url") and not details.HasField("error_message")
    await download(channel, super_admin, created.export_id, tmp_path / "y.csv")


async def test_unknown_export(channel: grpc.aio.Channel, admin: TestUser, tmp_path: Path) -> None:
    for call in (
        get_export(channel, admin, "exp_0000000000000000"),
        download(channel, admin, "exp_0000000000000000", tmp_path / "x"),
    ):
        code, error_code, details = await failure(call)
        assert (code, error_code) == (grpc.StatusCode.NOT_FOUND, "EXPORT_NOT_FOUND")
        assert details == {"export_id": "exp_0000000000000000"}


async def test_expired_export_is_gone(
    settings: Settings, database: Database, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    short = settings.model_copy(update={"export_ttl_hours": 0.0})
    async with serving(short, database) as (_, channel):
        project_id, _ = await build_project(channel, admin, annotator, "ner")
        created = await create_export(channel, admin, project_id)
        stored = list(short.resolved_export_dir.iterdir())
        assert len(stored) == 1
        code, error_code, details = await failure(
            download(channel, admin, created.export_id, tmp_path / "late.json")
        )
        assert (code, error_code) == (grpc.StatusCode.NOT_FOUND, "EXPORT_EXPIRED")
        assert details == {"export_id": created.export_id}
        assert not stored[0].exists()
        shown = await get_export(channel, admin, created.export_id)
        assert shown.status == common_pb2.EXPORT_STATUS_EXPIRED


@pytest.mark.parametrize(
    "url", ["ftp://example.com/cb", "file:///etc/passwd", "example.com/cb", "http://", "http:// x"]
)
async def test_callback_url_must_be_http(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, url: str
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "text_classification")
    code, error_code, details = await failure(
        create_export(channel, admin, project_id, callback_url=url)
    )
    assert (code, error_code) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert details["field"] == "callback_url"


async def test_export_is_audited(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, database: Database
) -> None:
    from sqlalchemy import select

    from storage.models import AuditLog

    project_id, _ = await build_project(channel, admin, annotator, "text_classification")
    created = await create_export(channel, admin, project_id, "alpaca")
    audit = AuditLog.__table__
    async with database.read() as conn:
        rows = (await conn.execute(select(audit).where(audit.c.action == "exports.create"))).all()
    assert len(rows) == 1 and rows[0].actor_id == admin.user_id
    assert rows[0].project_id == project_id and created.export_id in rows[0].detail_json
    detail = orjson.loads(rows[0].detail_json)
    assert (detail["accepted_only"], detail["ground_truth_only"], detail["consensus"]) == (
        False,
        False,
        False,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@example.com/cb",
        "https://token@example.com/cb",
        "http://:pw@example.com/",
    ],
)
async def test_callback_url_with_credentials_is_refused(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, url: str
) -> None:
    project_id, _ = await build_project(channel, admin, annotator, "text_classification")
    code, error_code, details = await failure(
        create_export(channel, admin, project_id, callback_url=url)
    )
    assert (code, error_code) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert details["field"] == "callback_url"
