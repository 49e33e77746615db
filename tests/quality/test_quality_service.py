"""QualityService end to end: agreement kept as answers arrive and change, ground truth
marked and unmarked, progress fields, and who may call what (gRPC and REST).

The project is the realistic detection project (no image sizes in metadata, colliding
names, two model versions' pre-labels). A second annotator's answer on the same task is
written as SubmitAnnotation writes it under overlap (`second_answer`: the scoring call,
then the row), since assigning one task to two annotators is the overlap setting's work.
"""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import orjson
import pytest
from annotation.v1 import quality_service_pb2 as Q
from annotation.v1.quality_service_pb2_grpc import QualityServiceStub

from server.quality.scoring import score_answer
from storage.database import Database
from storage.types import utcnow
from storage.workflow import insert_annotation
from tests import realistic
from tests.helpers import TestUser, rpc_error
from tests.workflow.support import Rest, make_user


def box(x: float, y: float, w: float, h: float, label: str = "car") -> dict[str, Any]:
    value = {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]}
    return {"type": "rectanglelabels", "from_name": "label", "to_name": "image", "value": value}


async def second_answer(
    database: Database, project_id: str, task_id: str, user: TestUser, result: list[Any]
) -> int:
    """Another annotator's answer to the task, scored and written as a submit writes it."""
    result_json = orjson.dumps(result).decode()
    async with database.transaction() as conn:
        scores = await score_answer(
            conn, task_id=int(task_id), annotation_id=None, user_id=user.user_id,
            result_json=result_json,
        )  # fmt: skip
        return await insert_annotation(
            conn,
            task_id=int(task_id),
            project_id=project_id,
            user_id=user.user_id,
            result_json=result_json,
            parent_prediction_id=None,
            lead_time_seconds=None,
            matches_parent=None,
            agreement=scores.agreement,
            ground_truth_score=scores.ground_truth_score,
            now=utcnow(),
        )


async def submit(rest: Rest, task_id: str, result: list[Any]) -> str:
    await rest.call("POST", f"/api/v1/tasks/{task_id}/start", json={})
    done = await rest.call("POST", f"/api/v1/tasks/{task_id}/annotations", json={"result": result})
    return str(done["annotation_id"])


