"""`annotation-api serve --workers 2`: two serving processes on one pair of ports.

One command, one database (SQLite or PostgreSQL), one gRPC port and one
REST port. Calls through those ports must reach both workers (each worker's
log lines carry its pid), exports started through one worker download
through the same ports and their callbacks arrive once although every worker
drains the outbox, a worker that dies is replaced, and SIGTERM to the
supervisor stops every worker and exits 0 with nothing left running.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import orjson
import psutil
import pytest
from annotation.v1 import project_service_pb2 as P
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub

from annotation_api.ready import read_ready_file
from tests.exports.receiver import Receiver, receiving
from tests.helpers import bearer, wait_until
from tests.serving import ServedProcess, serve_environment, start_serve, stop_serve

pytestmark = pytest.mark.timeout(300)

TOKEN = "workers-bootstrap-token-0123456789abcdef"
CALLBACK_SECRET = "workers-callback-secret"
WORKERS = 2
# Calls made, each on a new connection, before both workers must have answered one.
MAX_CALLS = 200
EXPORTS = 6
# A project whose export takes a while to write (and well under the 10 s grace to finish).
IN_FLIGHT_TASKS = 20_000
# Colliding and non-ASCII file names, as real data sets have them.
IMAGES = ["x.png", "x.jpg", "X.png", "x.jpeg", "chat_été.png", "猫.jpg", "a%20b.png", "x.PNG"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as receiving_callbacks:
        yield receiving_callbacks


@pytest.fixture
async def served(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> AsyncIterator[ServedProcess]:
    env = serve_environment(
        {
            "database_url": database_url,
            "data_dir": str(tmp_path / "data"),
            "bootstrap_token": TOKEN,
            "public_base_url": "http://workers.example",
            "callback_secret": CALLBACK_SECRET,
            "callback_allow_private": "true",
            "callback_poll_seconds": "0.1",
            "log_level": "INFO",
        }
    )
    process = await asyncio.to_thread(
        start_serve, env, tmp_path / "serve.log", "--workers", str(WORKERS)
    )
    try:
        yield process
    finally:
        await asyncio.to_thread(stop_serve, process)


def log_pids(served: ServedProcess, logger: str) -> set[int]:
    """The pids on the log lines of `logger` (one line per call answered)."""
    pids = set()
    for line in served.log_text().splitlines():
        if line.startswith("{"):
            entry = orjson.loads(line)
            if entry.get("logger") == logger:
                pids.add(entry["pid"])
    return pids


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def http_client(served: ServedProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=served.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )


async def init_project(served: ServedProcess, name: str) -> str:
    async with http_client(served) as http:
        created = await http.post(
            "/api/external/projects/init",
            json={
                "name": name,
                "task_type": "object_detection",
                "tags": [{"tag": "cat"}, {"tag": "dog"}],
                "data": [
                    {"id": f"{name}-{k}", "content": f"https://img.example/{k}/{image}"}
                    for k, image in enumerate(IMAGES)
                ],
            },
        )
    assert created.status_code == 200, created.text
    return str(created.json()["project_id"])


async def get_over_new_connections(served: ServedProcess, project_id: str) -> None:
    """One REST call and one gRPC call, each on a connection of its own."""
    async with http_client(served) as http:
        shown = await http.get(f"/api/external/projects/{project_id}/progress")
    assert shown.status_code == 200, shown.text
    async with grpc.aio.insecure_channel(served.grpc_target) as channel:
        answer = await ProjectServiceStub(channel).GetProgress(
            P.GetProgressRequest(project_id=project_id), metadata=bearer(TOKEN)
        )
    assert answer.project_id == project_id and answer.total_tasks == len(IMAGES)


async def test_two_workers_share_the_ports_and_both_answer(served: ServedProcess) -> None:
    workers = set(served.worker_pids)
    assert len(workers) == WORKERS and served.process.pid not in workers
    assert all(alive(pid) for pid in workers)
    project_id = await init_project(served, "shared ports")

    for _ in range(MAX_CALLS):
        await get_over_new_connections(served, project_id)
        if log_pids(served, "gateway.access") == log_pids(served, "server.rpc") == workers:
            break
    assert log_pids(served, "gateway.access") == workers, "REST calls did not reach both"
    assert log_pids(served, "server.rpc") == workers, "gRPC calls did not reach both"


async def test_exports_download_through_the_ports_and_call_back_once(
    served: ServedProcess, receiver: Receiver
) -> None:
    project_id = await init_project(served, "exports")
    async with http_client(served) as http:
        started = []
        for index in range(EXPORTS):
            created = await http.post(
                f"/api/external/projects/{project_id}/export",
                json={
                    "format": ("coco", "json", "yolo")[index % 3],
                    "completed_only": False,
                    "callback_url": receiver.url,
                },
            )
            assert created.status_code == 200, created.text
            started.append(created.json()["export_id"])

        async def all_delivered() -> bool:
            states = [(await http.get(f"/api/external/exports/{e}")).json() for e in started]
            return all(s["callback_status"] == "delivered" for s in states)

        await wait_until(all_delivered, what="every export's callback delivered")
        for export_id in started:
            shown = (await http.get(f"/api/external/exports/{export_id}")).json()
            assert shown["status"] == "completed", shown
            download = await http.get(f"/api/exports/{export_id}/download")
            assert download.status_code == 200, download.text
            assert len(download.content) == shown["file_size"] > 0

    # Every worker polls the outbox; each callback is still sent exactly once.
    sent = Counter(orjson.loads(request.body)["export_id"] for request in receiver.requests)
    assert sent == Counter(started)


async def test_a_worker_that_dies_is_replaced(served: ServedProcess, tmp_path: Path) -> None:
    killed, kept = served.worker_pids
    os.kill(killed, signal.SIGKILL)
    ready = (tmp_path / "serve.log").with_suffix(".ready.json")

    def replaced() -> tuple[int, ...] | None:
        ports = read_ready_file(ready)
        if ports is None or killed in ports.worker_pids or len(ports.worker_pids) < WORKERS:
            return None
        assert (ports.grpc_port, ports.http_port) == (served.grpc_port, served.http_port)
        return ports.worker_pids

    pids = await wait_until(replaced, what="a new worker in the ready file", timeout=120)
    assert kept in pids and all(alive(pid) for pid in pids)
    assert f'"a serving worker exited with code -{int(signal.SIGKILL)}' in served.log_text()
    project_id = await init_project(served, "after a replacement")
    await get_over_new_connections(served, project_id)


async def test_sigterm_stops_every_worker_and_exits_zero(served: ServedProcess) -> None:
    children = psutil.Process(served.process.pid).children(recursive=True)
    assert {child.pid for child in children} >= set(served.worker_pids)

    assert await asyncio.to_thread(stop_serve, served) == 0
    assert not any(alive(pid) for pid in served.worker_pids)
    # multiprocessing's resource tracker ends once it reads its supervisor's pipe closed.
    await wait_until(
        lambda: not any(alive(child.pid) for child in children), what="no process left"
    )
    log = served.log_text()
    for pid in served.worker_pids:
        assert f'"msg":"stopped","pid":{pid}' in log, f"worker {pid} did not stop gracefully"


async def test_workers_stop_when_their_supervisor_is_killed(served: ServedProcess) -> None:
    os.kill(served.process.pid, signal.SIGKILL)
    served.process.wait()
    await wait_until(
        lambda: not any(alive(pid) for pid in served.worker_pids),
        what="the orphaned workers gone",
        timeout=60,
    )
    log = served.log_text()
    for pid in served.worker_pids:
        assert f'"msg":"stopped","pid":{pid}' in log, f"worker {pid} did not stop gracefully"


async def test_sigterm_lets_a_running_export_finish(served: ServedProcess, tmp_path: Path) -> None:
    export_dir = tmp_path / "data" / "exports"
    async with http_client(served) as http:
        created = await http.post(
            "/api/external/projects/init",
            json={
                "name": "in flight",
                "task_type": "text_classification",
                "tags": [{"tag": "a"}],
                "data": [{"id": f"t{k}", "content": "文本 " * 300} for k in range(IN_FLIGHT_TASKS)],
            },
        )
        assert created.status_code == 200, created.text
        exporting = asyncio.create_task(
            http.post(
                f"/api/external/projects/{created.json()['project_id']}/export",
                json={"format": "json", "completed_only": False},
            )
        )
        await wait_until(
            lambda: exporting.done() or any(export_dir.glob("*.part")),
            what="the export being written",
        )
        served.process.send_signal(signal.SIGTERM)
        finished = await exporting
        assert finished.status_code == 200, finished.text
        export = finished.json()
        assert export["total_exported"] == IN_FLIGHT_TASKS
    assert await asyncio.to_thread(served.process.wait, 60) == 0
    assert not any(alive(pid) for pid in served.worker_pids)
    [written] = [p for p in export_dir.iterdir() if p.name.startswith(export["export_id"])]
    assert written.stat().st_size == export["file_size"] > 0
