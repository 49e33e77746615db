"""Export a varied project of every task type in every format it allows, into a directory.

    .venv/bin/python scripts/export_samples.py OUT_DIR [--database-url URL]

The projects are written deterministically (fixed ids, times and contents: unicode,
metadata, several annotations per task, predictions, rotated rectangles, polygons,
regions without a size on purpose where a format allows it; then a realistic detection
project: no size in metadata, recorded sizes, negatives with and without a known size,
names colliding by suffix, case and normalization, two model versions, absurd
coordinates, whose exports' warnings are written beside them), and the clock the
export service reads is fixed, so two runs of the same code give byte-identical
files: run it before and after a change to the export code and compare the
directories (`cmp` / `diff -r`).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Table

import server.exports.service as export_service
from annotation_api.settings import Settings
from server.auth import Caller
from server.exports.formats.registry import formats_for
from server.vocabulary import IMAGE_TASK_TYPES, TaskType
from storage.bulk import insert_many
from storage.database import Database
from storage.migrate import upgrade_to_head
from storage.models import Annotation, Prediction, Task
from storage.projects import LabelRecord, insert_project
from storage.users import insert_user

WHEN = datetime(2026, 2, 3, 10, 30, 15, 123456, tzinfo=UTC)
LABELS = ("cat", "狗", 'bird & "friends"')
TASKS_PER_PROJECT = 60


def _stored(moment: datetime) -> datetime:
    """A time as a UTC column stores it (bulk rows skip the column type)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _rectangle(i: int, label: str, *, rotation: float = 0.0, sized: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"r{i}",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "value": {
            "x": (i * 7.31) % 90 - (5 if i % 11 == 0 else 0),
            "y": (i * 3.17) % 80,
            "width": 10.5 + i % 13 + (30 if i % 9 == 0 else 0),
            "height": 8.25 + i % 7,
            "rotation": rotation,
            "rectanglelabels": [label],
        },
    }
    if sized:
        item["original_width"] = 640 + i % 3
        item["original_height"] = 480
    return item


def _polygon(i: int, label: str) -> dict[str, Any]:
    points = [[(i * 1.7 + k * 9.1) % 100, (i * 2.3 + k * k * 4.4) % 100] for k in range(3 + i % 4)]
    if i % 10 == 0:
        points.append([120.0, -3.5])  # outside the image: clamped
    return {
        "type": "polygonlabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 1024,
        "original_height": 768,
        "value": {"points": points, "polygonlabels": [label]},
    }


def _result(task_type: TaskType, i: int, version: int) -> list[dict[str, Any]]:
    label = LABELS[(i + version) % len(LABELS)]
    if task_type in (TaskType.TEXT_CLASSIFICATION, TaskType.IMAGE_CLASSIFICATION):
        to_name = "image" if task_type in IMAGE_TASK_TYPES else "text"
        return [
            {"type": "choices", "from_name": "c", "to_name": to_name, "value": {"choices": [label]}}
        ]
    if task_type is TaskType.NER:
        return [
            {
                "type": "labels",
                "from_name": "l",
                "to_name": "text",
                "value": {"start": 0, "end": 2, "text": "张三", "labels": [label]},
            },
            {
                "type": "labels",
                "from_name": "l",
                "to_name": "text",
                "value": {"start": 3, "end": 5, "text": "北京", "labels": [LABELS[0]]},
            },
        ]
    regions: list[dict[str, Any]] = []
    if task_type is TaskType.OBJECT_DETECTION or i % 2:
        regions.append(_rectangle(i, label, rotation=(i * 37.5) % 360 if i % 3 == 0 else 0.0))
        regions.append(_rectangle(i + 100, LABELS[0], sized=i % 4 != 0))
        if i % 5 == 0:
            regions.append(_rectangle(i + 7, "unlisted label", rotation=90.0))
    if task_type is TaskType.POLYGON:
        regions.append(_polygon(i, label))
    return regions


def _content(task_type: TaskType, i: int) -> str:
    if task_type not in IMAGE_TASK_TYPES:
        return f'张三在北京工作, 第{i}条 "quoted" =1+1\n\ttabs, émoji 🐱'
    if i % 7 == 0:
        return f"s3://bucket/数据/img {i % 3}.PNG?x=1"
    if i % 8 == 0:
        return "https://img.example.com/same/name.jpg"  # the same name twice: made unique
    return f"https://img.example.com/cam_{i % 4}/frame%20{i}.jpeg"


def _metadata(i: int) -> str:
    # tasks whose result holds no pixel size (empty or pending) have one here
    needs_size = i % 4 == 0 or i % 17 == 0 or i % 10 == 9
    if i % 9 == 0 and not needs_size:
        return "{}"
    values: dict[str, Any] = {"batch": f"b{i % 3}", "备注": "unicode ✓", "n": i, "f": i / 7}
    if needs_size:
        values.update(width=800, height=600)
    if i % 6 == 0:
        values["nested"] = {"a": [1, 2.5, None, True]}
    return orjson.dumps(values).decode()


