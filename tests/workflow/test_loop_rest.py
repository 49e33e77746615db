"""The pre-labelling loop end to end through REST with real tokens (SPEC §4.3a), on the
realistic data (tests.realistic): image tasks without sizes in metadata, several boxes
per image from two model versions, results submitted exactly as Label Studio 1.4.0's
front end returns them.

init -> import two model versions -> configure -> assign to two annotators -> each
pulls NextTask and sees one prediction per version, the newest pre-labelling it ->
one image accepted untouched, one box moved on another, a pre-label deleted and
submitted as a negative, the older version chosen on one task, a box drawn on an
image no model predicted, one task skipped -> progress and prediction stats show
exactly that -> the admin switches the project's pre-labelling version while work
is under way -> the json export carries the parents."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from sqlalchemy import select

from storage.database import Database
from storage.models import Task
from storage.prediction_stats import rebuild_model_stats
from tests import realistic
from tests.helpers import TestUser
from tests.realistic import DETECTION, DETECTOR_NEW, DETECTOR_OLD, ls_box_region, ls_submitted
from tests.workflow.support import Rest, make_user

ANN_KEYS = ["accept", "move", "negative", "accents"]
BEN_KEYS = ["overrun", "cjk", "unpredicted"]
LEAD_TIMES = {"accept": 10.0, "move": 30.0, "negative": 20.0, "accents": 12.0, "cjk": 14.0,
              "unpredicted": 50.0}  # fmt: skip


def by_version(task: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {p["model_version"]: p for p in task["predictions"]}


def moved_car(prediction: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The pre-label as Label Studio returns it after the annotator dragged the car."""
    item = DETECTION[key]
    regions = ls_submitted(prediction["result"], size=item.size)
    car = next(i for i, r in enumerate(regions) if r["value"]["rectanglelabels"] == ["car"])
    regions[car] = ls_box_region(
        item.truth[0], item.size, region_id=regions[car]["id"], origin="prediction-changed",
        score=regions[car]["score"],
    )  # fmt: skip
    return regions


async def submit(
    rest: Rest,
    task: dict[str, Any],
    result: list[Any],
    *,
    parent: str | None,
    key: str,
) -> str:
    task_id = task["task_id"]
    started = await rest.call("POST", f"/api/v1/tasks/{task_id}/start", json={})
    assert started["status"] == "in_progress"
    width, height = DETECTION[key].size
    body: dict[str, Any] = {
        "result": result,
        "lead_time_seconds": LEAD_TIMES[key],
        "image_width": width,
        "image_height": height,
    }
    if parent is not None:
        body["parent_prediction_id"] = parent
    submitted = await rest.call("POST", f"/api/v1/tasks/{task_id}/annotations", json=body)
    assert submitted["status"] == "completed"
    return str(submitted["annotation_id"])


async def next_task(rest: Rest, project_id: str, key: str, ids: dict[str, str]) -> dict:
    task = (await rest.call("POST", "/api/v1/me/next-task", json={"project_id": project_id}))[
        "task"
    ]
    assert task["task_id"] == ids[key]
    assert task["assignee"]["user_id"] == rest.user.user_id
    assert task["data"] == {
        "image": DETECTION[key].content(),
        **DETECTION[key].metadata,
    }  # no size in the data: the front end measures the image
    return dict(task)


def check_whole_answers(task: dict[str, Any], key: str) -> None:
    """One prediction per model version, each holding every box that version predicted,
    each region naming its row; the newest version pre-labels."""
    item = DETECTION[key]
    versions = by_version(task)
    assert set(versions) == set(item.predictions)
    for version, prediction in versions.items():
        boxes = item.predictions[version]
        assert [r["value"]["rectanglelabels"] for r in prediction["result"]] == [
            [b.label] for b in boxes
        ]
        rows = prediction["region_prediction_ids"]
        assert len(rows) == len(boxes) == len(set(rows))
        assert prediction["prediction_id"] == rows[0]
        assert abs(prediction["score"] - sum(b.score for b in boxes) / len(boxes)) < 1e-9
    newest = versions.get(DETECTOR_NEW) or versions.get(DETECTOR_OLD)
    assert task.get("prelabel_prediction_id") == (newest["prediction_id"] if newest else None)


