"""The raw engine: the least work that produces the same rows and files, with
stdlib sqlite3 and orjson, in the bench process.

Its database has the service's schema (the same migrations, so the same
indexes) and the service's SQLite settings (WAL, synchronous=NORMAL, foreign
keys on). Each operation mirrors one figure of the service on the same rows:

* insert: one `executemany` of the task rows in one transaction (init);
* export: one SELECT of tasks joined with their annotations, every record
  streamed to a file with orjson (json export);
* import: orjson parse of the AAP file, one `executemany` of the prediction
  rows (prediction import);
* progress: the counters' point queries (progress).

The ratio service / raw engine is then the price of the API, validation,
transport and abstraction layers.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.datasets import (
    EXPORT_METADATA_JSON,
    IMPORT_LABELS,
    InitRows,
    annotation_result,
    image_url,
)
from bench.process import settle_disk
from storage.migrate import upgrade_to_head

OWNER_ID = "user_000000raw000"
ANNOTATOR_ID = "user_000000raw001"
BATCH = 100_000


def _now_text() -> str:
    """A timestamp as the service's UTCDateTime columns store it on SQLite."""
    return str(datetime.now(UTC).replace(tzinfo=None))


class RawEngine:
    """A migrated SQLite file driven with stdlib sqlite3 only."""

    @staticmethod
    def migrate(path: Path) -> None:
        """Give the file the service's schema (blocking: run it in a thread)."""
        upgrade_to_head(f"sqlite+aiosqlite:///{path}")

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.connection.execute(f"PRAGMA {pragma}")
        self._projects = 0
        now = _now_text()
        self.connection.executemany(
            "INSERT INTO users (id, username, role, created_at) VALUES (?, ?, ?, ?)",
            [
                (OWNER_ID, "raw-owner", "admin", now),
                (ANNOTATOR_ID, "raw-annotator", "annotator", now),
            ],
        )

    def close(self) -> None:
        self.connection.close()

    def new_project(self, task_type: str) -> str:
        self._projects += 1
        project_id = f"proj_{self._projects:012x}"
        now = _now_text()
        self.connection.execute(
            "INSERT INTO projects (id, name, description, task_type, status, external_id,"
            " label_config, owner_id, total_tasks, completed_tasks, in_progress_tasks,"
            " created_at, updated_at) VALUES (?, 'raw', '', ?, 'draft', NULL, '<View/>', ?,"
            " 0, 0, 0, ?, ?)",
            (project_id, task_type, OWNER_ID, now, now),
        )
        return project_id

    def insert_tasks(self, rows: InitRows) -> float:
        """Seconds to insert the init rows (one transaction, like the service)."""
        project_id = self.new_project("text_classification")
        settle_disk()
        started = time.perf_counter()
        now = _now_text()
        metadata = rows.metadata_json
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO tasks (project_id, position, external_id, content, file_path,"
            " metadata_json, status, updated_at, completed_at)"
            " VALUES (?, ?, ?, ?, NULL, ?, 'pending', ?, NULL)",
            (
                (project_id, i, ext, content, metadata, now)
                for i, (ext, content) in enumerate(
                    zip(rows.external_ids, rows.contents, strict=True)
                )
            ),
        )
        db.execute(
            "UPDATE projects SET total_tasks = total_tasks + ? WHERE id = ?",
            (rows.count, project_id),
        )
        db.execute("COMMIT")
        return time.perf_counter() - started

    def insert_annotated(self, count: int) -> tuple[str, float]:
        """An export project of `count` annotated tasks; its id and the seconds it took."""
        project_id = self.new_project("object_detection")
        settle_disk()
        started = time.perf_counter()
        now = _now_text()
        db = self.connection
        for first in range(0, count, BATCH):
            size = min(BATCH, count - first)
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute("SELECT coalesce(max(id), 0) FROM tasks")
            base = cursor.fetchone()[0]
            db.executemany(
                "INSERT INTO tasks (id, project_id, position, external_id, content, file_path,"
                " metadata_json, status, updated_at, completed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'completed', ?, ?)",
                (
                    (
                        base + 1 + i - first,
                        project_id,
                        i,
                        f"ext-{i}",
                        image_url(i),
                        image_url(i),
                        EXPORT_METADATA_JSON,
                        now,
                        now,
                    )
                    for i in range(first, first + size)
                ),
            )
            db.executemany(
                "INSERT INTO annotations (task_id, project_id, user_id, result_json, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (base + 1 + i - first, project_id, ANNOTATOR_ID, annotation_result(i), now, now)
                    for i in range(first, first + size)
                ),
            )
            db.execute("COMMIT")
        return project_id, time.perf_counter() - started

    def export_json(self, project_id: str, path: Path) -> tuple[float, int]:
        """Seconds to stream the project's tasks with their annotations to a JSON
        array (one element per line, like the service's json export); file size."""
        settle_disk()
        started = time.perf_counter()
        rows = self.connection.execute(
            "SELECT t.id, t.external_id, t.content, t.metadata_json, t.status, t.completed_at,"
            " a.id, u.username, a.created_at, a.updated_at, a.result_json"
            " FROM tasks t LEFT JOIN annotations a ON a.task_id = t.id"
            " LEFT JOIN users u ON u.id = a.user_id"
            " WHERE t.project_id = ? AND t.status = 'completed' ORDER BY t.id, a.id",
            (project_id,),
        )
        dumps, loads = orjson.dumps, orjson.loads
        with path.open("wb") as out:
            out.write(b"[")
            first = True
            for tid, ext, content, meta, status, done, aid, user, created, updated, result in rows:
                record: dict[str, Any] = {
                    "task_id": str(tid),
                    "display_id": f"T-{tid}",
                    "external_id": ext,
                    "original_data": {**loads(meta), "image": content},
                    "annotations": [
                        {
                            "id": str(aid),
                            "annotator": user,
                            "created_at": created,
                            "updated_at": updated,
                            "result": loads(result),
                        }
                    ]
                    if aid is not None
                    else [],
                    "predictions": [],
                    "status": status,
                    "annotator": user,
                    "completed_at": done,
                }
                out.write(b"\n" if first else b",\n")
                out.write(dumps(record))
                first = False
            out.write(b"\n]\n")
        return time.perf_counter() - started, path.stat().st_size

    def import_aap(self, project_id: str, path: Path) -> float:
        """Seconds to parse an AAP file and insert its predictions (bbox -> percent)."""
        settle_disk()
        started = time.perf_counter()
        document = orjson.loads(path.read_bytes())
        now = _now_text()
        rows = []
        dumps = orjson.dumps
        for entry in document["tasks"]:
            task_id = int(entry["task_match"]["display_id"][2:])
            for prediction in entry["predictions"]:
                box = prediction["geometry"]
                result = [
                    {
                        "type": "rectanglelabels",
                        "from_name": "label",
                        "to_name": "image",
                        "value": {
                            "x": box["x"] * 100,
                            "y": box["y"] * 100,
                            "width": box["w"] * 100,
                            "height": box["h"] * 100,
                            "rotation": 0,
                            "rectanglelabels": [prediction["class_name"]],
                        },
                        "score": prediction["confidence"],
                    }
                ]
                rows.append(
                    (
                        task_id,
                        project_id,
                        prediction.get("model_version"),
                        prediction.get("confidence"),
                        dumps(result).decode(),
                        now,
                    )
                )
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO predictions (task_id, project_id, source, model_version, score,"
            " result_json, ml_backend_id, created_at)"
            " VALUES (?, ?, 'external_import', ?, ?, ?, NULL, ?)",
            rows,
        )
        db.execute("COMMIT")
        return time.perf_counter() - started

    def import_project(self, count: int) -> tuple[str, list[int]]:
        """A project of `count` image tasks to import into; its id and task ids."""
        project_id = self.new_project("object_detection")
        now = _now_text()
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO labels (project_id, position, name, color) VALUES (?, ?, ?, '#3366ff')",
            [(project_id, i, name) for i, name in enumerate(IMPORT_LABELS)],
        )
        db.executemany(
            "INSERT INTO tasks (project_id, position, external_id, content, file_path,"
            " metadata_json, status, updated_at, completed_at)"
            " VALUES (?, ?, ?, ?, ?, '{}', 'pending', ?, NULL)",
            ((project_id, i, f"img-{i}", image_url(i), image_url(i), now) for i in range(count)),
        )
        db.execute("COMMIT")
        ids = [
            row[0]
            for row in db.execute(
                "SELECT id FROM tasks WHERE project_id = ? ORDER BY id", (project_id,)
            )
        ]
        return project_id, ids

    def progress_project(self, total: int, *, annotators: int) -> str:
        """A project whose counters say `total` tasks, with `annotators` annotators."""
        project_id = self.new_project("text_classification")
        db = self.connection
        db.execute("UPDATE projects SET total_tasks = ? WHERE id = ?", (total, project_id))
        now = _now_text()
        for n in range(annotators):
            user_id = f"{project_id}_{n}"[-32:]
            db.execute(
                "INSERT INTO users (id, username, role, created_at) VALUES (?, ?, 'annotator', ?)",
                (user_id, f"raw-annotator-{project_id}-{n}", now),
            )
            db.execute(
                "INSERT INTO project_annotators (project_id, user_id, assigned_count,"
                " completed_count, in_progress_count) VALUES (?, ?, 100, 25, 25)",
                (project_id, user_id),
            )
        return project_id

    def progress_seconds(self, project_id: str, calls: int) -> list[float]:
        """Per-call seconds of the progress queries (counters, then annotators)."""
        db = self.connection
        timings = []
        for _ in range(calls):
            started = time.perf_counter()
            db.execute(
                "SELECT total_tasks, completed_tasks, in_progress_tasks, updated_at"
                " FROM projects WHERE id = ?",
                (project_id,),
            ).fetchone()
            db.execute(
                "SELECT pa.user_id, u.username, pa.assigned_count, pa.completed_count,"
                " pa.in_progress_count FROM project_annotators pa JOIN users u"
                " ON u.id = pa.user_id WHERE pa.project_id = ? ORDER BY u.username",
                (project_id,),
            ).fetchall()
            timings.append(time.perf_counter() - started)
        return timings
