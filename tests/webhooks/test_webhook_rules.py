"""What a webhook may be: URL, headers and events are checked when it is registered or
changed (documented INVALID_REQUEST bodies), https only in production, and an address
that is not public is refused at delivery (SSRF) without a retry."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from annotation_api.errors import DomainError
from annotation_api.settings import Environment, Settings
from server.auth import Caller, Role
from server.webhooks.service import WebhookService
from storage.database import Database
from tests.exports.receiver import receiving
from tests.helpers import TestUser, wait_until
from tests.webhooks.support import hook_url
from tests.workflow.support import Rest

GOOD = "https://hooks.example.com/annotation"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"callback_poll_seconds": 0.02, "callback_backoff_seconds": 0.01}
    )


BAD_BODIES: list[tuple[str, dict[str, Any], str, str]] = [
    ("ftp scheme", {"url": "ftp://hooks.example.com/x"}, "url", "http or https"),
    ("no scheme", {"url": "hooks.example.com/x"}, "url", "http or https"),
    ("user info", {"url": "https://user:pw@hooks.example.com/x"}, "url", "user information"),
    ("blank", {"url": "https://hooks.example.com/a b"}, "url", "http or https"),
    ("Host", {"url": GOOD, "headers": {"Host": "internal.example"}}, "headers", "Host"),
    ("Content-Length", {"url": GOOD, "headers": {"content-length": "0"}}, "headers", "content"),
    ("hop-by-hop", {"url": GOOD, "headers": {"Connection": "close"}}, "headers", "Connection"),
    ("chunked", {"url": GOOD, "headers": {"Transfer-Encoding": "x"}}, "headers", "Transfer"),
    ("signature", {"url": GOOD, "headers": {"X-Signature-256": "x"}}, "headers", "Signature"),
    ("event id", {"url": GOOD, "headers": {"X-Webhook-Event-Id": "x"}}, "headers", "Event"),
    ("CRLF", {"url": GOOD, "headers": {"X-A": "a\r\nX-B: b"}}, "headers", "X-A"),
    ("non-ASCII", {"url": GOOD, "headers": {"X-Team": "标注"}}, "headers", "X-Team"),
    ("bad name", {"url": GOOD, "headers": {"bad name": "x"}}, "headers", "bad name"),
    ("unknown event", {"url": GOOD, "events": ["TASKS_DELETED"]}, "events", "TASKS_DELETED"),
]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
async def test_a_bad_webhook_is_refused_with_the_documented_body(
    http_client: httpx.AsyncClient, admin: TestUser, body: dict[str, Any], field: str, words: str
) -> None:
    headers = {"Authorization": f"Bearer {admin.token}"}
    created = await http_client.post("/api/v1/webhooks", json=body, headers=headers)
    assert created.status_code == 400, created.text
    error = created.json()
    assert error["error_code"] == "INVALID_REQUEST"
    assert error["details"]["field"] == field
    assert words in error["message"]
    # the same rules guard a change of an existing webhook
    hook = (await http_client.post("/api/v1/webhooks", json={"url": GOOD}, headers=headers)).json()
    change = {k: v for k, v in body.items() if k != "url" or v != GOOD}
    change |= {"update_headers": "headers" in body, "update_events": "events" in body}
    changed = await http_client.patch(
        f"/api/v1/webhooks/{hook['webhook']['webhook_id']}", json=change, headers=headers
    )
    assert changed.status_code == 400, changed.text
    assert changed.json()["details"]["field"] == field
    listed = (await http_client.get("/api/v1/webhooks", headers=headers)).json()
    assert [h["url"] for h in listed["webhooks"]] == [GOOD]  # nothing else was stored


async def test_a_webhook_for_an_unknown_project_is_project_not_found(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    created = await http_client.post(
        "/api/v1/webhooks",
        json={"url": GOOD, "project_id": "proj_000000000000"},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert created.status_code == 404
    assert created.json()["error_code"] == "PROJECT_NOT_FOUND"


async def test_an_unknown_webhook_is_webhook_not_found(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    shown = await http_client.get(
        "/api/v1/webhooks/wh_0000000000000000", headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert shown.status_code == 404
    assert shown.json() == {
        "error_code": "WEBHOOK_NOT_FOUND",
        "message": "webhook not found",
        "details": {"webhook_id": "wh_0000000000000000"},
    }


async def test_production_takes_https_webhooks_only(
    settings: Settings, database: Database, admin: TestUser
) -> None:
    production = settings.model_copy(update={"environment": Environment.PRODUCTION})
    service = WebhookService(production, database)
    caller = Caller(user_id=admin.user_id, username=admin.username, role=Role.ADMIN)
    with pytest.raises(DomainError) as refused:
        await service.create_webhook(
            caller, project_id="", url="http://hooks.example.com/x", events=[], headers={},
            is_active=True,
        )  # fmt: skip
    assert refused.value.details == {"field": "url", "supported": ["https"]}
    assert refused.value.message == "url must be an absolute https URL"
    created = await service.create_webhook(
        caller, project_id="", url=GOOD, events=[], headers={}, is_active=True
    )
    assert created.url == GOOD


async def test_a_loopback_receiver_is_refused_at_delivery_and_not_retried(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    owner = Rest(http_client, admin)
    async with receiving() as receiver:
        hook = (await owner.call("POST", "/api/v1/webhooks", json={"url": hook_url(receiver)}))[
            "webhook"
        ]
        await owner.call(
            "POST",
            "/api/external/projects/init",
            json={"name": "ssrf", "task_type": "text_classification", "data": [{"content": "x"}]},
        )
        path = f"/api/v1/webhooks/{hook['webhook_id']}/deliveries"

        async def given_up() -> list[dict[str, Any]] | None:
            deliveries = (await owner.call("GET", path))["deliveries"]
            done = len(deliveries) == 2 and all(d["status"] == "failed" for d in deliveries)
            return deliveries if done else None

        deliveries = await wait_until(given_up, what="both events given up")
        assert receiver.requests == []
    for delivery in deliveries:
        assert delivery["attempts"] == 1
        assert delivery.get("last_status_code", 0) == 0
        assert "not allowed" in delivery["last_error"]
    shown = (await owner.call("GET", f"/api/v1/webhooks/{hook['webhook_id']}"))["webhook"]
    assert shown["consecutive_failures"] == 2 and shown["is_active"] is True
