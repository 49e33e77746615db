"""Pre-labels for text and classification projects: AAP JSON `span` and `class`
predictions (this platform's extension of AAP 1.x), each engine, over gRPC and REST."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson
from annotation.v1 import prediction_service_pb2

from storage.database import Database
from tests.helpers import TestUser
from tests.predictions.support import (
    ImportCall,
    aap,
    errors_of,
    seed_project,
    stored_predictions,
)
from tests.workflow.support import Rest, make_user

TEXTS = ["Анна живёт в Москве", "张伟在北京工作。", "Zoë moved to Zürich in 2019"]


def span(start: int, end: int, label: str, **fields: Any) -> dict[str, Any]:
    """A span prediction; fields: text, confidence, model_version."""
    geometry: dict[str, Any] = {"type": "span", "start": start, "end": end}
    if "text" in fields:
        geometry["text"] = fields.pop("text")
    return {"geometry": geometry, "class_name": label, **fields}


async def test_spans_become_labels_results_checked_against_the_task_text(
    database: Database,
    admin: TestUser,
    import_file: ImportCall,
    prediction_stub: Any,
) -> None:
    tasks = [{"content": text, "external_id": f"doc-{i}"} for i, text in enumerate(TEXTS)]
    project = await seed_project(
        database, owner=admin, task_type="ner", labels=("PER", "LOC", "DATE"), tasks=tasks
    )
    payload = aap(
        {
            "task_match": {"external_id": "doc-0"},
            "predictions": [
                span(0, 4, "PER", text="Анна", confidence=0.9, model_version="ner-1"),
                span(13, 19, "LOC", model_version="ner-1"),  # text filled from the task
                span(0, 4, "PER", model_version="ner-2"),
                span(13, 20, "LOC", model_version="ner-2"),  # one past the end: refused
            ],
        },
        {
            "task_match": {"external_id": "doc-1"},
            "predictions": [
                span(0, 2, "PER", text="张伟", model_version="ner-2"),
                span(3, 5, "LOC", text="上海", model_version="ner-2"),  # not the text there
                span(5, 5, "LOC", model_version="ner-2"),  # empty
            ],
        },
        {
            "task_match": {"external_id": "doc-2"},
            "predictions": [
                span(13, 19, "LOC", text="Zürich", model_version="ner-1"),
                span(23, 27, "DATE", model_version="ner-1"),
                {"geometry": {"type": "bbox", "x": 0, "y": 0, "w": 1, "h": 1}, "class_name": "LOC"},
            ],
        },
    )

    response = await import_file(admin, project.project_id, payload)

    assert (response.imported, response.skipped) == (6, 4)
    assert [e["reason"] for e in errors_of(response)] == [
        "span out of range (start=13, end=20): the task's text has 19 characters "
        "(tasks[0].predictions[3])",
        "span text '上海' is not the text at 3..5 ('北京'): offsets count characters (code "
        "points) of the task's text (tasks[1].predictions[1])",
        "empty span: 0 <= start < end is needed (start=5, end=5) (tasks[1].predictions[2])",
        "a bbox cannot go into a ner project (it takes span) (tasks[2].predictions[2])",
    ]
    rows = await stored_predictions(database, project.project_id)
    assert rows[0]["score"] == 0.9
    assert rows[0]["result"] == [
        {
            "type": "labels",
            "from_name": "label",
            "to_name": "text",
            "value": {"start": 0, "end": 4, "text": "Анна", "labels": ["PER"]},
            "score": 0.9,
        }
    ]
    assert [row["result"][0]["value"]["text"] for row in rows] == [
        "Анна",
        "Москве",
        "Анна",
        "张伟",
        "Zürich",
        "2019",
    ]
    stats = await prediction_stub.GetPredictionStats(
        prediction_service_pb2.GetPredictionStatsRequest(project_id=project.project_id),
        metadata=admin.metadata,
    )
    assert [(m.model_version, m.predictions, m.tasks_covered) for m in stats.models] == [
        ("ner-1", 4, 2),
        ("ner-2", 2, 2),
    ]


async def test_class_predictions_become_choices_for_text_and_image_classification(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    texts = await seed_project(
        database,
        owner=admin,
        task_type="text_classification",
        labels=("positive", "negative"),
        tasks=[{"content": "très bien", "external_id": "r-1"}],
    )
    images = await seed_project(
        database,
        owner=admin,
        task_type="image_classification",
        labels=("cat", "dog"),
        tasks=[{"content": "https://cdn.example.com/pets/猫.jpg"}],
    )

    text_response = await import_file(
        admin,
        texts.project_id,
        aap(
            {
                "task_match": {"external_id": "r-1"},
                "predictions": [
                    {"geometry": {"type": "class"}, "class_name": "positive", "confidence": 0.8},
                    {"geometry": {"type": "class"}, "class_name": "neutral"},
                    {"geometry": {"type": "span", "start": 0, "end": 4}, "class_name": "positive"},
                ],
            }
        ),
        model_version="sent-1",
    )
    image_response = await import_file(
        admin,
        images.project_id,
        aap(
            {
                "task_match": {"file_path": "猫.jpg"},
                "predictions": [
                    {"geometry": {"type": "class"}, "class_name": "cat", "model_version": "v1"},
                    {"geometry": {"type": "class"}, "class_name": "dog", "model_version": "v2"},
                ],
            }
        ),
    )

    assert (text_response.imported, text_response.skipped) == (1, 2)
    assert [e["reason"] for e in errors_of(text_response)] == [
        "class_name 'neutral' is not a label of the project (labels: positive, negative) "
        "(tasks[0].predictions[1])",
        "a span cannot go into a text_classification project (it takes class) "
        "(tasks[0].predictions[2])",
    ]
    [row] = await stored_predictions(database, texts.project_id)
    assert (row["model_version"], row["result"]) == (
        "sent-1",
        [
            {
                "type": "choices",
                "from_name": "label",
                "to_name": "text",
                "value": {"choices": ["positive"]},
                "score": 0.8,
            }
        ],
    )
    assert (image_response.imported, image_response.skipped) == (2, 0)
    rows = await stored_predictions(database, images.project_id)
    assert [(r["model_version"], r["result"][0]["value"]) for r in rows] == [
        ("v1", {"choices": ["cat"]}),
        ("v2", {"choices": ["dog"]}),
    ]
    assert {r["result"][0]["to_name"] for r in rows} == {"image"}


async def test_a_span_prelabel_accepted_unchanged_exports_and_counts(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    ann = Rest(http_client, await make_user(database, "ann", "annotator"))
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "ner loop",
            "task_type": "ner",
            "data": [{"id": f"doc-{i}", "content": text} for i, text in enumerate(TEXTS[:2])],
            "tags": [{"tag": "PER"}, {"tag": "LOC"}],
        },
    )
    project_id = created["project_id"]
    payload = aap(
        {
            "task_match": {"external_id": "doc-0"},
            "predictions": [
                {
                    "geometry": {"type": "span", "start": 0, "end": 4},
                    "class_name": "PER",
                    "confidence": 0.95,
                },
            ],
        },
        {
            "task_match": {"external_id": "doc-1"},
            "predictions": [
                {"geometry": {"type": "span", "start": 3, "end": 5}, "class_name": "LOC"},
            ],
        },
    )
    report = await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/predictions/import",
        files={"file": ("ner.json", payload, "application/json")},
        data={"model_version": "ner-1"},
    )
    assert (report["imported"], report["skipped"], report["errors"]) == (2, 0, [])
    await owner.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
    await owner.call(
        "POST",
        f"/api/v1/projects/{project_id}/assignments",
        json={"annotator_id": ann.user.user_id, "count": 2},
    )

    submitted: list[list[dict[str, Any]]] = []
    for step in ("accept", "modify"):
        task = (await ann.call("POST", "/api/v1/me/next-task", json={"project_id": project_id}))[
            "task"
        ]
        [prediction] = task["predictions"]
        assert prediction["result"][0]["type"] == "labels"
        await ann.call("POST", f"/api/v1/tasks/{task['task_id']}/start", json={})
        # as Label Studio's front end returns a region: an id, origin, no score
        result = copy.deepcopy(prediction["result"])
        for region in result:
            region["id"] = "Xy12ab"
            region["origin"] = "prediction"
            region.pop("score", None)
        if step == "modify":
            result[0]["value"]["labels"] = ["PER"]
        await ann.call(
            "POST",
            f"/api/v1/tasks/{task['task_id']}/annotations",
            json={"result": result, "parent_prediction_id": prediction["prediction_id"]},
        )
        submitted.append(result)

    stats = await owner.call("GET", f"/api/external/projects/{project_id}/predictions/stats")
    [model] = stats["models"]
    assert (model["model_version"], model["predictions"], model["accepted_unchanged"]) == (
        "ner-1",
        2,
        1,
    )
    assert model["modified"] == 1

    exported: dict[str, Any] = {}
    for fmt in ("json", "sharegpt", "alpaca"):
        export = await owner.call(
            "POST", f"/api/external/projects/{project_id}/export", json={"format": fmt}
        )
        download = await http_client.get(export["file_url"], headers=owner.headers)
        assert download.status_code == 200
        exported[fmt] = orjson.loads(download.content)
    by_text = {item["data"]["text"]: item for item in exported["json"]}
    assert by_text[TEXTS[0]]["annotations"][0]["result"] == submitted[0]
    answers = [orjson.loads(item["conversations"][1]["value"]) for item in exported["sharegpt"]]
    assert answers == [
        [{"text": "Анна", "label": "PER", "start": 0, "end": 4}],
        [{"text": "北京", "label": "PER", "start": 3, "end": 5}],
    ]
    assert [orjson.loads(item["output"]) for item in exported["alpaca"]] == answers
    assert [item["input"] for item in exported["alpaca"]] == TEXTS[:2]
