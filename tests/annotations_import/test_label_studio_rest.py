"""Annotation import of Label Studio task exports through the REST gateway (real gRPC
server, real database, each engine)."""

from __future__ import annotations

import httpx
import orjson

from storage.database import Database
from tests.annotations_import.support import (
    IMAGES,
    box,
    export_json,
    init_project,
    listed,
    ls_annotation,
    ls_task,
    post_import,
    progress,
)
from tests.helpers import TestUser
from tests.predictions.support import audit_entries
from tests.workflow.support import Rest, make_user


async def test_a_label_studio_export_completes_its_tasks_by_the_annotator(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_project(owner)
    export = [
        # matched by content: Label Studio's own task ids mean nothing here
        ls_task(IMAGES[0], task_id=1, annotations=[ls_annotation([box(10, 20)], lead_time=7.5)]),
        ls_task(
            IMAGES[1],
            task_id=2,
            annotations=[ls_annotation([box(30, 40, "dog")])],
            predictions=[{"result": [box(31, 41, "dog")], "model_version": "yolo-1", "score": 0.8}],
        ),
        ls_task(IMAGES[2], task_id=3, annotations=[ls_annotation([], cancelled=True)]),
    ]

    report = await post_import(owner, project_id, export, annotator_id=ann.user_id)

    assert report == {
        "imported": 2,
        "predictions_imported": 1,
        "skipped": 1,
        "errors": [],
        "dry_run": False,
        "ground_truth_tasks": 0,  # not a ground_truth import
    }
    task = (await owner.call("GET", f"/api/v1/tasks/{task_ids[0]}"))["task"]
    assert task["status"] == "completed"
    assert task["assignee"]["user_id"] == ann.user_id
    [annotation] = task["annotations"]
    assert annotation["annotator"]["user_id"] == ann.user_id
    assert annotation["result"] == [box(10, 20)]
    assert annotation["lead_time_seconds"] == 7.5
    second = (await owner.call("GET", f"/api/v1/tasks/{task_ids[1]}"))["task"]
    [prediction] = second["predictions"]
    assert (prediction["source"], prediction["model_version"]) == ("external_import", "yolo-1")
    assert prediction["result"] == [box(31, 41, "dog")]
    untouched = (await owner.call("GET", f"/api/v1/tasks/{task_ids[2]}"))["task"]
    assert (untouched["status"], untouched["annotations"]) == ("pending", [])

    stats = await owner.call("GET", f"/api/external/projects/{project_id}/predictions/stats")
    assert stats["models"] == [
        {
            "model_version": "yolo-1",
            "predictions": 1,
            "tasks_covered": 1,
            "annotations_from_prediction": 0,
            "accepted_unchanged": 0,
            "modified": 0,
            "annotated_without_prediction_use": 1,
            "median_lead_time_with_prelabel_seconds": None,
            "median_lead_time_without_prelabel_seconds": 12.5,
        }
    ]
    exported = {item["task_id"]: item for item in await export_json(owner, http_client, project_id)}
    assert exported[task_ids[0]]["annotations"][0]["result"] == [box(10, 20)]
    assert exported[task_ids[0]]["annotator"] == "ann"
    assert exported[task_ids[2]]["annotations"] == []

    [entry] = await audit_entries(database, "annotations.import")
    assert entry["detail"] == {
        "format": "label_studio_json",
        "imported": 2,
        "predictions_imported": 1,
        "skipped": 1,
        "error_count": 0,
        "annotator_id": ann.user_id,
    }


async def test_our_own_json_export_round_trips_into_a_copy_by_task_id(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    ben = await make_user(database, "ben", "annotator")
    source_id, _ = await init_project(owner, name="source")
    await post_import(
        owner,
        source_id,
        [
            ls_task(image, annotations=[ls_annotation([box(5 + i, 5)])])
            for i, image in enumerate(IMAGES)
        ],
        annotator_id=ann.user_id,
    )
    # clear the annotations: the export is imported back into the same project's twin
    target_id, target_ids = await init_project(owner, name="target")
    exported = await export_json(owner, http_client, source_id)
    # Our export names tasks by id and display_id: those of the source project are not
    # tasks of the target, so the target's tasks are found by their content.
    report = await post_import(owner, target_id, exported, annotator_id=ben.user_id)
    assert (report["imported"], report["errors"]) == (4, [])
    task = (await owner.call("GET", f"/api/v1/tasks/{target_ids[3]}"))["task"]
    assert task["annotations"][0]["result"] == [box(8, 5)]

    # Named by its own task id (content changed in the file): the id wins only when the
    # content agrees, so a stray id never annotates another image.
    third_id, third_ids = await init_project(owner, name="third")
    by_id = [
        {"id": int(third_ids[0]), "data": {}, "annotations": [ls_annotation([box(1, 1)])]},
        {
            "display_id": f"T-{third_ids[1]}",
            "data": {"image": IMAGES[1]},
            "annotations": [ls_annotation([box(2, 2)])],
        },
        {
            "id": int(third_ids[2]),
            "data": {"image": "https://img.example/other.jpg"},
            "annotations": [ls_annotation([box(3, 3)])],
        },
    ]
    report = await post_import(owner, third_id, by_id, annotator_id=ben.user_id)
    assert report["imported"] == 2
    assert report["errors"] == [
        {
            "task_match": {"id": int(third_ids[2]), "data.image": "https://img.example/other.jpg"},
            "reason": "task not found in project ([2])",
        }
    ]


async def test_progress_and_listing_stay_exact(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    ben = await make_user(database, "ben", "annotator")
    ann_rest = Rest(http_client, ann)
    project_id, task_ids = await init_project(owner)
    await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
    # ann holds task 0 (started) and task 1 (assigned); tasks 2 and 3 are unassigned
    await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/assignments",
        json={"annotator_id": ann.user_id, "task_ids": task_ids[:2]},
    )
    await ann_rest.call("POST", f"/api/v1/tasks/{task_ids[0]}/start", json={})

    report = await post_import(
        owner,
        project_id,
        [ls_task(image, annotations=[ls_annotation([box(10, 10)])]) for image in IMAGES[:3]],
        annotator_id=ben.user_id,
    )

    assert report["imported"] == 3
    shown = await progress(owner, project_id)
    assert (
        shown["total_tasks"],
        shown["completed_tasks"],
        shown["in_progress_tasks"],
        shown["pending_tasks"],
        shown["completion_percentage"],
    ) == (4, 3, 0, 1, 75.0)
    assert [
        (a["username"], a["assigned_count"], a["completed_count"], a["in_progress_count"])
        for a in shown["annotators"]
    ] == [("ann", 2, 2, 0), ("ben", 1, 1, 0)]
    assert (await listed(owner, project_id))["completed_count"] == 3
    kept = (await owner.call("GET", f"/api/v1/tasks/{task_ids[0]}"))["task"]
    assert kept["assignee"]["user_id"] == ann.user_id  # the task's assignee stays
    assert kept["annotations"][0]["annotator"]["user_id"] == ben.user_id

    # the last task: the project completes, as with the last SubmitAnnotation
    await post_import(
        owner,
        project_id,
        [ls_task(IMAGES[3], annotations=[ls_annotation([box(1, 1)])])],
        annotator_id=ben.user_id,
    )
    shown = await progress(owner, project_id)
    assert (shown["completed_tasks"], shown["completion_percentage"]) == (4, 100.0)
    assert (await listed(owner, project_id))["status"] == "completed"


async def test_error_entries_and_already_annotated_tasks(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_project(owner)
    await post_import(
        owner,
        project_id,
        [ls_task(IMAGES[0], annotations=[ls_annotation([box(1, 1)])])],
        annotator_id=ann.user_id,
    )
    export = [
        ls_task(IMAGES[0], annotations=[ls_annotation([box(2, 2)])]),
        ls_task("https://img.example/missing.jpg", annotations=[ls_annotation([box(2, 2)])]),
        ls_task(
            IMAGES[1],
            annotations=[
                ls_annotation([box(3, 3, "bird")]),
                ls_annotation({"not": "a list"}),  # type: ignore[arg-type]
                ls_annotation([box(4, 4)], lead_time=-1),
                ls_annotation([{**box(5, 5), "meta": {"text": ["a\u0000b"]}}]),
                ls_annotation([box(6, 6)]),
            ],
            predictions=[{"result": [box(1, 1)], "score": 7}],
        ),
        ls_task(IMAGES[1], annotations=[ls_annotation([box(7, 7)])]),
        "not a task",
    ]

    report = await post_import(owner, project_id, export, annotator_id=ann.user_id)

    assert (report["imported"], report["predictions_imported"]) == (1, 0)
    assert report["skipped"] == 1 + 1 + 4 + 1 + 1
    assert [error["reason"] for error in report["errors"]] == [
        "task already annotated ([0])",
        "task not found in project ([1])",
        "result[0].value.rectanglelabels: 'bird' is not a label of the project (labels: cat, "
        "dog) ([2].annotations[0])",
        "result must be a JSON array of objects ([2].annotations[1])",
        "lead_time must be 0 to 31622400 ([2].annotations[2])",
        "result cannot contain the character U+0000 ([2].annotations[3])",
        "score must be a number in 0..1, got 7 ([2].predictions[0])",
        "task already named by an earlier entry of the file ([3])",
        "a task must be an object ([4])",
    ]
    assert report["errors"][1]["task_match"] == {
        "id": 9000,
        "data.image": "https://img.example/missing.jpg",
    }
    task = (await owner.call("GET", f"/api/v1/tasks/{task_ids[1]}"))["task"]
    assert [a["result"] for a in task["annotations"]] == [[box(6, 6)]]
    first = (await owner.call("GET", f"/api/v1/tasks/{task_ids[0]}"))["task"]
    assert [a["result"] for a in first["annotations"]] == [[box(1, 1)]]


async def test_a_dry_run_checks_everything_and_writes_nothing(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_project(owner)
    export = [
        ls_task(
            IMAGES[0],
            annotations=[ls_annotation([box(1, 1)])],
            predictions=[{"result": [box(1, 1)], "score": 0.5}],
        ),
        ls_task(IMAGES[0], annotations=[ls_annotation([box(1, 1)])]),
    ]

    report = await post_import(
        owner, project_id, export, annotator_id=ann.user_id, params={"dry_run": "true"}
    )

    assert report["dry_run"] is True
    assert (report["imported"], report["predictions_imported"], report["skipped"]) == (1, 1, 1)
    assert [e["reason"] for e in report["errors"]] == [
        "task already named by an earlier entry of the file ([1])"
    ]
    task = (await owner.call("GET", f"/api/v1/tasks/{task_ids[0]}"))["task"]
    assert (task["status"], task["annotations"], task["predictions"]) == ("pending", [], [])
    assert (await progress(owner, project_id))["completed_tasks"] == 0
    assert await audit_entries(database, "annotations.import") == []


async def test_who_may_import_and_for_whom(
    database: Database, admin: TestUser, other_admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, _ = await init_project(owner)
    export = [ls_task(IMAGES[0], annotations=[ls_annotation([box(1, 1)])])]

    for annotator_id in ("u_unknown", admin.user_id, ""):
        body = await post_import(
            owner,
            project_id,
            export,
            annotator_id=annotator_id,
            status=404 if annotator_id else 400,
        )
        if annotator_id:
            assert body == {
                "error_code": "USER_NOT_FOUND",
                "message": "annotator not found",
                "details": {"annotator_id": annotator_id},
            }
    denied = await post_import(
        Rest(http_client, ann), project_id, export, annotator_id=ann.user_id, status=403
    )
    assert denied["error_code"] == "PERMISSION_DENIED"
    hidden = await post_import(
        Rest(http_client, other_admin), project_id, export, annotator_id=ann.user_id, status=404
    )
    assert hidden["error_code"] == "PROJECT_NOT_FOUND"
    assert (await progress(owner, project_id))["completed_tasks"] == 0


async def test_a_broken_file_is_refused_whole_and_writes_nothing(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_project(owner)
    whole = orjson.dumps(
        [ls_task(image, annotations=[ls_annotation([box(1, 1)])]) for image in IMAGES]
    )

    cut = await post_import(
        owner, project_id, whole[: len(whole) // 2], annotator_id=ann.user_id, status=422
    )
    assert cut["error_code"] == "INVALID_IMPORT_FILE"
    not_a_list = await post_import(
        owner, project_id, {"tasks": []}, annotator_id=ann.user_id, status=422
    )
    assert not_a_list["message"] == "a Label Studio export is a JSON array of tasks"
    assert (await progress(owner, project_id))["completed_tasks"] == 0
    task = (await owner.call("GET", f"/api/v1/tasks/{task_ids[0]}"))["task"]
    assert task["annotations"] == []
    assert await audit_entries(database, "annotations.import") == []


async def test_an_idempotency_key_replays_the_first_answer(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, _ = await init_project(owner)
    export = [ls_task(IMAGES[0], annotations=[ls_annotation([box(1, 1)])])]
    key = {"Idempotency-Key": "import-1"}

    first = await post_import(owner, project_id, export, annotator_id=ann.user_id, headers=key)
    again = await post_import(owner, project_id, export, annotator_id=ann.user_id, headers=key)
    other = await post_import(
        owner, project_id, export[:0], annotator_id=ann.user_id, headers=key, status=409
    )

    assert first["imported"] == 1
    assert again == first  # not "task already annotated": the import did not run again
    assert other["error_code"] == "IDEMPOTENCY_CONFLICT"
    assert len(await audit_entries(database, "annotations.import")) == 1


async def test_a_task_nested_too_deep_refuses_the_file(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, _ = await init_project(owner)
    deep: object = "x"
    for _ in range(60):
        deep = [deep]
    region = {**box(1, 1), "meta": {"text": deep}}  # 4 + 1 + 2 + 2 + 61 levels > 64
    export = [
        ls_task(IMAGES[1], annotations=[ls_annotation([box(2, 2)])]),
        ls_task(IMAGES[0], annotations=[ls_annotation([region])]),
    ]

    body = await post_import(owner, project_id, export, annotator_id=ann.user_id, status=400)

    assert body["error_code"] == "INVALID_REQUEST"
    assert body["details"] == {"field": "file", "max_depth": 64}
    assert (await progress(owner, project_id))["completed_tasks"] == 0