async def test_the_prelabelling_loop_over_rest(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = Rest(http_client, await make_user(database, "ann", "annotator"))
    ben = Rest(http_client, await make_user(database, "ben", "annotator"))

    # init, as the README shows it: no image sizes
    created = await owner.call(
        "POST", "/api/external/projects/init", json=realistic.detection_init(name="loop")
    )
    project_id = created["project_id"]
    found = await owner.call("GET", "/api/external/projects", params={"external_id": "center-7"})
    assert [p["project_id"] for p in found["projects"]] == [project_id]
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    ids = realistic.task_ids_by_key(tasks["tasks"])
    assert list(ids) == [item.key for item in realistic.DETECTION_ITEMS]

    # two model versions, the older first
    for version in (DETECTOR_OLD, DETECTOR_NEW):
        report = await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/predictions/import",
            files={
                "file": (
                    "p.json",
                    realistic.detection_predictions(ids, version, with_overrun=False),
                    "application/json",
                )
            },
        )
        expected = realistic.prediction_count(version, with_overrun=False)
        assert (report["imported"], report["skipped"]) == (expected, 0), report

    users = await owner.call("GET", "/api/v1/users", params={"role": "annotator"})
    annotators = {u["username"]: u["user_id"] for u in users["users"]}
    configured = await owner.call(
        "POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True}
    )
    assert (configured["status"], configured.get("prelabel_model_version")) == ("ready", None)
    for name, keys in (("ann", ANN_KEYS), ("ben", BEN_KEYS)):
        assigned = await owner.call(
            "POST",
            f"/api/v1/projects/{project_id}/assignments",
            json={"annotator_id": annotators[name], "task_ids": [ids[k] for k in keys]},
        )
        assert assigned["assigned_count"] == len(keys)

    annotations: dict[str, str] = {}
    parents: dict[str, str | None] = {}

    # ann: accepts the pre-label untouched (three boxes, as Label Studio returns them)
    task = await next_task(ann, project_id, "accept", ids)
    check_whole_answers(task, "accept")
    new = by_version(task)[DETECTOR_NEW]
    result = ls_submitted(new["result"], size=DETECTION["accept"].size)
    assert len(result) == 3 and all("original_width" in r and r["id"] for r in result)
    parents["accept"] = new["prediction_id"]
    annotations["accept"] = await submit(ann, task, result, parent=new["prediction_id"],
                                         key="accept")  # fmt: skip

    # moves one of two boxes; the parent may name any row of the group
    task = await next_task(ann, project_id, "move", ids)
    check_whole_answers(task, "move")
    new = by_version(task)[DETECTOR_NEW]
    parents["move"] = new["prediction_id"]
    annotations["move"] = await submit(
        ann, task, moved_car(new, "move"), parent=new["region_prediction_ids"][1], key="move"
    )

    # deletes the wrong pre-label and submits a negative
    task = await next_task(ann, project_id, "negative", ids)
    check_whole_answers(task, "negative")
    new = by_version(task)[DETECTOR_NEW]
    parents["negative"] = new["prediction_id"]
    annotations["negative"] = await submit(ann, task, [], parent=new["prediction_id"],
                                           key="negative")  # fmt: skip

    # switches to the older version's tab and accepts it
    task = await next_task(ann, project_id, "accents", ids)
    check_whole_answers(task, "accents")
    old = by_version(task)[DETECTOR_OLD]
    parents["accents"] = old["prediction_id"]
    result = ls_submitted(old["result"], size=DETECTION["accents"].size)
    annotations["accents"] = await submit(ann, task, result, parent=old["prediction_id"],
                                          key="accents")  # fmt: skip

    # ben: skips the first, accepts the only version of the second (regions reordered),
    # draws a box where no model predicted one
    task = await next_task(ben, project_id, "overrun", ids)
    skipped = await ben.call(
        "POST", f"/api/v1/tasks/{task['task_id']}/skip", json={"reason": "image is blurry"}
    )
    assert skipped["status"] == "pending"
    task = await next_task(ben, project_id, "cjk", ids)
    check_whole_answers(task, "cjk")
    new = by_version(task)[DETECTOR_NEW]
    parents["cjk"] = new["prediction_id"]
    result = ls_submitted(new["result"], size=DETECTION["cjk"].size)[::-1]
    annotations["cjk"] = await submit(ben, task, result, parent=new["prediction_id"], key="cjk")
    task = await next_task(ben, project_id, "unpredicted", ids)
    assert (task["predictions"], task.get("prelabel_prediction_id")) == ([], None)
    item = DETECTION["unpredicted"]
    drawn = [ls_box_region(item.truth[0], item.size, region_id="Xy12_abcDE")]
    parents["unpredicted"] = None
    annotations["unpredicted"] = await submit(ben, task, drawn, parent=None, key="unpredicted")

    # the annotator corrects the moved box once more: still modified, counted once
    task = (await ann.call("GET", f"/api/v1/tasks/{ids['move']}"))["task"]
    [own] = task["annotations"]
    assert own["parent_prediction_id"] == parents["move"]  # stored as the group's id
    corrected = own["result"]
    corrected[0]["value"]["height"] += 2
    await ann.call(
        "PATCH", f"/api/v1/annotations/{annotations['move']}", json={"result": corrected}
    )

    progress = await owner.call("GET", f"/api/external/projects/{project_id}/progress")
    assert (progress["total_tasks"], progress["completed_tasks"], progress["pending_tasks"]) == (
        7,
        6,
        1,
    )

    # the recorded natural sizes are kept on the tasks
    async with database.read() as conn:
        rows = await conn.execute(
            select(Task.__table__.c.id, Task.__table__.c.image_width, Task.__table__.c.image_height)
        )
        sizes = {str(row.id): (row.image_width, row.image_height) for row in rows}
    for key, task_id in ids.items():
        assert sizes[task_id] == (DETECTION[key].size if key != "overrun" else (None, None))

    # the stats say what the people did
    stats = await owner.call("GET", f"/api/external/projects/{project_id}/predictions/stats")
    assert stats == {
        "project_id": project_id,
        "models": [
            {
                "model_version": DETECTOR_OLD,
                "predictions": 5,
                "tasks_covered": 5,
                "annotations_from_prediction": 1,  # accents
                "accepted_unchanged": 1,
                "modified": 0,
                "annotated_without_prediction_use": 3,  # accept, move, negative
                "median_lead_time_with_prelabel_seconds": 12.0,
                "median_lead_time_without_prelabel_seconds": 20.0,
            },
            {
                "model_version": DETECTOR_NEW,
                "predictions": 11,
                "tasks_covered": 6,
                "annotations_from_prediction": 4,  # accept, move, negative, cjk
                "accepted_unchanged": 2,  # accept, cjk
                "modified": 2,  # move (one box of two), negative
                "annotated_without_prediction_use": 1,  # accents
                "median_lead_time_with_prelabel_seconds": 17.0,
                "median_lead_time_without_prelabel_seconds": 12.0,
            },
        ],
    }
    async with database.transaction() as conn:
        await rebuild_model_stats(conn, project_id)
    rebuilt = await owner.call("GET", f"/api/external/projects/{project_id}/predictions/stats")
    assert rebuilt == stats

    # the admin switches the pre-labelling version while work is under way
    chosen = await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/configure",
        json={"prelabel_model_version": DETECTOR_OLD},
    )
    assert (chosen["status"], chosen["prelabel_model_version"]) == ("in_progress", DETECTOR_OLD)
    overrun = (await owner.call("GET", f"/api/v1/tasks/{ids['overrun']}"))["task"]
    assert overrun["prelabel_prediction_id"] == by_version(overrun)[DETECTOR_OLD]["prediction_id"]
    cjk = (await owner.call("GET", f"/api/v1/tasks/{ids['cjk']}"))["task"]  # no OLD: default
    assert cjk["prelabel_prediction_id"] == by_version(cjk)[DETECTOR_NEW]["prediction_id"]
    back = await owner.call(
        "POST", f"/api/v1/projects/{project_id}/configure", json={"prelabel_model_version": ""}
    )
    assert back.get("prelabel_model_version") is None
    overrun = (await owner.call("GET", f"/api/v1/tasks/{ids['overrun']}"))["task"]
    assert overrun["prelabel_prediction_id"] == by_version(overrun)[DETECTOR_NEW]["prediction_id"]
    refused = await http_client.post(
        f"/api/v1/projects/{project_id}/configure",
        json={"prelabel_model_version": "det-2027"},
        headers=owner.headers,
    )
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_REQUEST"
    assert DETECTOR_OLD in refused.json()["message"]

    # the json export carries the group parents, the negative and the corrected result
    export = await owner.call("POST", f"/api/external/projects/{project_id}/export", json={})
    download = await http_client.get(export["file_url"], headers=owner.headers)
    assert download.status_code == 200
    exported = {item["task_id"]: item for item in orjson.loads(download.content)}
    assert set(exported) == {ids[k] for k in annotations}
    for key in annotations:
        [annotation] = exported[ids[key]]["annotations"]
        assert annotation["parent_prediction_id"] == parents[key]
        assert annotation["lead_time_seconds"] == LEAD_TIMES[key]
    assert exported[ids["negative"]]["annotations"][0]["result"] == []
    assert exported[ids["move"]]["annotations"][0]["result"] == corrected