async def _seed(database: Database, task_type: TaskType, owner: str, annotators: list[str]) -> str:
    project_id = f"proj-{task_type.value}"
    tasks, annotations, predictions = (
        cast(Table, model.__table__) for model in (Task, Annotation, Prediction)
    )
    async with database.transaction() as conn:
        await insert_project(
            conn,
            project_id=project_id,
            name=f"样例 {task_type.value}",
            description="",
            task_type=task_type.value,
            status="in_progress",
            external_id=None,
            label_config="<View/>",
            owner_id=owner,
            project_labels=[LabelRecord(name, "#3366ff") for name in LABELS],
            now=WHEN,
        )
        first_id = await _next_id(conn, tasks)
        count = TASKS_PER_PROJECT
        await insert_many(
            conn,
            tasks,
            columns=(
                "position",
                "external_id",
                "content",
                "file_path",
                "metadata_json",
                "status",
                "completed_at",
            ),
            rows=(
                (
                    i,
                    f"ext-{i}" if i % 5 else None,
                    _content(task_type, i),
                    _content(task_type, i) if i % 2 and task_type in IMAGE_TASK_TYPES else None,
                    _metadata(i),
                    "pending" if i % 10 == 9 else "completed",
                    None if i % 10 == 9 else _stored(WHEN + timedelta(seconds=i, microseconds=i)),
                )
                for i in range(count)
            ),
            constants={"project_id": project_id, "updated_at": WHEN},
        )
        prediction_rows = []
        annotation_rows = []
        for i in range(count):
            task_id = first_id + i
            for p in range(i % 3):
                prediction_rows.append(
                    (
                        task_id,
                        "model" if p == 0 else "import",
                        f"v{p}.0" if p else None,
                        None if i % 4 == 0 else 0.5 + p / 10 + i / 1000,
                        orjson.dumps(_result(task_type, i, p + 5)).decode(),
                        _stored(WHEN + timedelta(minutes=p)),
                    )
                )
            if i % 10 == 9:
                continue
            for version in range(1 + (i % 3 == 0) + (i % 7 == 0)):
                annotation_rows.append(
                    (
                        task_id,
                        annotators[(i + version) % len(annotators)],
                        orjson.dumps(_result(task_type, i, version)).decode() if i % 17 else "[]",
                        _stored(WHEN + timedelta(hours=version)),
                        _stored(WHEN + timedelta(hours=version, seconds=(i * 13) % 5)),
                        None if version else (i if i % 3 == 1 else None),
                        None if i % 2 else 12.5 + i,
                    )
                )
        await insert_many(
            conn,
            predictions,
            columns=("task_id", "source", "model_version", "score", "result_json", "created_at"),
            rows=prediction_rows,
            constants={"project_id": project_id},
        )
        await insert_many(
            conn,
            annotations,
            columns=(
                "task_id",
                "user_id",
                "result_json",
                "created_at",
                "updated_at",
                "parent_prediction_id",
                "lead_time_seconds",
            ),
            rows=annotation_rows,
            constants={"project_id": project_id},
        )
    return project_id


# One folder whose names collide by suffix, case and normalization, and awkward names.
REALISTIC_NAMES = (
    "x.png", "x.jpg", "X.png", "x.jpeg", "caf\u00e9.png", "cafe\u0301.png", "猫%20咪.jpg",
    "a%20b.png", "A%20B.png",
)  # fmt: skip


def _realistic_result(i: int, version: int) -> list[dict[str, Any]]:
    """Several boxes, as a model version drew them; regions sized on even tasks only."""
    regions = [_rectangle(i * 3 + k + version, LABELS[k % 2], sized=i % 2 == 0) for k in range(3)]
    if i % 5 == 4:  # coordinates an older import let through: left out, named
        regions[0]["value"]["x"] = 1e308
        regions[1]["value"]["width"] = -5
    return regions


