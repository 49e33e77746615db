"""Helpers of the annotation import tests: a project made by a real init, files, calls."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tests.workflow.support import Rest

ROUTE = "/api/v1/projects/{}/annotations/import"


def box(x: float, y: float, label: str = "cat") -> dict[str, Any]:
    """A Label Studio rectangle region (percent of the image)."""
    return {
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 640,
        "original_height": 480,
        "value": {
            "x": x,
            "y": y,
            "width": 10,
            "height": 20,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def ls_task(
    image: str,
    *,
    task_id: int | None = None,
    annotations: list[dict[str, Any]] | None = None,
    predictions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A task as Label Studio exports it (JSON)."""
    task: dict[str, Any] = {
        "id": task_id if task_id is not None else 9000,
        "data": {"image": image},
        "annotations": annotations if annotations is not None else [],
        "predictions": predictions if predictions is not None else [],
        "meta": {},
        "created_at": "2024-05-01T10:00:00.000000Z",
        "updated_at": "2024-05-01T10:00:00.000000Z",
        "inner_id": 1,
        "total_annotations": 1,
        "cancelled_annotations": 0,
        "total_predictions": 0,
        "project": 3,
        "updated_by": None,
        "file_upload": None,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "comment_authors": [],
    }
    return task


def ls_annotation(
    result: list[dict[str, Any]], *, lead_time: float | None = 12.5, cancelled: bool = False
) -> dict[str, Any]:
    return {
        "id": 1,
        "completed_by": 1,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": "2024-05-01T10:00:00.000000Z",
        "updated_at": "2024-05-01T10:00:00.000000Z",
        "draft_created_at": None,
        "lead_time": lead_time,
        "prediction": {},
        "result_count": len(result),
        "unique_id": "5b2f3d3e",
        "import_id": None,
        "last_action": None,
        "task": 1,
        "project": 3,
        "updated_by": 1,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
    }


IMAGES = [f"https://img.example/{i}.jpg" for i in range(4)]


async def init_project(owner: Rest, *, count: int = 4, name: str = "gt") -> tuple[str, list[str]]:
    """A real object_detection project (labels cat, dog) of `count` images; its task ids."""
    created = await owner.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": name,
            "task_type": "object_detection",
            "data": [
                {
                    "id": f"img-{i}",
                    "content": f"https://img.example/{i}.jpg",
                    "metadata": {"width": 640, "height": 480},
                }
                for i in range(count)
            ],
            "tags": [{"tag": "cat"}, {"tag": "dog"}],
        },
    )
    project_id = created["project_id"]
    tasks = await owner.call("GET", f"/api/external/projects/{project_id}/tasks")
    return project_id, [t["task_id"] for t in tasks["tasks"]]


async def post_import(
    rest: Rest,
    project_id: str,
    payload: bytes | Any,
    *,
    annotator_id: str,
    status: int = 200,
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    response = await rest.client.post(
        ROUTE.format(project_id),
        params=params or {},
        data={"annotator_id": annotator_id, **(data or {})},
        files={"file": ("export.json", body, "application/json")},
        headers={**rest.headers, **(headers or {})},
    )
    assert response.status_code == status, response.text
    return response.json()


async def progress(owner: Rest, project_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await owner.call(
        "GET", f"/api/external/projects/{project_id}/progress"
    )
    return result


async def listed(owner: Rest, project_id: str) -> dict[str, Any]:
    found = await owner.call("GET", "/api/external/projects", params={"page_size": 100})
    [project] = [p for p in found["projects"] if p["project_id"] == project_id]
    result: dict[str, Any] = project
    return result


async def export_json(owner: Rest, client: httpx.AsyncClient, project_id: str) -> list[Any]:
    export = await owner.call(
        "POST", f"/api/external/projects/{project_id}/export", json={"completed_only": False}
    )
    download = await client.get(export["file_url"], headers=owner.headers)
    assert download.status_code == 200
    result: list[Any] = orjson.loads(download.content)
    return result
