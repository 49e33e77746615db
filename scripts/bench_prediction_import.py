"""Measure prediction import through REST: wall time and the server's peak RSS.

    .venv/bin/python scripts/bench_prediction_import.py [--predictions 100000]
                                                        [--database-url URL]

Builds a fresh database (SQLite under a temporary directory unless
--database-url names an empty PostgreSQL database), two object_detection
projects of N tasks each, an AAP JSON file of N predictions (matched by
display_id) and a COCO file of N annotations (matched by bare file_name
against URL file paths, the slower path). The gRPC server and the gateway run
in child processes, as in a deployment; each file is POSTed to the gateway as
multipart/form-data. Peak RSS is the kernel's high-water mark (VmHWM), reset
before each import.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotation_api.settings import Settings  # noqa: E402
from server.accounts import create_token, create_user  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.ids import new_project_id  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import Label, Project, Task  # noqa: E402
from storage.types import utcnow  # noqa: E402

IMAGE_WIDTH, IMAGE_HEIGHT = 640, 480


async def seed_project(database: Database, owner_id: str, count: int) -> tuple[str, list[int]]:
    project_id = new_project_id()
    now = utcnow()
    async with database.transaction() as conn:
        await conn.execute(
            insert(Project.__table__).values(
                id=project_id,
                name="bench",
                description="",
                task_type="object_detection",
                status="draft",
                external_id=None,
                label_config="<View/>",
                owner_id=owner_id,
                total_tasks=count,
                completed_tasks=0,
                in_progress_tasks=0,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            insert(Label.__table__),
            [
                {"project_id": project_id, "position": i, "name": name, "color": "#112233"}
                for i, name in enumerate(("car", "person"))
            ],
        )
        for start in range(0, count, 10_000):
            await conn.execute(
                insert(Task.__table__),
                [
                    {
                        "project_id": project_id,
                        "position": i,
                        "external_id": f"ext-{i}",
                        "content": f"https://cdn.example.com/dataset/img_{i:07d}.jpg",
                        "file_path": f"https://cdn.example.com/dataset/img_{i:07d}.jpg",
                        "metadata_json": "{}",
                        "status": "pending",
                        "updated_at": now,
                        "completed_at": None,
                    }
                    for i in range(start, min(start + 10_000, count))
                ],
            )
        rows = await conn.execute(
            select(Task.__table__.c.id)
            .where(Task.__table__.c.project_id == project_id)
            .order_by(Task.__table__.c.position)
        )
        return project_id, list(rows.scalars())


def write_aap(path: Path, task_ids: list[int]) -> None:
    tasks = [
        {
            "task_match": {"display_id": f"T-{task_id}"},
            "predictions": [
                {
                    "geometry": {
                        "type": "bbox",
                        "x": (i % 50) / 100,
                        "y": 0.25,
                        "w": 0.2,
                        "h": 0.3,
                    },
                    "class_name": "car" if i % 2 else "person",
                    "confidence": 0.5 + (i % 50) / 100,
                    "model_version": "yolov8-bench",
                }
            ],
        }
        for i, task_id in enumerate(task_ids)
    ]
    path.write_bytes(orjson.dumps({"schema_version": "1.0", "tasks": tasks}))


def write_coco(path: Path, count: int) -> None:
    images = [
        {"id": i, "file_name": f"img_{i:07d}.jpg", "width": IMAGE_WIDTH, "height": IMAGE_HEIGHT}
        for i in range(count)
    ]
    annotations = [
        {
            "id": i,
            "image_id": i,
            "category_id": 1 + i % 2,
            "bbox": [float(i % 300), 40.0, 120.0, 90.5],
            "area": 120.0 * 90.5,
            "iscrowd": 0,
            "score": 0.9,
        }
        for i in range(count)
    ]
    categories = [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}]
    path.write_bytes(
        orjson.dumps({"images": images, "annotations": annotations, "categories": categories})
    )


def read_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in MiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) // 1024
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> None:
    # "5" resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def spawn(role: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, __file__, f"--child={role}"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    port = int(child.stdout.readline().strip())
    return child, port


async def run_child(role: str) -> None:
    """Serve the gRPC server or the gateway until killed; print the bound port first."""
    settings = Settings()
    if role == "grpc":
        from server.app import start_server

        database = Database(settings.resolved_database_url)
        running = await start_server(settings, database)
        print(running.port, flush=True)
        await running.wait_for_termination()
    else:
        from gateway.serve import start_gateway

        gateway = await start_gateway(settings)
        print(gateway.port, flush=True)
        await gateway.wait()


async def main(count: int, database_url: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    url = database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    user = await create_user(database, username="bench", role="admin")
    token = (await create_token(database, username="bench")).secret
    aap_project, aap_tasks = await seed_project(database, user.user_id, count)
    coco_project, _ = await seed_project(database, user.user_id, count)
    await database.dispose()
    aap_file, coco_file = workdir / "predictions.json", workdir / "coco.json"
    write_aap(aap_file, aap_tasks)
    write_coco(coco_file, count)

    env = {
        **os.environ,
        "ANNOTATION_API_DATABASE_URL": url,
        "ANNOTATION_API_DATA_DIR": str(workdir),
        "ANNOTATION_API_HOST": "127.0.0.1",
        "ANNOTATION_API_GRPC_PORT": "0",
        "ANNOTATION_API_HTTP_PORT": "0",
        "ANNOTATION_API_LOG_LEVEL": "WARNING",
    }
    server, grpc_port = spawn("grpc", env)
    gateway, http_port = spawn(
        "gateway", {**env, "ANNOTATION_API_GRPC_TARGET": f"127.0.0.1:{grpc_port}"}
    )
    try:
        print(f"{count} predictions per file; database {url.split(':', 1)[0]}")
        print(
            f"{'format':<9} {'file MB':>8} {'wall s':>7} {'imported':>9} "
            f"{'server CPU s':>13} {'gateway CPU s':>14} "
            f"{'server peak RSS MiB':>20} {'gateway peak RSS MiB':>21}"
        )
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}", timeout=600
        ) as client:
            for file_format, path, project_id in (
                ("aap_json", aap_file, aap_project),
                ("coco", coco_file, coco_project),
            ):
                for pid in (server.pid, gateway.pid):
                    reset_peak(pid)
                cpu_before = (cpu_seconds(server.pid), cpu_seconds(gateway.pid))
                started = time.perf_counter()
                with path.open("rb") as file:
                    response = await client.post(
                        f"/api/v1/projects/{project_id}/predictions/import",
                        params={"format": file_format},
                        files={"file": (path.name, file, "application/json")},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                elapsed = time.perf_counter() - started
                server_cpu = cpu_seconds(server.pid) - cpu_before[0]
                gateway_cpu = cpu_seconds(gateway.pid) - cpu_before[1]
                body: dict[str, Any] = response.json()
                if response.status_code != 200:
                    raise SystemExit(f"{file_format}: HTTP {response.status_code} {body}")
                print(
                    f"{file_format:<9} {path.stat().st_size / 1e6:>8.1f} {elapsed:>7.2f} "
                    f"{body['imported']:>9} {server_cpu:>13.2f} {gateway_cpu:>14.2f} "
                    f"{read_status(server.pid)['VmHWM']:>20} "
                    f"{read_status(gateway.pid)['VmHWM']:>21}"
                )
    finally:
        for child in (gateway, server):
            child.terminate()
            child.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--predictions", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", choices=("grpc", "gateway"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        asyncio.run(run_child(arguments.child))
    else:
        asyncio.run(main(arguments.predictions, arguments.database_url))
