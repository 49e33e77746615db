"""Callbacks: signed delivery, retries, delivery after a restart, SSRF refusal."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import grpc
from annotation.v1 import common_pb2

from annotation_api.settings import Settings
from storage.database import Database
from tests.exports.receiver import receiving
from tests.exports.support import (
    build_project,
    create_export,
    serving,
    wait_for_callback_outcome,
)
from tests.helpers import TestUser, rpc_error

FAST = {"callback_poll_seconds": 0.02, "callback_backoff_seconds": 0.01}


def expected_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(b"test-secret", body, hashlib.sha256).hexdigest()


async def test_callback_is_delivered_and_signed(
    settings: Settings, database: Database, admin: TestUser, annotator: TestUser
) -> None:
    fast = settings.model_copy(update={**FAST, "callback_allow_private": True})
    async with receiving() as receiver, serving(fast, database) as (_, channel):
        project_id, _ = await build_project(channel, admin, annotator, "text_classification")
        created = await create_export(
            channel, admin, project_id, "sharegpt", callback_url=receiver.url
        )
        details = await wait_for_callback_outcome(channel, admin, created.export_id)

    assert details.callback_status == common_pb2.CALLBACK_STATUS_DELIVERED
    assert details.callback_attempts == 1
    (request,) = receiver.requests
    assert request.method == "POST" and request.path == "/callback/export"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-signature-256"] == expected_signature(request.body)
    assert json.loads(request.body) == {
        "project_id": project_id,
        "export_id": created.export_id,
        "status": "completed",
        "format": "sharegpt",
        "total_exported": 2,
        "file_url": f"http://testserver/api/exports/{created.export_id}/download",
        "file_name": created.file_name,
        "file_size": created.file_size,
        "error_message": None,
    }


async def test_callback_is_retried_after_two_failures(
    settings: Settings, database: Database, admin: TestUser, annotator: TestUser
) -> None:
    fast = settings.model_copy(update={**FAST, "callback_allow_private": True})
    async with receiving([503, 429]) as receiver, serving(fast, database) as (_, channel):
        project_id, _ = await build_project(channel, admin, annotator, "ner")
        created = await create_export(channel, admin, project_id, callback_url=receiver.url)
        details = await wait_for_callback_outcome(channel, admin, created.export_id)

    assert details.callback_status == common_pb2.CALLBACK_STATUS_DELIVERED
    assert details.callback_attempts == 3
    assert len(receiver.requests) == 3
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the exact same signed body every time


async def test_callback_is_delivered_after_a_restart(
    settings: Settings, database: Database, admin: TestUser, annotator: TestUser
) -> None:
    # The first server polls its outbox only at start: the export's callback is
    # still pending when it stops.
    idle = settings.model_copy(
        update={"callback_poll_seconds": 3600, "callback_allow_private": True}
    )
    fast = settings.model_copy(update={**FAST, "callback_allow_private": True})
    async with receiving() as receiver:
        async with serving(idle, database) as (_, channel):
            project_id, _ = await build_project(channel, admin, annotator, "polygon")
            created = await create_export(
                channel, admin, project_id, "yolo", callback_url=receiver.url
            )
        assert receiver.requests == []
        async with serving(fast, database) as (_, channel):
            details = await wait_for_callback_outcome(channel, admin, created.export_id)

    assert details.callback_status == common_pb2.CALLBACK_STATUS_DELIVERED
    assert json.loads(receiver.requests[0].body)["export_id"] == created.export_id


async def test_private_target_is_refused_unless_allowed(
    settings: Settings, database: Database, admin: TestUser, annotator: TestUser
) -> None:
    strict = settings.model_copy(update=FAST)
    assert strict.callback_allow_private is False
    async with receiving() as receiver, serving(strict, database) as (_, channel):
        project_id, _ = await build_project(channel, admin, annotator, "text_classification")
        created = await create_export(channel, admin, project_id, callback_url=receiver.url)
        details = await wait_for_callback_outcome(channel, admin, created.export_id)

    assert details.callback_status == common_pb2.CALLBACK_STATUS_FAILED
    assert details.callback_attempts == 1
    assert receiver.requests == []


async def test_failed_export_calls_back_with_failed_status(
    settings: Settings, database: Database, admin: TestUser, annotator: TestUser, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    broken = settings.model_copy(
        update={**FAST, "callback_allow_private": True, "export_dir": blocker / "exports"}
    )
    async with receiving() as receiver, serving(broken, database) as (_, channel):
        project_id, _ = await build_project(channel, admin, annotator, "text_classification")
        try:
            await create_export(channel, admin, project_id, callback_url=receiver.url)
        except grpc.aio.AioRpcError as exc:
            error = rpc_error(exc)
        else:
            raise AssertionError("the export should have failed")
        assert error.code is grpc.StatusCode.INTERNAL and error.error_code == "EXPORT_FAILED"
        export_id = error.details["export_id"]
        details = await wait_for_callback_outcome(channel, admin, export_id)

    assert details.status == common_pb2.EXPORT_STATUS_FAILED and details.error_message
    payload = json.loads(receiver.requests[0].body)
    assert payload["status"] == "failed" and payload["error_message"] == details.error_message
    assert payload["file_url"] == "" and payload["total_exported"] == 0