async def test_agreement_and_ground_truth_follow_the_answers(
    database: Database,
    admin: TestUser,
    other_admin: TestUser,
    http_client: httpx.AsyncClient,
    channel: grpc.aio.Channel,
) -> None:
    owner = Rest(http_client, admin)
    ann_user = await make_user(database, "ann", "annotator")
    ann = Rest(http_client, ann_user)
    bob = await make_user(database, "bøb", "annotator")
    created = await owner.call(
        "POST", "/api/external/projects/init", json=realistic.detection_init(name="q")
    )
    pid = created["project_id"]
    tasks = await owner.call("GET", f"/api/external/projects/{pid}/tasks")
    ids = [t["task_id"] for t in tasks["tasks"]]
    await owner.call("POST", f"/api/v1/projects/{pid}/configure", json={"ready": True})
    await owner.call(
        "POST",
        f"/api/v1/projects/{pid}/assignments",
        json={"annotator_id": ann_user.user_id, "task_ids": ids[:3]},
    )
    empty = await owner.call("GET", f"/api/v1/projects/{pid}/agreement")
    assert (empty.get("agreement"), empty["tasks_scored"], empty["iou_threshold"]) == (None, 0, 0.5)

    # ann: two cars on t0, a negative on t1, a car on t2 (a sub-pixel overrun past 100)
    a0 = await submit(ann, ids[0], [box(10, 10, 20, 20), box(60, 60, 10, 10)])
    await submit(ann, ids[1], [])
    await submit(ann, ids[2], [box(80, 80, 20.000001, 10)])
    # bob: one of ann's cars and a person on t0 (F1 2*1/4), agrees on the negative (1.0),
    # a person where ann drew a car on t2 (0.0)
    await second_answer(
        database, pid, ids[0], bob, [box(11, 10, 20, 20), box(0, 0, 5, 5, "person")]
    )
    await second_answer(database, pid, ids[1], bob, [])
    b2 = await second_answer(database, pid, ids[2], bob, [box(80, 80, 20, 10, "person")])

    report = await owner.call("GET", f"/api/v1/projects/{pid}/agreement")
    assert report["agreement"] == pytest.approx(0.5) and report["tasks_scored"] == 3
    assert report.get("krippendorff_alpha") is None  # not a choice project
    by_name = {a["username"]: a for a in report["annotators"]}
    assert set(by_name) == {"ann", "bøb"}
    assert by_name["ann"]["score"] == pytest.approx(0.5) and by_name["ann"]["tasks"] == 3
    # ann: 1 matched of 3 boxes drawn, bob drew 3 boxes on the same tasks
    assert by_name["ann"]["precision"] == pytest.approx(1 / 3)
    assert by_name["ann"]["recall"] == pytest.approx(1 / 3)
    labels = {s["label"]: s for s in report["labels"]}
    assert labels["car"]["score"] == pytest.approx((2 / 3 + 0) / 2)  # t0: 2*1/3, t2: 0
    assert labels["person"]["score"] == 0.0

    # ann moves her second car onto bob's person: t0 goes from 0.5 to 1.0
    await ann.call(
        "PATCH",
        f"/api/v1/annotations/{a0}",
        json={"result": [box(10, 10, 20, 20), box(0, 0, 5, 5, "person")]},
    )
    task = await owner.call("GET", f"/api/v1/tasks/{ids[0]}/agreement")
    assert task["agreement"] == pytest.approx(1.0)
    assert [a["username"] for a in task["annotations"]] == ["ann", "bøb"]
    assert all(a["score"] == pytest.approx(1.0) for a in task["annotations"])
    report = await owner.call("GET", f"/api/v1/projects/{pid}/agreement")
    assert report["agreement"] == pytest.approx(2 / 3)
    progress = await owner.call("GET", f"/api/external/projects/{pid}/progress")
    assert progress["agreement"] == pytest.approx(2 / 3)
    assert progress.get("ground_truth_accuracy") is None
    (ann_progress,) = progress["annotators"]
    assert ann_progress["agreement"] == pytest.approx(2 / 3)

    # t2 becomes ground truth: its latest answer (bob's) is the known one, ann's answer is
    # scored against it and t2 leaves the agreement
    marked = await owner.call(
        "POST",
        f"/api/v1/projects/{pid}/ground-truth",
        json={"task_ids": [ids[2]], "ground_truth": True},
    )
    assert (marked["changed_count"], marked["ground_truth_tasks"]) == (1, 1)
    again = await owner.call(
        "POST",
        f"/api/v1/projects/{pid}/ground-truth",
        json={"task_ids": [ids[2]], "ground_truth": True},
    )
    assert (again["changed_count"], again["ground_truth_tasks"]) == (0, 1)
    report = await owner.call("GET", f"/api/v1/projects/{pid}/agreement")
    assert (report["agreement"], report["tasks_scored"]) == (pytest.approx(1.0), 2)
    quality = await owner.call("GET", f"/api/v1/projects/{pid}/quality")
    assert quality["ground_truth_tasks"] == 1 and quality["accuracy"] == 0.0
    assert (quality["precision"], quality["recall"]) == (0.0, 0.0)
    assert [a["username"] for a in quality["annotators"]] == ["ann"]
    task = await owner.call("GET", f"/api/v1/tasks/{ids[2]}/agreement")
    assert [a["username"] for a in task["annotations"]] == ["ann"]  # bob's is the known answer
    progress = await owner.call("GET", f"/api/external/projects/{pid}/progress")
    assert progress["ground_truth_accuracy"] == 0.0
    assert progress["annotators"][0]["ground_truth_accuracy"] == 0.0
    # the admin sees the mark, the known answer and the agreement; the annotator sees none
    seen = (await owner.call("GET", f"/api/v1/tasks/{ids[2]}"))["task"]
    assert seen["ground_truth"] is True
    assert [a["ground_truth"] for a in seen["annotations"]] == [False, True]
    assert (await owner.call("GET", f"/api/v1/tasks/{ids[0]}"))["task"]["agreement"] == 1.0
    for task_id in (ids[0], ids[2]):
        mine = (await ann.call("GET", f"/api/v1/tasks/{task_id}"))["task"]
        assert not mine.get("ground_truth") and mine.get("agreement") is None
        assert not any(a.get("ground_truth") for a in mine["annotations"])

    # a task without an annotation cannot be ground truth; nothing changes
    refused = await http_client.post(
        f"/api/v1/projects/{pid}/ground-truth",
        json={"task_ids": [ids[2], ids[3]], "ground_truth": False},
        headers=owner.headers,
    )
    assert refused.status_code == 200  # unmarking needs no annotation
    assert refused.json()["ground_truth_tasks"] == 0
    refused = await http_client.post(
        f"/api/v1/projects/{pid}/ground-truth",
        json={"task_ids": [ids[3]], "ground_truth": True},
        headers=owner.headers,
    )
    assert (refused.status_code, refused.json()["error_code"]) == (409, "INVALID_STATE")
    report = await owner.call("GET", f"/api/v1/projects/{pid}/agreement")
    assert (report["agreement"], report["tasks_scored"]) == (pytest.approx(2 / 3), 3)
    quality = await owner.call("GET", f"/api/v1/projects/{pid}/quality")
    assert (quality.get("accuracy"), quality["annotators"]) == (None, [])
    assert b2  # bob's answer is a task answer again

    # who may call what
    stub = QualityServiceStub(channel)
    calls = [
        ("GetAgreement", Q.GetAgreementRequest(project_id=pid), "PROJECT_NOT_FOUND"),
        ("GetQualityReport", Q.GetQualityReportRequest(project_id=pid), "PROJECT_NOT_FOUND"),
        ("GetTaskAgreement", Q.GetTaskAgreementRequest(task_id=ids[0]), "TASK_NOT_FOUND"),
        (
            "SetGroundTruth",
            Q.SetGroundTruthRequest(project_id=pid, task_ids=[ids[0]], ground_truth=True),
            "PROJECT_NOT_FOUND",
        ),
    ]
    for name, request, hidden in calls:
        for user, expected in ((other_admin, hidden), (ann_user, "PERMISSION_DENIED")):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await getattr(stub, name)(request, metadata=user.metadata)
            assert rpc_error(caught.value).error_code == expected, (name, user.username)
    other = Rest(http_client, other_admin)
    for path in (f"/api/v1/projects/{pid}/agreement", f"/api/v1/projects/{pid}/quality"):
        assert (await other.call("GET", path, status=404))["error_code"] == "PROJECT_NOT_FOUND"
        assert (await ann.call("GET", path, status=403))["error_code"] == "PERMISSION_DENIED"
    body = {"task_ids": [ids[0]], "ground_truth": True}
    path = f"/api/v1/projects/{pid}/ground-truth"
    assert (await other.call("POST", path, json=body, status=404))["error_code"] == (
        "PROJECT_NOT_FOUND"
    )
    assert (await ann.call("POST", path, json=body, status=403))["error_code"] == (
        "PERMISSION_DENIED"
    )
    # a task of another project is not found, whoever owns it
    mine = await other.call(
        "POST", "/api/external/projects/init", json=realistic.detection_init(name="o")
    )
    body = {"task_ids": [ids[0]], "ground_truth": True}
    path = f"/api/v1/projects/{mine['project_id']}/ground-truth"
    assert (await other.call("POST", path, json=body, status=404))["error_code"] == (
        "TASK_NOT_FOUND"
    )
    assert (await ann.call("GET", f"/api/v1/tasks/{ids[0]}/agreement", status=403))[
        "error_code"
    ] == "PERMISSION_DENIED"
