"""Overlap (annotations_per_task = N): a task is handed to N distinct annotators and is
completed once, by the N-th answer; nobody gets a task twice; ConfigureProject's
`quality` settings are validated, stored and returned in every project status.

Over REST (real HTTP through the gateway to the gRPC server), on images named alike
(x.png, x.jpg, X.png, x.jpeg, a non-ASCII name) without size metadata.
"""

from __future__ import annotations

from typing import Any

import httpx

from storage.database import Database
from tests.annotations_import.support import box, ls_annotation, ls_task, post_import
from tests.helpers import TestUser
from tests.workflow.support import Rest, make_user

IMAGES = [
    "https://img.example/x.png",
    "https://img.example/x.jpg",
    "https://img.example/X.png",
    "https://img.example/x.jpeg",
    "https://img.example/%E7%8C%AB-na%C3%AFve.png",
]


async def new_project(owner: Rest, *, per_task: int) -> tuple[str, list[str]]:
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "overlap",
            "task_type": "object_detection",
            "data": [{"content": image} for image in IMAGES],
            "tags": [{"tag": "cat"}, {"tag": "dog"}],
        },
    )
    project_id = created["project_id"]
    configured = await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/configure",
        json={"ready": True, "quality": {"annotations_per_task": per_task}},
    )
    assert configured["quality"]["annotations_per_task"] == per_task
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    return project_id, [t["task_id"] for t in tasks["tasks"]]


async def assign(owner: Rest, project_id: str, user: TestUser, **body: Any) -> Any:
    status = body.pop("status", 200)
    return await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/assignments",
        json={"annotator_id": user.user_id, **body},
        status=status,
    )


async def work(rest: Rest, task_id: str, x: float) -> Any:
    await rest.call("POST", f"/api/v1/tasks/{task_id}/start", json={})
    return await rest.call(
        "POST",
        f"/api/v1/tasks/{task_id}/annotations",
        json={"result": [box(x, 5), box(x + 30, 40, "dog")]},
    )


async def progress(owner: Rest, project_id: str) -> Any:
    return await owner.call("GET", f"/api/external/projects/{project_id}/progress")


def counts(shown: Any) -> tuple[int, int, int]:
    return shown["completed_tasks"], shown["in_progress_tasks"], shown["pending_tasks"]


def annotators(shown: Any) -> dict[str, tuple[int, int, int]]:
    return {
        a["username"]: (a["assigned_count"], a["completed_count"], a["in_progress_count"])
        for a in shown["annotators"]
    }


