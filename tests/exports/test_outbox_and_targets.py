"""The outbox claim across processes, and the vetting of callback targets."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import timedelta

import pytest
from sqlalchemy import insert

from annotation_api.settings import Settings
from server.exports.callbacks import claim_due_callbacks, post_callback, sign
from server.exports.targets import TargetRefused, is_forbidden_address, resolve_target
from storage.database import Database
from storage.models import CallbackDelivery, Export, Project
from storage.types import utcnow
from tests.exports.receiver import receiving
from tests.helpers import TestUser


async def add_pending_delivery(database: Database, owner: TestUser, export_id: str) -> None:
    now = utcnow()
    async with database.transaction() as conn:
        await conn.execute(
            insert(Project.__table__).values(
                id="proj_00000000000a",
                name="p",
                description="",
                task_type="ner",
                status="draft",
                external_id=None,
                label_config="<View/>",
                owner_id=owner.user_id,
                total_tasks=0,
                completed_tasks=0,
                in_progress_tasks=0,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            insert(Export.__table__).values(
                id=export_id,
                project_id="proj_00000000000a",
                format="json",
                completed_only=True,
                status="completed",
                file_name="f.json",
                storage_path=None,
                content_type="application/json",
                file_size=0,
                total_exported=0,
                error_message=None,
                callback_url="https://example.com/cb",
                created_by=owner.user_id,
                created_at=now,
                expires_at=now,
            )
        )
        await conn.execute(
            insert(CallbackDelivery.__table__).values(
                export_id=export_id,
                url="https://example.com/cb",
                payload="{}",
                status="pending",
                attempts=0,
                next_attempt_at=now,
                locked_until=None,
                last_error=None,
                created_at=now,
                delivered_at=None,
            )
        )


async def test_one_claimer_wins_until_the_lease_ends(
    settings: Settings, database: Database, admin: TestUser
) -> None:
    await add_pending_delivery(database, admin, "exp_000000000000000a")
    other_process = Database(settings.resolved_database_url)
    try:
        now = utcnow()
        lease = now + timedelta(seconds=60)
        claims = await asyncio.gather(
            *(
                claim_due_callbacks(db, now=now, lease_until=lease, limit=5)
                for db in (database, other_process, database, other_process)
            )
        )
        assert sorted(len(c) for c in claims) == [0, 0, 0, 1]
        assert await claim_due_callbacks(other_process, now=now, lease_until=lease, limit=5) == []
        later = lease + timedelta(seconds=1)
        retaken = await claim_due_callbacks(
            other_process, now=later, lease_until=later + timedelta(seconds=60), limit=5
        )
        assert [d.export_id for d in retaken] == ["exp_000000000000000a"]
    finally:
        await other_process.dispose()


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("2002:7f00:1::", True),
        ("8.8.8.8", False),
        ("93.184.216.34", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_forbidden_addresses(address: str, forbidden: bool) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is forbidden


async def test_names_are_judged_by_the_addresses_they_resolve_to() -> None:
    with pytest.raises(TargetRefused):
        await resolve_target("localhost", 80, allow_private=False)
    assert all(a.is_loopback for a in await resolve_target("localhost", 80, allow_private=True))
    with pytest.raises(TargetRefused):
        await resolve_target("[::1]", 80, allow_private=False)


async def test_delivery_connects_to_the_vetted_address_keeping_the_host_name(
    settings: Settings,
) -> None:
    allowed = settings.model_copy(update={"callback_allow_private": True})
    async with receiving() as receiver:
        url = f"http://localhost:{receiver.port}/hook?x=1"
        result = await post_callback(allowed, url, b'{"a":1}', "exp_1")
    assert result.delivered
    (request,) = receiver.requests
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert request.path == "/hook?x=1"
    assert request.headers["x-signature-256"] == sign(b'{"a":1}', "test-secret")
