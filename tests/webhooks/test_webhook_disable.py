"""A receiver that keeps failing: each event is retried, then given up, the next one is
sent, and after `webhook_max_consecutive_failures` failed attempts in a row the webhook
is disabled and says why (Get, ListDeliveries). While disabled it queues nothing new;
activated again, it sends what was waiting, in order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from annotation_api.settings import Settings
from tests.exports.receiver import receiving
from tests.helpers import TestUser, wait_until
from tests.webhooks.support import FAST, hook_url, unique_events
from tests.workflow.support import Rest

LIMIT = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={**FAST, "callback_max_attempts": 2, "webhook_max_consecutive_failures": LIMIT}
    )


async def test_a_failing_receiver_disables_its_webhook_until_it_is_activated(
    http_client: httpx.AsyncClient, admin: TestUser, annotator: TestUser
) -> None:
    owner = Rest(http_client, admin)
    async with receiving([500] * LIMIT) as receiver:
        hook = (await owner.call("POST", "/api/v1/webhooks", json={"url": hook_url(receiver)}))[
            "webhook"
        ]
        path = f"/api/v1/webhooks/{hook['webhook_id']}"
        created = await owner.call(
            "POST",
            "/api/external/projects/init",
            json={
                "name": "failing",
                "task_type": "text_classification",
                "data": [{"content": "x"}, {"content": "ÿ"}],
                "tags": [{"tag": "a"}],
            },
        )
        project_id = created["project_id"]
        await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})

        async def disabled() -> dict[str, Any] | None:
            shown = (await owner.call("GET", path))["webhook"]
            return None if shown["is_active"] else shown

        shown = await wait_until(disabled, what="the webhook disabled")
        deliveries = (await owner.call("GET", f"{path}/deliveries"))["deliveries"]
        # disabled: a change now queues nothing for it
        tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
        await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/assignments",
            json={"annotator_id": annotator.user_id, "task_ids": [tasks["tasks"][0]["task_id"]]},
        )
        unchanged = (await owner.call("GET", f"{path}/deliveries"))["deliveries"]
        requests_while_disabled = len(receiver.requests)

        # activated again: the failures are forgotten and the waiting events go out
        activated = (await owner.call("PATCH", path, json={"is_active": True}))["webhook"]

        async def all_delivered() -> list[dict[str, Any]] | None:
            listed = (await owner.call("GET", f"{path}/deliveries"))["deliveries"]
            waiting = [d for d in listed if d["status"] == "pending"]
            return None if waiting else listed

        after = await wait_until(all_delivered, what="the waiting events delivered")
        events = unique_events(receiver, "test-secret")

    assert shown["consecutive_failures"] == LIMIT
    assert shown["disabled_reason"] == (
        f"disabled after {LIMIT} consecutive failed deliveries (last: receiver answered HTTP 500)"
    )
    # newest first: the status change waits, TASKS_CREATED failed once and waits,
    # PROJECT_CREATED was tried twice and given up
    assert [(d["action"], d["status"], d["attempts"]) for d in deliveries] == [
        ("PROJECT_STATUS_CHANGED", "pending", 0),
        ("TASKS_CREATED", "pending", 1),
        ("PROJECT_CREATED", "failed", 2),
    ]
    assert [d.get("last_status_code", 0) for d in deliveries] == [0, 500, 500]
    assert unchanged == deliveries
    assert requests_while_disabled == LIMIT
    assert activated["is_active"] is True
    assert activated["consecutive_failures"] == 0 and activated.get("disabled_reason", "") == ""
    assert [(d["action"], d["status"]) for d in after] == [
        ("PROJECT_STATUS_CHANGED", "delivered"),
        ("TASKS_CREATED", "delivered"),
        ("PROJECT_CREATED", "failed"),
    ]
    assert [e["action"] for e in events] == [
        "PROJECT_CREATED",
        "TASKS_CREATED",
        "PROJECT_STATUS_CHANGED",
    ]
    assert [e["sequence"] for e in events] == [1, 2, 3]
