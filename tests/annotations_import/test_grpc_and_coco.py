"""Annotation import over gRPC (a client stream of chunks), files made by Label Studio's
own SDK, and COCO files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import httpx
import orjson
import pytest
from annotation.v1 import annotation_service_pb2, annotation_service_pb2_grpc, workflow_service_pb2
from label_studio_sdk.label_interface import LabelInterface

import server.annotations_import.service as import_service
from server.projects.label_config import build_label_config
from storage.database import Database
from tests.annotations_import.support import (
    IMAGES,
    box,
    init_project,
    ls_annotation,
    ls_task,
    post_import,
    progress,
)
from tests.helpers import TestUser, rpc_error
from tests.workflow.support import Rest, make_user

Request = annotation_service_pb2.ImportAnnotationsRequest
TEXTS = ["great product", "arrived broken", "works as described"]


async def import_over_grpc(
    stub: annotation_service_pb2_grpc.AnnotationServiceStub,
    user: TestUser,
    project_id: str,
    payload: bytes,
    **fields: Any,
) -> annotation_service_pb2.ImportAnnotationsResponse:
    async def requests() -> AsyncIterator[Request]:
        yield Request(project_id=project_id, **fields)
        for start in range(0, len(payload), 100):
            yield Request(chunk=payload[start : start + 100])

    return await stub.ImportAnnotations(requests(), metadata=user.metadata)


@pytest.fixture
def annotation_stub(
    make_stub: Callable[..., Any],
) -> annotation_service_pb2_grpc.AnnotationServiceStub:
    stub: annotation_service_pb2_grpc.AnnotationServiceStub = make_stub(
        annotation_service_pb2_grpc.AnnotationServiceStub
    )
    return stub


async def test_tasks_generated_by_the_label_studio_sdk_import_over_grpc(
    database: Database,
    admin: TestUser,
    http_client: httpx.AsyncClient,
    annotation_stub: annotation_service_pb2_grpc.AnnotationServiceStub,
    workflow_stub: Any,
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "reviews",
            "task_type": "text_classification",
            "data": [{"content": text} for text in TEXTS],
            "tags": [{"tag": "pos"}, {"tag": "neg"}],
        },
    )
    project_id = created["project_id"]
    labels = LabelInterface(build_label_config("text_classification", [("pos", "#111111")]))
    export = []
    for text in TEXTS[:2]:
        task = labels.generate_complete_sample_task()
        task["data"]["text"] = text
        export.append(task)

    report = await import_over_grpc(
        annotation_stub,
        admin,
        project_id,
        orjson.dumps(export),
        annotator_id=ann.user_id,
        format=annotation_service_pb2.ANNOTATION_IMPORT_FORMAT_LABEL_STUDIO_JSON,
        model_version="fallback-v",
    )

    assert (report.imported, report.predictions_imported, report.skipped) == (2, 2, 0)
    assert list(report.errors) == []
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    first = tasks["tasks"][0]["task_id"]
    shown = await workflow_stub.GetTask(
        workflow_service_pb2.GetTaskRequest(task_id=first), metadata=admin.metadata
    )
    [annotation] = shown.task.annotations
    assert annotation.annotator.user_id == ann.user_id
    assert orjson.loads(annotation.result)[0]["value"] == {"choices": ["pos"]}
    [prediction] = shown.task.predictions
    assert prediction.model_version == "sample model version"
    assert (await progress(owner, project_id))["completed_tasks"] == 2


async def test_an_annotator_may_not_import_over_grpc(
    database: Database,
    admin: TestUser,
    annotator: TestUser,
    http_client: httpx.AsyncClient,
    annotation_stub: annotation_service_pb2_grpc.AnnotationServiceStub,
) -> None:
    project_id, _ = await init_project(Rest(http_client, admin))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await import_over_grpc(
            annotation_stub, annotator, project_id, b"[]", annotator_id=annotator.user_id
        )
    error = rpc_error(raised.value)
    assert (error.code, error.error_code) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PERMISSION_DENIED",
    )


def coco_file(annotations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "images": [
            {"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in range(4)
        ],
        "categories": [
            {"id": 1, "name": "cat"},
            {"id": 2, "name": "dog"},
            {"id": 3, "name": "owl"},
        ],
        "annotations": annotations,
    }


def coco_box(image_id: int, x: float, category_id: int = 1) -> dict[str, Any]:
    return {"id": x, "image_id": image_id, "category_id": category_id, "bbox": [x, 48, 64, 96]}


async def test_a_coco_file_gives_one_annotation_per_image(
    database: Database,
    admin: TestUser,
    http_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # batches of two annotations: image 0's three boxes run over a batch boundary
    monkeypatch.setattr(import_service, "BATCH_SIZE", 2)
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_project(owner)
    payload = coco_file(
        [
            coco_box(0, 64),
            coco_box(0, 128, 2),
            coco_box(0, 192),
            coco_box(1, 64),
            coco_box(2, 64, 3),  # owl is not a label of the project: image 2 is refused
            coco_box(2, 128),
            coco_box(7, 64),
        ]
    )

    report = await post_import(
        owner, project_id, payload, annotator_id=ann.user_id, params={"format": "coco"}
    )

    # image 3 has no annotations: its task is completed as a negative
    assert (report["imported"], report["skipped"]) == (3, 2)
    assert [e["reason"] for e in report["errors"]] == [
        "class_name 'owl' is not a label of the project (labels: cat, dog) (annotations[4])",
        "image_id 7 is not in images (annotations[6])",
    ]
    task = (await owner.call("GET", f"/api/v1/tasks/{task_ids[0]}"))["task"]
    [annotation] = task["annotations"]
    regions = annotation["result"]
    assert [(r["type"], r["value"]["rectanglelabels"], r["value"]["x"]) for r in regions] == [
        ("rectanglelabels", ["cat"], 10.0),
        ("rectanglelabels", ["dog"], 20.0),
        ("rectanglelabels", ["cat"], 30.0),
    ]
    assert (regions[0]["original_width"], regions[0]["value"]["height"]) == (640, 20.0)
    refused = (await owner.call("GET", f"/api/v1/tasks/{task_ids[2]}"))["task"]
    assert (refused["status"], refused["annotations"]) == ("pending", [])
    negative = (await owner.call("GET", f"/api/v1/tasks/{task_ids[3]}"))["task"]
    assert [a["result"] for a in negative["annotations"]] == [[]]
    assert (await progress(owner, project_id))["completed_tasks"] == 3


async def test_a_fault_after_written_batches_leaves_nothing(
    database: Database,
    admin: TestUser,
    http_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # batches of one task: the first tasks are written before the cut end is reached
    monkeypatch.setattr(import_service, "BATCH_SIZE", 1)
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    project_id, task_ids = await init_project(owner)
    whole = orjson.dumps(
        [ls_task(image, annotations=[ls_annotation([box(1, 1)])]) for image in IMAGES]
    )
    cut = whole[: len(whole) - 40]

    body = await post_import(owner, project_id, cut, annotator_id=ann.user_id, status=422)

    assert body["error_code"] == "INVALID_IMPORT_FILE"
    shown = await progress(owner, project_id)
    assert (shown["completed_tasks"], shown["annotators"]) == (0, [])
    for task_id in task_ids:
        task = (await owner.call("GET", f"/api/v1/tasks/{task_id}"))["task"]
        assert (task["status"], task["annotations"], task["assignee"]) == ("pending", [], None)


async def test_coco_segmentations_become_one_polygon_annotation(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = await make_user(database, "ann", "annotator")
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "polygons",
            "task_type": "polygon",
            "data": [{"content": IMAGES[0]}],
            "tags": [{"tag": "cat"}],
        },
    )
    project_id = created["project_id"]
    triangle = [64.0, 48.0, 320.0, 48.0, 192.0, 240.0]
    payload = coco_file(
        [
            {
                "id": 1,
                "image_id": 0,
                "category_id": 1,
                "bbox": [64, 48, 256, 192],
                "segmentation": [triangle],
            }
        ]
    )

    report = await post_import(
        owner, project_id, payload, annotator_id=ann.user_id, params={"format": "coco"}
    )

    assert report["imported"] == 1
    # the file's other images have no annotations: negatives of tasks this project lacks
    assert [e["reason"] for e in report["errors"]] == [
        f"task not found in project (images[{i}])" for i in (1, 2, 3)
    ]
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    task = (await owner.call("GET", f"/api/v1/tasks/{tasks['tasks'][0]['task_id']}"))["task"]
    [region] = task["annotations"][0]["result"]
    assert region["type"] == "polygonlabels"
    assert region["value"]["polygonlabels"] == ["cat"]
    assert region["value"]["points"] == [[10.0, 10.0], [50.0, 10.0], [30.0, 50.0]]
