"""A webhook event committed by a server that is then killed (SIGKILL) before it sent
the event is delivered by the next server on the same database.

The first `annotation-api serve` polls its outbox once, at start, and then not for an
hour: the events of the project created afterwards are committed (the test reads their
rows) and certainly not sent when the process is killed. A second `serve` sends them,
signed, in order, with the event ids the rows were written with.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
from pathlib import Path

import httpx
import orjson
import psutil
import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import WebhookDelivery
from tests.exports.receiver import receiving
from tests.helpers import wait_until
from tests.multiprocess.fleet import serve_environment, serving_fleet
from tests.webhooks.support import check_signed, hook_url

pytestmark = pytest.mark.timeout(240)

TOKEN = "webhook-bootstrap-token-0123456789abcdef"
SECRET = "webhook-callback-secret"


def serve_pid() -> int:
    """The pid of the one `annotation-api serve` this test runs."""
    [child] = [
        child
        for child in psutil.Process().children()
        if "annotation_api.cli" in child.cmdline() and "serve" in child.cmdline()
    ]
    return int(child.pid)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def committed_events(database_url: str) -> list[tuple[str, str, str]]:
    """(event_id, action, status) of every stored delivery, in sequence order."""
    database = Database(database_url)
    try:
        async with database.read() as conn:
            rows = (
                await conn.execute(
                    select(
                        WebhookDelivery.event_id, WebhookDelivery.action, WebhookDelivery.status
                    ).order_by(WebhookDelivery.sequence)
                )
            ).all()
        return [(r.event_id, r.action, r.status) for r in rows]
    finally:
        await database.dispose()


async def all_delivered(database_url: str) -> bool:
    return all(status == "delivered" for *_, status in await committed_events(database_url))


async def test_an_event_committed_before_a_kill_is_delivered_after_the_restart(
    database_url: str, tmp_path: Path
) -> None:
    settings = {
        "database_url": database_url,
        "data_dir": str(tmp_path / "data"),
        "bootstrap_token": TOKEN,
        "callback_secret": SECRET,
        "callback_allow_private": "true",
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with receiving() as receiver:
        asleep = serve_environment({**settings, "callback_poll_seconds": "3600"})
        async with (
            serving_fleet({"first": asleep}, tmp_path) as fleet,
            httpx.AsyncClient(base_url=fleet["first"].base_url, headers=headers) as http,
        ):
            hook = await http.post("/api/v1/webhooks", json={"url": hook_url(receiver)})
            assert hook.status_code == 200, hook.text
            created = await http.post(
                "/api/external/projects/init",
                json={
                    "name": "重启 restart",
                    "task_type": "text_classification",
                    "data": [{"id": "a", "content": "x"}, {"id": "b", "content": "y"}],
                },
            )
            assert created.status_code == 200, created.text
            project_id = created.json()["project_id"]
            pid = serve_pid()
            os.kill(pid, signal.SIGKILL)
            await wait_until(lambda: gone(pid), what=f"process {pid} gone")

        stored = await committed_events(database_url)
        assert [(action, status) for _, action, status in stored] == [
            ("PROJECT_CREATED", "pending"),
            ("TASKS_CREATED", "pending"),
        ]
        assert receiver.requests == []

        awake = serve_environment({**settings, "callback_poll_seconds": "0.05"})
        async with serving_fleet({"second": awake}, tmp_path):
            # the rows are marked delivered once the receiver has answered
            await wait_until(lambda: all_delivered(database_url), what="both events delivered")

    events = [check_signed(request, SECRET) for request in receiver.requests]
    assert [(e["event_id"], e["action"]) for e in events] == [
        (event_id, action) for event_id, action, _ in stored
    ]
    assert [e["sequence"] for e in events] == [1, 2]
    assert events[1]["count"] == 2 and events[0]["project"]["name"] == "重启 restart"
    assert {e["project"]["id"] for e in events} == {project_id}
    digest = hmac.new(SECRET.encode(), receiver.requests[0].body, hashlib.sha256).hexdigest()
    assert receiver.requests[0].headers["x-signature-256"] == f"sha256={digest}"
    assert orjson.loads(receiver.requests[0].body)["action"] == "PROJECT_CREATED"
