"""A real receiver records a whole workflow's events over REST: init -> prediction
import -> configure -> assign -> submit -> skip -> update -> export. Each event is
signed, carries its id in a header and in the body, comes once per change (a bulk
operation is one event with counts), in its project's order, and a delivery that
failed once is sent again with the same event id and bytes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from annotation_api.settings import Settings
from storage.database import Database
from tests import realistic
from tests.exports.receiver import receiving
from tests.helpers import TestUser, wait_until
from tests.realistic import DETECTOR_NEW, ls_submitted
from tests.webhooks.support import FAST, hook_url, unique_events
from tests.workflow.support import Rest, make_user

SECRET = "test-secret"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


async def test_a_workflow_reaches_the_receiver_signed_in_order_and_once_per_change(
    database: Database,
    admin: TestUser,
    other_admin: TestUser,
    http_client: httpx.AsyncClient,
) -> None:
    owner = Rest(http_client, admin)
    stranger = Rest(http_client, other_admin)
    ann = Rest(http_client, await make_user(database, "ann", "annotator"))
    # the receiver fails the very first delivery once: it comes again, same event
    async with receiving([500]) as receiver, receiving() as picky_receiver:
        hook = (
            await owner.call(
                "POST",
                "/api/v1/webhooks",
                json={"url": hook_url(receiver), "headers": {"X-Tenant": "center-7"}},
            )
        )["webhook"]
        assert hook["is_active"] is True and hook.get("project_id", "") == ""
        # another admin's webhook for all their projects hears nothing of ours
        theirs = (
            await stranger.call("POST", "/api/v1/webhooks", json={"url": hook_url(receiver)})
        )["webhook"]

        created = await owner.call(
            "POST", "/api/external/projects/init", json=realistic.detection_init(name="hooks")
        )
        project_id = created["project_id"]
        # a webhook of this project only, for two events only
        picky = (
            await owner.call(
                "POST",
                "/api/v1/webhooks",
                json={
                    "url": hook_url(picky_receiver),
                    "project_id": project_id,
                    "events": ["TASK_SKIPPED", "EXPORT_COMPLETED"],
                },
            )
        )["webhook"]
        assert picky["events"] == ["TASK_SKIPPED", "EXPORT_COMPLETED"]
        tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
        ids = realistic.task_ids_by_key(tasks["tasks"])
        report = await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/predictions/import",
            files={
                "file": (
                    "p.json",
                    realistic.detection_predictions(ids, DETECTOR_NEW, with_overrun=False),
                    "application/json",
                )
            },
        )
        await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
        await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/assignments",
            json={"annotator_id": ann.user.user_id, "task_ids": [ids["accept"], ids["move"]]},
        )
        task = (await ann.call("POST", "/api/v1/me/next-task", json={"project_id": project_id}))[
            "task"
        ]
        assert task["task_id"] == ids["accept"]
        await ann.call("POST", f"/api/v1/tasks/{ids['accept']}/start", json={})
        size = realistic.DETECTION["accept"].size
        result = ls_submitted(task["predictions"][0]["result"], size=size)
        submitted = await ann.call(
            "POST", f"/api/v1/tasks/{ids['accept']}/annotations", json={"result": result}
        )
        await ann.call("POST", f"/api/v1/tasks/{ids['move']}/skip", json={"reason": "模糊 blurry"})
        await owner.call(
            "PATCH", f"/api/v1/annotations/{submitted['annotation_id']}", json={"result": []}
        )
        exported = await owner.call(
            "POST", f"/api/external/projects/{project_id}/export", json={"format": "json"}
        )

        def all_arrived() -> list[dict[str, Any]] | None:
            events = unique_events(receiver, SECRET)
            return events if any(e["action"] == "EXPORT_COMPLETED" for e in events) else None

        events = await wait_until(all_arrived, what="the export's event")
        picked = await wait_until(
            lambda: len(picky_receiver.requests) == 2 and unique_events(picky_receiver, SECRET),
            what="the picky webhook's two events",
        )
        path = f"/api/v1/webhooks/{hook['webhook_id']}/deliveries"

        async def recorded() -> list[dict[str, Any]] | None:
            # an attempt is recorded once the receiver has answered it
            listed = (await owner.call("GET", path))["deliveries"]
            return None if any(d["status"] == "pending" for d in listed) else listed

        deliveries = await wait_until(recorded, what="every delivery recorded")
        silent = (
            await stranger.call("GET", f"/api/v1/webhooks/{theirs['webhook_id']}/deliveries")
        )["deliveries"]

    assert [e["action"] for e in events] == [
        "PROJECT_CREATED",
        "TASKS_CREATED",
        "PREDICTIONS_IMPORTED",
        "PROJECT_STATUS_CHANGED",
        "PROJECT_STATUS_CHANGED",
        "ANNOTATION_CREATED",
        "TASK_SKIPPED",
        "ANNOTATION_UPDATED",
        "EXPORT_COMPLETED",
    ]
    # in the project's order, numbered without gaps, each event once, every one signed
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert len(receiver.requests) == len(events) + 1  # the first one came twice
    assert receiver.requests[0].body == receiver.requests[1].body
    assert all(r.headers["x-tenant"] == "center-7" for r in receiver.requests)
    assert {e["project"]["id"] for e in events} == {project_id}
    by_action = {e["action"]: e for e in events}
    assert by_action["PROJECT_CREATED"]["project"] == {
        "id": project_id,
        "name": "hooks",
        "task_type": "object_detection",
        "status": "draft",
    }
    # one event for the whole init, with its count
    assert by_action["TASKS_CREATED"]["count"] == len(realistic.DETECTION_ITEMS)
    assert by_action["PREDICTIONS_IMPORTED"]["imported"] == report["imported"] > 0
    assert [(e["from"], e["to"]) for e in events if e["action"] == "PROJECT_STATUS_CHANGED"] == [
        ("draft", "ready"),
        ("ready", "in_progress"),
    ]
    annotation = by_action["ANNOTATION_CREATED"]["annotation"]
    assert annotation["id"] == str(submitted["annotation_id"])
    assert annotation["task"] == ids["accept"] and annotation["result"] == result
    assert by_action["ANNOTATION_CREATED"]["task"]["id"] == ids["accept"]
    assert by_action["ANNOTATION_UPDATED"]["annotation"]["result"] == []
    skipped = by_action["TASK_SKIPPED"]
    assert (skipped["task"]["id"], skipped["reason"]) == (ids["move"], "模糊 blurry")
    export = by_action["EXPORT_COMPLETED"]["export"]
    assert (export["export_id"], export["status"]) == (exported["export_id"], "completed")

    # the deliveries, newest first, with the receiver's status codes
    assert [d["event_id"] for d in deliveries] == [e["event_id"] for e in reversed(events)]
    assert {d["status"] for d in deliveries} == {"delivered"}
    first = deliveries[-1]
    assert (first["attempts"], first["last_status_code"]) == (2, 200)
    assert silent == []
    # the picky webhook: its two events, with the ids and numbers every webhook sees
    assert [(e["action"], e["event_id"], e["sequence"]) for e in picked] == [
        (e["action"], e["event_id"], e["sequence"])
        for e in events
        if e["action"] in ("TASK_SKIPPED", "EXPORT_COMPLETED")
    ]