async def test_two_annotators_complete_a_task_once(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann, bob, cyd = [await make_user(database, n, "annotator") for n in ("ann", "bob", "cyd")]
    as_ann, as_bob = Rest(http_client, ann), Rest(http_client, bob)
    project_id, task_ids = await new_project(owner, per_task=2)
    task = task_ids[0]
    await assign(owner, project_id, ann, task_ids=[task])
    await assign(owner, project_id, bob, task_ids=[task])
    # a second assignment to the same annotator, or a third annotator: refused
    again = await assign(owner, project_id, ann, task_ids=[task], status=409)
    assert again["error_code"] == "INVALID_STATE", again
    assert again["details"]["task_ids"] == [task]
    third = await assign(owner, project_id, cyd, task_ids=[task], status=409)
    assert third["details"]["annotations_per_task"] == 2, third

    first = await work(as_ann, task, 10)
    assert first["status"] == "in_progress"  # one answer of two
    shown = await progress(owner, project_id)
    assert counts(shown) == (0, 1, 4)
    # bob sees his own assignment and none of ann's answers
    seen = (await as_bob.call("GET", f"/api/v1/tasks/{task}"))["task"]
    assert (seen["assignee"]["user_id"], seen["annotations"]) == (bob.user_id, [])
    assert [a["user_id"] for a in seen["assignees"]] == [bob.user_id]
    second = await work(as_bob, task, 12)
    assert second["status"] == "completed"
    shown = await progress(owner, project_id)
    assert counts(shown) == (1, 0, 4)
    assert annotators(shown) == {"ann": (1, 1, 0), "bob": (1, 1, 0)}
    detail = (await owner.call("GET", f"/api/v1/tasks/{task}"))["task"]
    assert sorted(a["annotator"]["user_id"] for a in detail["annotations"]) == sorted(
        [ann.user_id, bob.user_id]
    )
    assert detail["assignee"]["user_id"] == ann.user_id  # the admin: the first assignee
    assert [a["username"] for a in detail["assignees"]] == ["ann", "bob"]
    # the exports read the task once, with both answers
    for fmt in ("json", "coco"):
        exported = await owner.call(
            "POST", f"/api/external/projects/{project_id}/export", json={"format": fmt}
        )
        assert exported["total_exported"] == 1, (fmt, exported)
    download = await http_client.get(exported["file_url"], headers=owner.headers)
    assert download.status_code == 200
    assert len(download.json()["images"]) == 1

    # ann reopens her own answer: the task waits for it again, counted once
    await as_ann.call("POST", f"/api/v1/tasks/{task}/reopen", json={})
    shown = await progress(owner, project_id)
    assert counts(shown) == (0, 1, 4)
    # her update touches her own annotation only; bob's is not hers to change
    bobs = next(a for a in detail["annotations"] if a["annotator"]["user_id"] == bob.user_id)
    refused = await as_ann.call(
        "PATCH",
        f"/api/v1/annotations/{bobs['annotation_id']}",
        json={"result": []},
        status=404,
    )
    assert refused["error_code"] == "ANNOTATION_NOT_FOUND"
    resubmitted = await as_ann.call(
        "POST", f"/api/v1/tasks/{task}/annotations", json={"result": []}
    )
    assert resubmitted["status"] == "completed"
    assert resubmitted["annotation_id"] == first["annotation_id"]  # replaced in place
    shown = await progress(owner, project_id)
    assert counts(shown) == (1, 0, 4)
    assert annotators(shown) == {"ann": (1, 1, 0), "bob": (1, 1, 0)}


async def test_nobody_gets_the_same_task_twice(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann, bob = [await make_user(database, n, "annotator") for n in ("ann", "bob")]
    as_ann = Rest(http_client, ann)
    project_id, task_ids = await new_project(owner, per_task=2)

    assert (await assign(owner, project_id, ann, count=2))["assigned_count"] == 2
    assert (await assign(owner, project_id, ann, count=2))["assigned_count"] == 2
    mine = await as_ann.call("GET", "/api/v1/me/tasks", params={"project_id": project_id})
    held = [t["task_id"] for t in mine["tasks"]]
    assert held == task_ids[:4]  # four distinct tasks, in input order
    # ann skips the first: assigning by count never hands it back to her
    await as_ann.call("POST", f"/api/v1/tasks/{task_ids[0]}/skip", json={"reason": "blurry"})
    assert (await assign(owner, project_id, ann, count=5))["assigned_count"] == 1
    mine = await as_ann.call("GET", "/api/v1/me/tasks", params={"project_id": project_id})
    assert [t["task_id"] for t in mine["tasks"]] == task_ids[1:]
    assert (await assign(owner, project_id, ann, count=5))["assigned_count"] == 0
    # bob may take every task: each has one place left (the skipped one two)
    assert (await assign(owner, project_id, bob, count=10))["assigned_count"] == 5
    assert (await assign(owner, project_id, bob, count=10))["assigned_count"] == 0
    shown = await progress(owner, project_id)
    assert annotators(shown) == {"ann": (4, 0, 0), "bob": (5, 0, 0)}
    # UnassignTasks of one annotator takes back theirs only
    taken = await owner.call(
        "DELETE",
        f"/api/v1/projects/{project_id}/assignments",
        params={"annotator_id": bob.user_id, "task_ids": task_ids[1:3]},
    )
    assert taken["unassigned_count"] == 2
    shown = await progress(owner, project_id)
    assert annotators(shown) == {"ann": (4, 0, 0), "bob": (3, 0, 0)}
    assert counts(shown) == (0, 0, 5)


async def test_an_import_answer_is_one_of_n(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann, ben = [await make_user(database, n, "annotator") for n in ("ann", "ben")]
    project_id, task_ids = await new_project(owner, per_task=2)
    await assign(owner, project_id, ann, task_ids=task_ids[:1])
    await work(Rest(http_client, ann), task_ids[0], 20)
    report = await post_import(
        owner,
        project_id,
        [ls_task(image, annotations=[ls_annotation([box(21, 5)])]) for image in IMAGES[:2]],
        annotator_id=ben.user_id,
    )
    assert report["imported"] == 2
    shown = await progress(owner, project_id)
    # task 0: ann's and ben's answers; task 1: ben's, waiting for a second
    assert counts(shown) == (1, 1, 3)
    assert annotators(shown) == {"ann": (1, 1, 0), "ben": (2, 2, 0)}
    again = await post_import(
        owner,
        project_id,
        [ls_task(IMAGES[1], annotations=[ls_annotation([box(22, 5)])])],
        annotator_id=ben.user_id,
    )
    assert again["imported"] == 0
    assert again["errors"][0]["reason"].startswith("task already annotated"), again


async def test_quality_settings_are_validated_stored_and_returned(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann, bob = [await make_user(database, n, "annotator") for n in ("ann", "bob")]
    project_id, task_ids = await new_project(owner, per_task=2)
    route = f"/api/v1/projects/{project_id}/configure"
    for quality, field in [
        ({"review_share": 0}, "quality.review_share"),
        ({"review_share": 1.5}, "quality.review_share"),
        ({"annotations_per_task": 0}, "quality.annotations_per_task"),
        ({"annotations_per_task": 11}, "quality.annotations_per_task"),
        ({"ground_truth_rate": -0.1}, "quality.ground_truth_rate"),
        ({"iou_threshold": 0}, "quality.iou_threshold"),
        ({"review_mode": "sample"}, "quality.review_share"),
    ]:
        refused = await owner.call("POST", route, json={"quality": quality}, status=400)
        assert (refused["error_code"], refused["details"]["field"]) == ("INVALID_REQUEST", field)

    # in any status (this project is ready, then in progress), the status unchanged
    await assign(owner, project_id, ann, task_ids=task_ids[:2])
    await assign(owner, project_id, bob, task_ids=task_ids[:1])
    changed = await owner.call(
        "POST",
        route,
        json={"quality": {"review_mode": "sample", "review_share": 0.25, "iou_threshold": 0.7}},
    )
    assert changed["status"] == "in_progress"
    assert changed["quality"] == {
        "review_mode": "sample",
        "review_share": 0.25,
        "annotations_per_task": 2,
        "ground_truth_rate": 0.0,
        "iou_threshold": 0.7,
    }
    # absent fields are unchanged
    kept = await owner.call("POST", route, json={"quality": {"ground_truth_rate": 0.1}})
    assert kept["quality"]["review_share"] == 0.25 and kept["quality"]["iou_threshold"] == 0.7

    # lowering below the annotators a task holds is refused; after taking one back, the
    # task whose answers reach the new number is completed
    await work(Rest(http_client, ann), task_ids[0], 30)
    lowered = await owner.call(
        "POST", route, json={"quality": {"annotations_per_task": 1}}, status=409
    )
    assert lowered["details"]["task_ids"] == [task_ids[0]]
    await owner.call(
        "DELETE",
        f"/api/v1/projects/{project_id}/assignments",
        params={"annotator_id": bob.user_id, "task_ids": task_ids[:1]},
    )
    assert counts(await progress(owner, project_id)) == (0, 1, 4)
    await owner.call("POST", route, json={"quality": {"annotations_per_task": 1}})
    assert counts(await progress(owner, project_id)) == (1, 0, 4)
    # raising it again: the task waits for a second answer
    raised = await owner.call("POST", route, json={"quality": {"annotations_per_task": 3}})
    assert raised["quality"]["annotations_per_task"] == 3
    assert counts(await progress(owner, project_id)) == (0, 1, 4)


async def test_an_import_into_a_held_place_is_the_holders_work_once(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    """N = 1, as before overlap: ben's import into ann's open place completes ann's
    assignment; ann's own import of it afterwards is an error entry, not a failure."""
    owner = Rest(http_client, admin)
    ann, ben = [await make_user(database, n, "annotator") for n in ("ann", "ben")]
    project_id, task_ids = await new_project(owner, per_task=1)
    await assign(owner, project_id, ann, task_ids=task_ids[:1])
    unit = [ls_task(IMAGES[0], annotations=[ls_annotation([box(40, 5)])])]
    assert (await post_import(owner, project_id, unit, annotator_id=ben.user_id))["imported"] == 1
    shown = await progress(owner, project_id)
    assert (counts(shown), annotators(shown)) == ((1, 0, 4), {"ann": (1, 1, 0)})
    again = await post_import(owner, project_id, unit, annotator_id=ann.user_id)
    assert again["imported"] == 0
    assert again["errors"][0]["reason"].startswith("task already annotated"), again
    assert counts(await progress(owner, project_id)) == (1, 0, 4)
