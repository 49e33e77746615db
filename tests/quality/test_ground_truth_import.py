"""The annotation import's ground_truth flag: every imported task becomes a ground-truth
task, its imported annotation the known answer; a dry run counts them and marks nothing."""

from __future__ import annotations

import httpx

from storage.database import Database
from tests.annotations_import.support import (
    IMAGES,
    box,
    init_project,
    ls_annotation,
    ls_task,
    post_import,
)
from tests.helpers import TestUser
from tests.workflow.support import Rest, make_user


async def test_a_ground_truth_import_marks_its_tasks(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    annotator = await make_user(database, "gt-ånn", "annotator")
    project_id, ids = await init_project(owner)
    await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
    tasks = [
        ls_task(IMAGES[0], task_id=int(ids[0]), annotations=[ls_annotation([box(10, 10)])]),
        ls_task(IMAGES[1], task_id=int(ids[1]), annotations=[ls_annotation([])]),  # a negative
        ls_task(IMAGES[2], task_id=int(ids[2])),  # nothing to import
    ]
    flag = {"ground_truth": "true"}
    dry = await post_import(
        owner, project_id, tasks, annotator_id=annotator.user_id, params={"dry_run": "true"},
        data=flag,
    )  # fmt: skip
    assert (dry["imported"], dry["ground_truth_tasks"]) == (2, 2)
    quality = await owner.call("GET", f"/api/v1/projects/{project_id}/quality")
    assert quality["ground_truth_tasks"] == 0
    done = await post_import(owner, project_id, tasks, annotator_id=annotator.user_id, data=flag)
    assert (done["imported"], done["ground_truth_tasks"]) == (2, 2)
    quality = await owner.call("GET", f"/api/v1/projects/{project_id}/quality")
    assert quality["ground_truth_tasks"] == 2
    # unmarking them needs no annotation; marking the one without an answer is refused
    unmarked = await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/ground-truth",
        json={"task_ids": ids[:3], "ground_truth": False},
    )
    assert (unmarked["changed_count"], unmarked["ground_truth_tasks"]) == (2, 0)
    # an import without the flag marks nothing
    plain = await post_import(
        owner,
        project_id,
        [ls_task(IMAGES[3], task_id=int(ids[3]), annotations=[ls_annotation([box(5, 5)])])],
        annotator_id=annotator.user_id,
    )
    assert (plain["imported"], plain.get("ground_truth_tasks", 0)) == (1, 0)