async def _seed_realistic(database: Database, owner: str, annotators: list[str]) -> str:
    """An object_detection project as real ones come: no size in metadata (one task
    has one), sizes recorded with the submits of some tasks, negatives with and
    without a known size, colliding names, two model versions, absurd coordinates."""
    project_id = "proj-realistic"
    tasks, annotations, predictions = (
        cast(Table, model.__table__) for model in (Task, Annotation, Prediction)
    )
    count = 3 * len(REALISTIC_NAMES)
    async with database.transaction() as conn:
        await insert_project(
            conn,
            project_id=project_id,
            name="realistic",
            description="",
            task_type=TaskType.OBJECT_DETECTION.value,
            status="in_progress",
            external_id=None,
            label_config="<View/>",
            owner_id=owner,
            project_labels=[LabelRecord(name, "#3366ff") for name in LABELS],
            now=WHEN,
        )
        first_id = await _next_id(conn, tasks)
        await insert_many(
            conn,
            tasks,
            columns=(
                "position",
                "external_id",
                "content",
                "file_path",
                "metadata_json",
                "status",
                "completed_at",
                "image_width",
                "image_height",
            ),
            rows=(
                (
                    i,
                    f"ext-{i}",
                    f"https://img.example.com/dup{i // len(REALISTIC_NAMES) or ''}/"
                    + REALISTIC_NAMES[i % len(REALISTIC_NAMES)],
                    None,
                    '{"width": 1024, "height": 768}' if i == 5 else "{}",
                    "completed",
                    _stored(WHEN + timedelta(seconds=i)),
                    None if i % 3 == 2 else 640 + i,
                    None if i % 3 == 2 else 480,
                )
                for i in range(count)
            ),
            constants={"project_id": project_id, "updated_at": WHEN},
        )
        await insert_many(
            conn,
            predictions,
            columns=("task_id", "source", "model_version", "score", "result_json", "created_at"),
            rows=[
                (
                    first_id + i,
                    "external_import",
                    version,
                    0.5 + i / 100,
                    orjson.dumps(_realistic_result(i, v)).decode(),
                    _stored(WHEN + timedelta(minutes=v)),
                )
                for i in range(count)
                for v, version in enumerate(("det-v1", "det-v2"))
            ],
            constants={"project_id": project_id},
        )
        await insert_many(
            conn,
            annotations,
            columns=("task_id", "user_id", "result_json", "created_at", "updated_at"),
            rows=[
                (
                    first_id + i,
                    annotators[i % len(annotators)],
                    "[]" if i % 4 == 3 else orjson.dumps(_realistic_result(i, 1)).decode(),
                    _stored(WHEN + timedelta(hours=1)),
                    _stored(WHEN + timedelta(hours=1)),
                )
                for i in range(count)
            ],
            constants={"project_id": project_id},
        )
    return project_id


async def _next_id(conn: Any, table: Table) -> int:
    from sqlalchemy import func, select

    return int((await conn.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar()) + 1


async def export_all(out_dir: Path, database_url: str | None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or f"sqlite+aiosqlite:///{scratch}/samples.db"
        await asyncio.to_thread(upgrade_to_head, url)
        settings = Settings(database_url=url, export_dir=Path(scratch) / "exports")
        settings.resolved_export_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.resolved_database_url)
        export_service.utcnow = lambda: WHEN  # type: ignore[attr-defined]
        try:
            async with database.transaction() as conn:
                owner = (await insert_user(conn, username="owner", role="admin")).user_id
                annotators = [
                    (await insert_user(conn, username=name, role="annotator")).user_id
                    for name in ("carol", "王五")
                ]
            service = export_service.ExportService(settings, database)
            caller = Caller(user_id=owner, username="owner", role="admin")
            for task_type in TaskType:
                project_id = await _seed(database, task_type, owner, annotators)
                for format_name in formats_for(task_type.value):
                    for completed_only in (True, False):
                        record = await service.create_export(
                            caller,
                            project_id=project_id,
                            format_name=format_name,
                            completed_only=completed_only,
                            callback_url=None,
                        )
                        assert record.storage_path is not None
                        source = settings.resolved_export_dir / record.storage_path
                        suffix = "all" if not completed_only else "completed"
                        name = f"{task_type.value}-{format_name}-{suffix}{source.suffix}"
                        (out_dir / name).write_bytes(source.read_bytes())
                        print(name, record.total_exported, source.stat().st_size)
            # last, so that the files above stay as they were before it was added
            project_id = await _seed_realistic(database, owner, annotators)
            for format_name in ("json", "coco", "yolo", "pascal_voc"):
                record = await service.create_export(
                    caller,
                    project_id=project_id,
                    format_name=format_name,
                    completed_only=True,
                    callback_url=None,
                )
                assert record.storage_path is not None
                source = settings.resolved_export_dir / record.storage_path
                name = f"realistic-{format_name}{source.suffix}"
                (out_dir / name).write_bytes(source.read_bytes())
                warnings = [[w.display_id, w.message] for w in record.warnings]
                (out_dir / f"realistic-{format_name}-warnings.json").write_bytes(
                    orjson.dumps(warnings, option=orjson.OPT_INDENT_2)
                )
                print(name, record.total_exported, source.stat().st_size, len(warnings))
        finally:
            await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(export_all(args.out_dir, args.database_url))


if __name__ == "__main__":
    main()
