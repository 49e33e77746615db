"""Measure an export: wall time of CreateExport and the server's peak RSS.

Usage: python scripts/bench_export.py --tasks 100000 --formats json,coco [--dir DIR]

Builds an object_detection project of N completed tasks, each with one
annotation of two rectangles, through the storage bulk paths (SQLite under
--dir, reused when it already holds that many tasks). Then, per format, starts
a gRPC server in a child process, calls CreateExport over gRPC, and reads the
child's peak resident set size (VmHWM) before and after the export, and the CPU
time it spent (on a shared machine, CPU time varies less than wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
import orjson
from annotation.v1 import common_pb2, export_service_pb2, export_service_pb2_grpc
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotation_api.settings import Settings  # noqa: E402
from server.accounts import create_token, create_user  # noqa: E402
from storage.bulk import insert_many  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import Annotation, Label, Project, Task  # noqa: E402
from storage.types import utcnow  # noqa: E402

PROJECT_ID = "proj_0000000bench"
LABELS = ("cat", "dog", "bird")
BATCH = 50_000
TOKEN = "bench-token-0123456789"


def result_json(index: int) -> str:
    return orjson.dumps(
        [
            {
                "type": "rectanglelabels",
                "from_name": "label",
                "to_name": "image",
                "original_width": 1280,
                "original_height": 720,
                "value": {
                    "x": 10 + index % 50,
                    "y": 20,
                    "width": 30,
                    "height": 40,
                    "rotation": 0,
                    "rectanglelabels": [LABELS[index % 3]],
                },
            },
            {
                "type": "rectanglelabels",
                "from_name": "label",
                "to_name": "image",
                "original_width": 1280,
                "original_height": 720,
                "value": {
                    "x": 5,
                    "y": 5,
                    "width": 10,
                    "height": 10,
                    "rotation": 0,
                    "rectanglelabels": [LABELS[(index + 1) % 3]],
                },
            },
        ]
    ).decode()


async def build(database: Database, tasks: int) -> None:
    async with database.read() as conn:
        have = (
            await conn.execute(
                select(func.count())
                .select_from(Task.__table__)
                .where(Task.__table__.c.project_id == PROJECT_ID)
            )
        ).scalar()
    if have == tasks:
        return
    if have:
        raise SystemExit(f"{database.url} holds {have} tasks: use another --dir")
    user = await create_user(database, username="bench", role="admin")
    await create_token(database, username="bench", secret=TOKEN)
    annotator = await create_user(database, username="annotator", role="annotator")
    now = utcnow()
    async with database.transaction() as conn:
        await conn.execute(
            Project.__table__.insert().values(
                id=PROJECT_ID,
                name="bench",
                description="",
                task_type="object_detection",
                status="completed",
                external_id=None,
                label_config="<View/>",
                owner_id=user.user_id,
                total_tasks=tasks,
                completed_tasks=tasks,
                in_progress_tasks=0,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            Label.__table__.insert(),
            [
                {"project_id": PROJECT_ID, "position": i, "name": n, "color": "#112233"}
                for i, n in enumerate(LABELS)
            ],
        )
    started = time.perf_counter()
    for first in range(0, tasks, BATCH):
        count = min(BATCH, tasks - first)
        async with database.transaction() as conn:
            base = (await conn.execute(select(func.max(Task.__table__.c.id)))).scalar() or 0
            await insert_many(
                conn,
                Task.__table__,
                columns=("position", "external_id", "content", "file_path", "metadata_json"),
                rows=(
                    (
                        first + i,
                        f"ext-{first + i}",
                        f"https://img.example.com/{first + i}/photo.jpg",
                        f"https://img.example.com/{first + i}/photo.jpg",
                        '{"batch":"b1"}',
                    )
                    for i in range(count)
                ),
                constants={
                    "project_id": PROJECT_ID,
                    "status": "completed",
                    "updated_at": now,
                    "completed_at": now,
                },
            )
            await insert_many(
                conn,
                Annotation.__table__,
                columns=("task_id", "result_json"),
                rows=((base + 1 + i, result_json(first + i)) for i in range(count)),
                constants={
                    "project_id": PROJECT_ID,
                    "user_id": annotator.user_id,
                    "created_at": now,
                    "updated_at": now,
                },
            )
    print(f"built {tasks} tasks in {time.perf_counter() - started:.1f} s", flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(settings_env: dict[str, str], fmt: str) -> None:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        env={**os.environ, **settings_env},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        before = peak_rss_mib(child.pid)
        cpu_before = cpu_seconds(child.pid)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = export_service_pb2_grpc.ExportServiceStub(channel)
            started = time.perf_counter()
            response = await stub.CreateExport(
                export_service_pb2.CreateExportRequest(
                    project_id=PROJECT_ID,
                    format=common_pb2.ExportFormat.Value("EXPORT_FORMAT_" + fmt.upper()),
                ),
                metadata=(("authorization", f"Bearer {TOKEN}"),),
            )
            elapsed = time.perf_counter() - started
        after = peak_rss_mib(child.pid)
        cpu = cpu_seconds(child.pid) - cpu_before
        print(
            f"{fmt}: {response.total_exported} tasks, {response.file_size / 2**20:.1f} MiB file, "
            f"{elapsed:.2f} s (server CPU {cpu:.2f} s), "
            f"server peak RSS {after:.0f} MiB (at start {before:.0f} MiB)",
            flush=True,
        )
    finally:
        child.terminate()
        child.wait()


async def serve() -> None:
    from server.app import start_server

    settings = Settings()
    database = Database(settings.resolved_database_url)
    running = await start_server(settings, database)
    print(running.port, flush=True)
    await running.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--formats", default="json,coco")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/annotation-bench"))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    data_dir = (args.dir / str(args.tasks)).resolve()
    env = {
        "ANNOTATION_API_DATA_DIR": str(data_dir),
        "ANNOTATION_API_GRPC_PORT": "0",
        "ANNOTATION_API_HOST": "127.0.0.1",
    }
    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)

    async def prepare() -> None:
        database = Database(settings.resolved_database_url)
        try:
            await build(database, args.tasks)
        finally:
            await database.dispose()

    asyncio.run(prepare())
    for fmt in args.formats.split(","):
        asyncio.run(measure(env, fmt))


if __name__ == "__main__":
    main()
