"""Helpers of the prediction import tests.

Projects and tasks are written straight into the database (storage tables),
so that each test states exactly the file paths, external ids, metadata and
owners its matching rules need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from annotation.v1 import common_pb2, prediction_service_pb2
from sqlalchemy import insert, select

from storage.database import Database
from storage.ids import new_project_id
from storage.models import AuditLog, Label, Prediction, Project, Task
from storage.types import utcnow
from tests.helpers import TestUser

Request = prediction_service_pb2.ImportPredictionsRequest
# import_file(user, project_id, payload, **options) -> ImportPredictionsResponse
ImportCall = Callable[..., Any]
FORMATS = {"aap_json": common_pb2.IMPORT_FORMAT_AAP_JSON, "coco": common_pb2.IMPORT_FORMAT_COCO}


@dataclass(frozen=True)
class SeededProject:
    project_id: str
    task_ids: list[int]

    def display_id(self, index: int) -> str:
        return f"T-{self.task_ids[index]}"


async def seed_project(
    database: Database,
    *,
    owner: TestUser,
    task_type: str = "object_detection",
    labels: Sequence[str] = ("cat", "dog"),
    tasks: Sequence[dict[str, Any]] = (),
) -> SeededProject:
    """A project with tasks; each task dict may give content, external_id, metadata."""
    project_id = new_project_id()
    now = utcnow()
    image_type = task_type in {"object_detection", "polygon", "image_classification"}
    async with database.transaction() as conn:
        await conn.execute(
            insert(Project.__table__).values(
                id=project_id,
                name="import test",
                description="",
                task_type=task_type,
                status="draft",
                external_id=None,
                label_config="<View/>",
                owner_id=owner.user_id,
                total_tasks=len(tasks),
                completed_tasks=0,
                in_progress_tasks=0,
                created_at=now,
                updated_at=now,
            )
        )
        if labels:
            await conn.execute(
                insert(Label.__table__),
                [
                    {"project_id": project_id, "position": i, "name": name, "color": "#112233"}
                    for i, name in enumerate(labels)
                ],
            )
        rows = [
            {
                "project_id": project_id,
                "position": position,
                "external_id": task.get("external_id"),
                "content": task["content"],
                "file_path": task["content"] if image_type else None,
                "metadata_json": orjson.dumps(task.get("metadata", {})).decode(),
                "status": "pending",
                "updated_at": now,
                "completed_at": None,
            }
            for position, task in enumerate(tasks)
        ]
        if rows:
            await conn.execute(insert(Task.__table__), rows)
        result = await conn.execute(
            select(Task.__table__.c.id)
            .where(Task.__table__.c.project_id == project_id)
            .order_by(Task.__table__.c.position)
        )
        task_ids = list(result.scalars())
    return SeededProject(project_id, task_ids)


def image_tasks(count: int, *, prefix: str = "https://cdn.example.com/images/img") -> list[dict]:
    return [{"content": f"{prefix}_{i}.jpg", "external_id": f"ext-{i}"} for i in range(count)]


async def stored_predictions(database: Database, project_id: str) -> list[dict[str, Any]]:
    """Every prediction row of the project, oldest first, result decoded."""
    table = Prediction.__table__
    async with database.read() as conn:
        rows = await conn.execute(
            select(table).where(table.c.project_id == project_id).order_by(table.c.id)
        )
        return [{**row._mapping, "result": orjson.loads(row.result_json)} for row in rows]


async def audit_entries(database: Database, action: str) -> list[dict[str, Any]]:
    table = AuditLog.__table__
    async with database.read() as conn:
        rows = await conn.execute(select(table).where(table.c.action == action))
        return [{**row._mapping, "detail": orjson.loads(row.detail_json)} for row in rows]


def aap(*tasks: dict[str, Any], schema_version: str = "1.0") -> bytes:
    return orjson.dumps({"schema_version": schema_version, "tasks": list(tasks)})


def bbox(x: float = 0.1, y: float = 0.2, w: float = 0.3, h: float = 0.4) -> dict[str, Any]:
    return {"type": "bbox", "x": x, "y": y, "w": w, "h": h}


def prediction(geometry: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {"geometry": geometry or bbox(), "class_name": "cat", **fields}


def errors_of(response: prediction_service_pb2.ImportPredictionsResponse) -> list[dict]:
    return [
        {"task_match": orjson.loads(error.task_match), "reason": error.reason}
        for error in response.errors
    ]
