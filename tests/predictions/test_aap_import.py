"""AAP JSON import over gRPC: matching, rows, error entries, dry run, overwrite, audit."""

from __future__ import annotations

import pytest

from storage.database import Database
from storage.predictions import NewPrediction, insert_predictions
from storage.types import utcnow
from tests.helpers import TestUser
from tests.predictions.support import (
    ImportCall,
    aap,
    audit_entries,
    bbox,
    errors_of,
    image_tasks,
    prediction,
    seed_project,
    stored_predictions,
)


async def test_the_seed_example_imports_one_rectangle(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, labels=("stop_sign",), tasks=image_tasks(2))
    payload = aap(
        {
            "task_match": {"display_id": project.display_id(1)},
            "predictions": [
                {
                    "geometry": {"type": "bbox", "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4},
                    "class_name": "stop_sign",
                    "confidence": 0.92,
                    "model_version": "ext-yolov8-v1",
                }
            ],
        }
    )

    response = await import_file(admin, project.project_id, payload)

    assert (response.imported, response.skipped, list(response.errors), response.dry_run) == (
        1,
        0,
        [],
        False,
    )
    [row] = await stored_predictions(database, project.project_id)
    assert row["task_id"] == project.task_ids[1]
    assert row["source"] == "external_import"
    assert row["ml_backend_id"] is None
    assert row["model_version"] == "ext-yolov8-v1"
    assert row["score"] == pytest.approx(0.92)
    assert row["result"] == [
        {
            "type": "rectanglelabels",
            "from_name": "label",
            "to_name": "image",
            "value": {
                "x": 10.0,
                "y": 20.0,
                "width": 30.0,
                "height": 40.0,
                "rotation": 0,
                "rectanglelabels": ["stop_sign"],
            },
            "score": 0.92,
        }
    ]


async def test_polygon_and_multi_polygon_results_carry_the_task_image_size(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    tasks = [{"content": "https://cdn/a.jpg", "metadata": {"width": 640, "height": 480}}]
    project = await seed_project(database, owner=admin, task_type="polygon", tasks=tasks)
    triangle = [[0.1, 0.1], [0.5, 0.1], [0.3, 0.4]]
    square = [[0.6, 0.6], [0.8, 0.6], [0.8, 0.8], [0.6, 0.8]]
    payload = aap(
        {
            "task_match": {"display_id": project.display_id(0)},
            "predictions": [
                prediction({"type": "polygon", "points": triangle}),
                prediction(
                    {"type": "multi_polygon", "polygons": [triangle, square]}, confidence=0.5
                ),
            ],
        }
    )

    response = await import_file(admin, project.project_id, payload, model_version="fallback-1")

    assert (response.imported, response.skipped) == (2, 0)
    polygon, multi = await stored_predictions(database, project.project_id)
    assert polygon["model_version"] == "fallback-1"
    assert polygon["score"] is None
    [region] = polygon["result"]
    assert region["type"] == "polygonlabels"
    assert (region["original_width"], region["original_height"]) == (640, 480)
    assert region["value"] == {
        "points": [[10.0, 10.0], [50.0, 10.0], [30.0, 40.0]],
        "polygonlabels": ["cat"],
    }
    assert "score" not in region
    assert [r["value"]["points"] for r in multi["result"]] == [
        [[10.0, 10.0], [50.0, 10.0], [30.0, 40.0]],
        [[60.0, 60.0], [80.0, 60.0], [80.0, 80.0], [60.0, 80.0]],
    ]
    assert {r["score"] for r in multi["result"]} == {0.5}
    assert multi["score"] == 0.5


async def test_display_id_of_another_project_is_not_found(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    mine = await seed_project(database, owner=admin, tasks=image_tasks(1))
    theirs = await seed_project(database, owner=admin, tasks=image_tasks(1))
    payload = aap(
        {"task_match": {"display_id": theirs.display_id(0)}, "predictions": [prediction()] * 2},
        {"task_match": {"display_id": "T-999999999"}, "predictions": [prediction()]},
    )

    response = await import_file(admin, mine.project_id, payload)

    assert (response.imported, response.skipped) == (0, 3)
    assert errors_of(response) == [
        {
            "task_match": {"display_id": theirs.display_id(0)},
            "reason": "task not found in project (tasks[0])",
        },
        {
            "task_match": {"display_id": "T-999999999"},
            "reason": "task not found in project (tasks[1])",
        },
    ]
    assert await stored_predictions(database, theirs.project_id) == []


async def test_file_path_matches_exactly_then_by_trailing_segments(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    tasks = [
        {"content": "https://cdn.example.com/train/a.jpg?sig=1"},
        {"content": "https://cdn.example.com/val/a.jpg"},
        {"content": "https://cdn.example.com/val/b.jpg"},
        {"content": "local/path/c%20d.jpg"},
        {"content": "https://cdn.example.com/val/b.jpg"},  # same path: the first one wins
    ]
    project = await seed_project(database, owner=admin, tasks=tasks)
    cases = [
        ("https://cdn.example.com/val/b.jpg", 2),  # exact, first of two
        ("a.jpg", 0),  # last segment, first in project order
        ("val/a.jpg", 1),  # trailing segments
        ("/val/a.jpg", 1),
        ("c d.jpg", 3),  # percent-escapes do not matter
        ("other/a.jpg", None),
        ("b.png", None),
    ]
    payload = aap(
        *({"task_match": {"file_path": path}, "predictions": [prediction()]} for path, _ in cases)
    )

    response = await import_file(admin, project.project_id, payload)

    rows = await stored_predictions(database, project.project_id)
    expected = [project.task_ids[index] for _, index in cases if index is not None]
    assert [row["task_id"] for row in rows] == expected
    assert [error["task_match"]["file_path"] for error in errors_of(response)] == [
        "other/a.jpg",
        "b.png",
    ]


async def test_external_id_matches_within_the_project_and_keys_fall_through_in_order(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(3))
    other = await seed_project(database, owner=admin, tasks=image_tasks(3))
    payload = aap(
        {"task_match": {"external_id": "ext-2"}, "predictions": [prediction()]},
        # display_id wins over the other keys
        {
            "task_match": {"display_id": project.display_id(0), "external_id": "ext-2"},
            "predictions": [prediction()],
        },
        # a display_id of another project falls through to file_path, then external_id
        {
            "task_match": {"display_id": other.display_id(0), "external_id": "ext-1"},
            "predictions": [prediction()],
        },
        {
            "task_match": {"file_path": "nope.jpg", "external_id": "ext-1"},
            "predictions": [prediction()],
        },
        {"task_match": {"external_id": "ext-404"}, "predictions": [prediction()]},
    )

    response = await import_file(admin, project.project_id, payload)

    rows = await stored_predictions(database, project.project_id)
    ids = project.task_ids
    assert [row["task_id"] for row in rows] == [ids[2], ids[0], ids[1], ids[1]]
    assert errors_of(response) == [
        {"task_match": {"external_id": "ext-404"}, "reason": "task not found in project (tasks[4])"}
    ]
    assert await stored_predictions(database, other.project_id) == []


@pytest.mark.parametrize(
    ("task", "reason"),
    [
        ({"predictions": []}, "task_match is missing"),
        ({"task_match": "T-1", "predictions": []}, "task_match is not an object"),
        ({"task_match": {}, "predictions": []}, "task_match has none of display_id"),
        ({"task_match": {"display_id": 7}, "predictions": []}, "task_match.display_id must be"),
        ({"task_match": {"display_id": "101"}, "predictions": []}, "is not of the form T-<number>"),
        ({"task_match": {"external_id": "ext-0"}}, "predictions is missing (tasks[0])"),
        ({"task_match": {"external_id": "ext-0"}, "predictions": {}}, "predictions must be a list"),
    ],
)
async def test_unusable_task_entries_are_error_entries(
    database: Database, admin: TestUser, import_file: ImportCall, task: dict, reason: str
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    good = {"task_match": {"external_id": "ext-0"}, "predictions": [prediction()]}

    response = await import_file(admin, project.project_id, aap(task, good))

    assert response.imported == 1
    [error] = errors_of(response)
    assert error["task_match"] == task.get("task_match")
    assert reason in error["reason"]


BAD_PREDICTIONS = [
    ("not an object", "a prediction must be an object"),
    ({"class_name": "cat"}, "geometry is missing"),
    (prediction({"type": "polyline", "points": []}), "unsupported geometry kind: 'polyline'"),
    (prediction({"x": 0.1}), "geometry has no type"),
    (prediction(bbox(x=0.9, w=0.2)), "bbox out of range"),
    (prediction(bbox(x=-0.1)), "bbox out of range"),
    (prediction(bbox(w=0)), "degenerate bbox"),
    (prediction({"type": "bbox", "x": "0.1", "y": 0, "w": 1, "h": 1}), "bbox needs numbers"),
    (prediction({"type": "polygon", "points": [[0, 0], [1, 1]]}), "at least 3 [x, y] pairs"),
    (prediction({"type": "multi_polygon", "polygons": []}), "multi_polygon needs polygons"),
    (prediction(class_name=None), "class_name is missing"),
    (prediction(class_name="zebra"), "class_name 'zebra' is not a label of the project"),
    (prediction(confidence=1.5), "confidence must be a number in 0..1, got 1.5"),
    (prediction(confidence=True), "confidence must be a number in 0..1"),
    (prediction(model_version=3), "model_version must be a string"),
]


TRIANGLE = {"type": "polygon", "points": [[0, 0], [1, 0], [1, 1]]}
# (checked in a polygon project: an object_detection project refuses every polygon)
BAD_POLYGONS = [
    (prediction({"type": "polygon", "points": [[0, 0], [0.5, 0.5], [1, 1]]}), "degenerate"),
    (prediction({"type": "polygon", "points": [[0, 0], [2, 0], [1, 1]]}), "point 1 out of range"),
]


@pytest.mark.parametrize(
    ("bad", "reason", "task_type"),
    [(bad, reason, "object_detection") for bad, reason in BAD_PREDICTIONS]
    + [(bad, reason, "polygon") for bad, reason in BAD_POLYGONS],
)
async def test_each_invalid_prediction_is_an_error_entry_and_the_rest_imports(
    database: Database,
    admin: TestUser,
    import_file: ImportCall,
    bad: object,
    reason: str,
    task_type: str,
) -> None:
    project = await seed_project(database, owner=admin, task_type=task_type, tasks=image_tasks(1))
    match = {"display_id": project.display_id(0)}
    good = prediction() if task_type == "object_detection" else prediction(TRIANGLE)
    payload = aap({"task_match": match, "predictions": [good, bad, good]})

    response = await import_file(admin, project.project_id, payload)

    assert (response.imported, response.skipped) == (2, 1)
    [error] = errors_of(response)
    assert error["task_match"] == match
    assert reason in error["reason"]
    assert error["reason"].endswith("(tasks[0].predictions[1])")


@pytest.mark.parametrize(
    ("task_type", "geometry", "reason"),
    [
        ("object_detection", {"type": "polygon", "points": [[0, 0], [1, 0], [1, 1]]}, "a polygon"),
        ("polygon", bbox(), "a bbox cannot go into a polygon project"),
        ("ner", bbox(), "a bbox cannot go into a ner project (it takes span)"),
    ],
)
async def test_a_geometry_the_task_type_cannot_hold_is_an_error_entry(
    database: Database,
    admin: TestUser,
    import_file: ImportCall,
    task_type: str,
    geometry: dict,
    reason: str,
) -> None:
    tasks = [{"content": "some text", "external_id": "ext-0"}]
    project = await seed_project(database, owner=admin, task_type=task_type, tasks=tasks)
    payload = aap({"task_match": {"external_id": "ext-0"}, "predictions": [prediction(geometry)]})

    response = await import_file(admin, project.project_id, payload)

    assert (response.imported, response.skipped) == (0, 1)
    assert reason in response.errors[0].reason


async def test_any_class_name_is_accepted_when_the_project_has_no_labels(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, labels=(), tasks=image_tasks(1))
    payload = aap(
        {"task_match": {"external_id": "ext-0"}, "predictions": [prediction(class_name="zebra")]}
    )

    response = await import_file(admin, project.project_id, payload)

    assert response.imported == 1


async def test_minor_versions_and_unknown_fields_are_accepted(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    payload = aap(
        {
            "task_match": {"external_id": "ext-0", "future_key": 1},
            "predictions": [prediction(attributes={"occluded": True})],
            "notes": "ignored",
        },
        schema_version="1.7",
    )

    response = await import_file(admin, project.project_id, payload)

    assert (response.imported, response.skipped) == (1, 0)


async def test_dry_run_reports_the_same_and_writes_nothing(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(2))
    payload = aap(
        {"task_match": {"external_id": "ext-0"}, "predictions": [prediction(), prediction()]},
        {"task_match": {"external_id": "ext-9"}, "predictions": [prediction()]},
        {"task_match": {"external_id": "ext-1"}, "predictions": [prediction(confidence=2)]},
    )

    preview = await import_file(admin, project.project_id, payload, dry_run=True)

    assert (preview.imported, preview.skipped, preview.dry_run) == (2, 2, True)
    assert await stored_predictions(database, project.project_id) == []
    assert await audit_entries(database, "predictions.import") == []

    real = await import_file(admin, project.project_id, payload)

    assert (real.imported, real.skipped, real.dry_run) == (2, 2, False)
    assert list(real.errors) == list(preview.errors)
    assert len(await stored_predictions(database, project.project_id)) == 2


async def test_overwrite_replaces_only_earlier_imports_of_the_matched_tasks(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(3))
    ids = project.task_ids
    async with database.transaction() as conn:
        await insert_predictions(
            conn,
            project_id=project.project_id,
            source="ml_backend",
            predictions=[NewPrediction(ids[0], "backend-v1", 0.5, "[]")],
            created_at=utcnow(),
            ml_backend_id=7,
        )
    first = aap(
        *(
            {"task_match": {"external_id": f"ext-{i}"}, "predictions": [prediction()]}
            for i in range(3)
        )
    )
    await import_file(admin, project.project_id, first, model_version="v1")

    second = aap(
        {"task_match": {"external_id": "ext-0"}, "predictions": [prediction(), prediction()]},
        {"task_match": {"external_id": "ext-1"}, "predictions": []},
    )
    response = await import_file(
        admin, project.project_id, second, model_version="v2", overwrite_existing=True
    )

    assert response.imported == 2
    rows = await stored_predictions(database, project.project_id)
    summary = sorted((row["task_id"], row["source"], row["model_version"]) for row in rows)
    assert summary == sorted(
        [
            (ids[0], "ml_backend", "backend-v1"),
            (ids[0], "external_import", "v2"),
            (ids[0], "external_import", "v2"),
            (ids[2], "external_import", "v1"),
        ]
    )
    backend = next(row for row in rows if row["source"] == "ml_backend")
    assert backend["ml_backend_id"] == 7
    assert (await audit_entries(database, "predictions.import"))[-1]["detail"]["replaced"] == 2


async def test_overwrite_clears_a_matched_task_even_when_its_new_predictions_are_refused(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    match = {"external_id": "ext-0"}
    await import_file(
        admin, project.project_id, aap({"task_match": match, "predictions": [prediction()]})
    )

    response = await import_file(
        admin,
        project.project_id,
        aap({"task_match": match, "predictions": [prediction(confidence=9)]}),
        overwrite_existing=True,
    )

    assert (response.imported, response.skipped) == (0, 1)
    assert await stored_predictions(database, project.project_id) == []


async def test_without_overwrite_imports_add_up(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    payload = aap({"task_match": {"external_id": "ext-0"}, "predictions": [prediction()]})

    await import_file(admin, project.project_id, payload)
    await import_file(admin, project.project_id, payload)

    assert len(await stored_predictions(database, project.project_id)) == 2


async def test_every_real_import_writes_an_audit_entry(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    payload = aap({"task_match": {"external_id": "ext-0"}, "predictions": [prediction(), {"x": 1}]})

    await import_file(
        admin, project.project_id, payload, model_version="m-1", overwrite_existing=True
    )

    [entry] = await audit_entries(database, "predictions.import")
    assert entry["actor_id"] == admin.user_id
    assert entry["project_id"] == project.project_id
    assert entry["detail"] == {
        "format": "aap_json",
        "imported": 1,
        "skipped": 1,
        "error_count": 1,
        "overwrite_existing": True,
        "model_version_fallback": "m-1",
        "replaced": 0,
    }
