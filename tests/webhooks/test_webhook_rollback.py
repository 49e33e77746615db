"""An event is written in the transaction of its change: a change that fails (and rolls
back) leaves no event, and a later change of the same kind is numbered as if the failed
one had never been tried."""

from __future__ import annotations

import httpx

from tests.helpers import TestUser
from tests.workflow.support import Rest

HOOK = "https://hooks.example.com/annotation"


async def test_a_failed_init_leaves_no_event(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    owner = Rest(http_client, admin)
    hook = (await owner.call("POST", "/api/v1/webhooks", json={"url": HOOK}))["webhook"]
    path = f"/api/v1/webhooks/{hook['webhook_id']}/deliveries"
    repeated = {
        "name": "两次 twice",
        "task_type": "text_classification",
        "data": [{"id": "same", "content": "a"}, {"id": "same", "content": "b"}],
    }
    refused = await owner.call("POST", "/api/external/projects/init", json=repeated, status=400)
    assert refused["error_code"] == "INVALID_REQUEST"
    assert (await owner.call("GET", path))["deliveries"] == []

    repeated["data"][1]["id"] = "other"
    created = await owner.call("POST", "/api/external/projects/init", json=repeated)
    deliveries = (await owner.call("GET", path))["deliveries"]
    assert [(d["action"], d["sequence"], d["project_id"]) for d in deliveries] == [
        ("TASKS_CREATED", 2, created["project_id"]),
        ("PROJECT_CREATED", 1, created["project_id"]),
    ]
