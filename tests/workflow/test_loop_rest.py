"""The pre-labelling loop end to end through REST with real tokens (SPEC §4.3a):
init -> import predictions -> list users -> configure -> assign to two
annotators -> each pulls NextTask, sees the prediction, accepts one unchanged,
modifies another, skips a third -> progress and prediction stats show exactly
that -> the json export carries the parents."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson

from storage.database import Database
from storage.prediction_stats import rebuild_model_stats
from tests.helpers import TestUser
from tests.workflow.support import Rest, aap_bbox_file, make_user

BOXES = [(10 + i, 20 + i, 30, 40) for i in range(6)]


def accepted(prediction: dict[str, Any]) -> list[dict[str, Any]]:
    """What a front end submits when the annotator accepts the pre-label as it is:
    new region ids, no score, origin rewritten; coordinates within the tolerance."""
    result = copy.deepcopy(prediction["result"])
    for number, region in enumerate(result):
        region["id"] = f"region-{number}"
        region.pop("score", None)
        region["origin"] = "manual"
        region["value"]["x"] += 0.001
    return result


def modified(prediction: dict[str, Any]) -> list[dict[str, Any]]:
    result = copy.deepcopy(prediction["result"])
    result[0]["value"]["width"] += 5
    return result


async def work_through_queue(
    rest: Rest, project_id: str, lead_times: tuple[float, float]
) -> dict[str, str]:
    """Accept the first task unchanged, modify the second, skip the third."""
    done: dict[str, str] = {}
    for step in ("accept", "modify", "skip"):
        task = (await rest.call("POST", "/api/v1/me/next-task", json={"project_id": project_id}))[
            "task"
        ]
        assert task["assignee"]["user_id"] == rest.user.user_id
        assert task["data"]["image"].startswith("https://img.example/")
        assert task["data"]["width"] == 640
        assert "RectangleLabels" in task["label_config"]
        [prediction] = task["predictions"]
        assert prediction["model_version"] == "det-v1"
        assert prediction["source"] == "external_import"
        assert prediction["result"][0]["type"] == "rectanglelabels"
        task_id = task["task_id"]
        if step == "skip":
            moved = await rest.call(
                "POST", f"/api/v1/tasks/{task_id}/skip", json={"reason": "image is blurry"}
            )
            assert moved["status"] == "pending"
            done[step] = task_id
            continue
        started = await rest.call("POST", f"/api/v1/tasks/{task_id}/start", json={})
        assert started["status"] == "in_progress"
        result = accepted(prediction) if step == "accept" else modified(prediction)
        lead_time = lead_times[0] if step == "accept" else lead_times[1]
        submitted = await rest.call(
            "POST",
            f"/api/v1/tasks/{task_id}/annotations",
            json={
                "result": result,
                "parent_prediction_id": prediction["prediction_id"],
                "lead_time_seconds": lead_time,
            },
        )
        assert submitted["status"] == "completed"
        done[step] = task_id
        done[f"{step}_annotation"] = submitted["annotation_id"]
        done[f"{step}_parent"] = prediction["prediction_id"]
    nothing = await rest.client.post(
        "/api/v1/me/next-task", json={"project_id": project_id}, headers=rest.headers
    )
    assert nothing.status_code == 404
    assert nothing.json()["error_code"] == "NO_TASK_AVAILABLE"
    return done


async def test_the_prelabelling_loop_over_rest(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = Rest(http_client, await make_user(database, "ann", "annotator"))
    ben = Rest(http_client, await make_user(database, "ben", "annotator"))

    # init
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "loop",
            "task_type": "object_detection",
            "external_id": "center-42",
            "data": [
                {
                    "id": f"img-{i}",
                    "content": f"https://img.example/{i}.jpg",
                    "metadata": {"width": 640, "height": 480},
                }
                for i in range(6)
            ],
            "tags": [{"tag": "cat"}, {"tag": "dog"}],
        },
    )
    project_id = created["project_id"]
    found = await owner.call("GET", "/api/external/projects", params={"external_id": "center-42"})
    assert [p["project_id"] for p in found["projects"]] == [project_id]
    assert found["projects"][0]["task_count"] == 6
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    task_ids = [t["task_id"] for t in tasks["tasks"]]

    # import predictions
    report = await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/predictions/import",
        files={
            "file": (
                "p.json",
                aap_bbox_file(task_ids, BOXES, class_name="cat", confidence=0.9),
                "application/json",
            )
        },
        data={"model_version": "det-v1"},
    )
    assert (report["imported"], report["skipped"]) == (6, 0)

    # list users, configure, assign
    users = await owner.call("GET", "/api/v1/users", params={"role": "annotator"})
    annotators = {u["username"]: u for u in users["users"]}
    assert set(annotators) == {"ann", "ben"}
    assert all(u["role"] == "annotator" for u in users["users"])
    configured = await owner.call(
        "POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True}
    )
    assert configured["status"] == "ready"
    for name in ("ann", "ben"):
        assigned = await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/assignments",
            json={"annotator_id": annotators[name]["user_id"], "count": 3},
        )
        assert assigned["assigned_count"] == 3
        assert assigned["project_status"] == "in_progress"
    queue = await ann.call("GET", "/api/v1/me/tasks")
    assert [t["task_id"] for t in queue["tasks"]] == task_ids[:3]
    assert queue["counts"] == {"pending": 3, "in_progress": 0, "completed": 0}

    # each annotator works through their queue
    ann_done = await work_through_queue(ann, project_id, (10.0, 30.0))
    ben_done = await work_through_queue(ben, project_id, (20.0, 40.0))
    assert [ann_done[s] for s in ("accept", "modify", "skip")] == task_ids[:3]
    assert [ben_done[s] for s in ("accept", "modify", "skip")] == task_ids[3:]

    finished = await ann.call("GET", "/api/v1/me/tasks", params={"status": "completed"})
    assert [t["task_id"] for t in finished["tasks"]] == task_ids[:2]
    assert finished["tasks"][0]["project_name"] == "loop"
    assert finished["counts"] == {"pending": 0, "in_progress": 0, "completed": 2}

    # the annotator corrects their modified annotation once more
    task = (await ann.call("GET", f"/api/v1/tasks/{ann_done['modify']}"))["task"]
    corrected = modified(task["predictions"][0])
    corrected[0]["value"]["height"] += 2
    updated = await ann.call(
        "PATCH",
        f"/api/v1/annotations/{ann_done['modify_annotation']}",
        json={"result": corrected},
    )
    assert updated["task_id"] == ann_done["modify"]

    # progress: 4 completed, 2 skipped tasks back to pending and unassigned
    progress = await owner.call("GET", f"/api/external/projects/{project_id}/progress")
    assert (
        progress["total_tasks"],
        progress["completed_tasks"],
        progress["in_progress_tasks"],
        progress["pending_tasks"],
    ) == (6, 4, 0, 2)
    assert [
        (a["username"], a["assigned_count"], a["completed_count"], a["completion_rate"])
        for a in progress["annotators"]
    ] == [("ann", 2, 2, 100.0), ("ben", 2, 2, 100.0)]
    skipped = (await owner.call("GET", f"/api/v1/tasks/{ann_done['skip']}"))["task"]
    assert (skipped["status"], skipped["assignee"]) == ("pending", None)

    # prediction stats
    stats = await owner.call("GET", f"/api/external/projects/{project_id}/predictions/stats")
    assert stats == {
        "project_id": project_id,
        "models": [
            {
                "model_version": "det-v1",
                "predictions": 6,
                "tasks_covered": 6,
                "annotations_from_prediction": 4,
                "accepted_unchanged": 2,
                "modified": 2,
                "annotated_without_prediction_use": 0,
                "median_lead_time_with_prelabel_seconds": 25.0,
                "median_lead_time_without_prelabel_seconds": None,
            }
        ],
    }

    # the counters kept call by call equal those rebuilt from the rows (as an import does)
    async with database.transaction() as conn:
        await rebuild_model_stats(conn, project_id)
    rebuilt = await owner.call("GET", f"/api/external/projects/{project_id}/predictions/stats")
    assert rebuilt == stats

    # the json export carries the parents and lead times, and the corrected result
    export = await owner.call("POST", f"/api/external/projects/{project_id}/export", json={})
    download = await http_client.get(export["file_url"], headers=owner.headers)
    assert download.status_code == 200
    exported = {item["task_id"]: item for item in orjson.loads(download.content)}
    assert set(exported) == {
        ann_done["accept"],
        ann_done["modify"],
        ben_done["accept"],
        ben_done["modify"],
    }
    for done, lead_times in ((ann_done, (10.0, 30.0)), (ben_done, (20.0, 40.0))):
        for step, lead_time in zip(("accept", "modify"), lead_times, strict=True):
            [annotation] = exported[done[step]]["annotations"]
            assert annotation["parent_prediction_id"] == done[f"{step}_parent"]
            assert annotation["lead_time_seconds"] == lead_time
    [latest] = exported[ann_done["modify"]]["annotations"]
    assert latest["result"] == corrected
