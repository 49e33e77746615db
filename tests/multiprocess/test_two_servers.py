"""Two `annotation-api serve` processes on one PostgreSQL database, driven at once.

Both processes start together on an empty database (each migrates it and
bootstraps the same super_admin token), then every kind of write goes through
both of them concurrently: project inits, assignments, task starts and
submissions, prediction imports and exports with callbacks. Afterwards every
counter must be exact, display ids unique, each export file downloadable
from either process (shared export directory), and each callback delivered
exactly once although both processes drain the same outbox.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
import orjson
import pytest
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from sqlalchemy import func, select

from server.accounts import create_user
from storage.database import Database
from storage.models import CallbackDelivery, Prediction, User
from tests.exports.receiver import Receiver, receiving
from tests.helpers import bearer
from tests.multiprocess.fleet import ServeProcess, serve_environment, serving_fleet, stop_serve
from tests.postgres import selected_engines

pytestmark = pytest.mark.timeout(300)

T = TypeVar("T")

TOKEN = "fleet-bootstrap-token-0123456789abcdef"
CALLBACK_SECRET = "fleet-callback-secret"
PROJECTS = 6
TASKS_PER_PROJECT = 90
ANNOTATORS = ("ann_a", "ann_b", "ann_c")
IN_FLIGHT = 24  # concurrent calls at any moment, spread over both processes
WAIT_SECONDS = 90.0

RECTANGLE = orjson.dumps(
    [
        {
            "type": "rectanglelabels",
            "from_name": "label",
            "to_name": "image",
            "original_width": 640,
            "original_height": 480,
            "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rectanglelabels": ["cat"]},
        }
    ]
).decode()


@pytest.fixture
def fleet_database_url(request: pytest.FixtureRequest) -> str:
    """An empty PostgreSQL database: the processes migrate it themselves at start."""
    if "postgresql" not in selected_engines(request.config):
        pytest.skip("several processes on one database is a PostgreSQL deployment")
    return str(request.getfixturevalue("empty_postgres_database_url"))


@dataclass
class Node:
    """One serve process with a REST client and a gRPC channel to it."""

    process: ServeProcess
    http: httpx.AsyncClient
    channel: grpc.aio.Channel
    workflow: WorkflowServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.workflow = WorkflowServiceStub(self.channel)


@dataclass
class FleetProject:
    project_id: str
    task_ids: list[str]
    # annotator username -> the task ids assigned to them
    assignments: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture
async def callbacks() -> AsyncIterator[Receiver]:
    async with receiving() as receiver:
        yield receiver


@pytest.fixture
async def nodes(
    fleet_database_url: str, tmp_path: Path, callbacks: Receiver
) -> AsyncIterator[list[Node]]:
    shared_exports = tmp_path / "exports"  # the shared volume of a real deployment
    environments = {
        name: serve_environment(
            {
                "database_url": fleet_database_url,
                "data_dir": str(tmp_path / name),
                "export_dir": str(shared_exports),
                "bootstrap_token": TOKEN,
                "public_base_url": "http://fleet.example",
                "callback_secret": CALLBACK_SECRET,
                "callback_allow_private": "true",
                "callback_poll_seconds": "0.1",
                "log_level": "INFO",
            }
        )
        for name in ("one", "two")
    }
    async with serving_fleet(environments, tmp_path) as fleet:
        built: list[Node] = []
        try:
            for served in fleet.values():
                http = httpx.AsyncClient(
                    base_url=served.base_url,
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=60,
                )
                channel = grpc.aio.insecure_channel(served.grpc_target)
                built.append(Node(served, http, channel))
            yield built
        finally:
            for node in built:
                await node.http.aclose()
                await node.channel.close()


async def bounded(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the calls concurrently, at most IN_FLIGHT at a time, results in order."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return await asyncio.gather(*(run(call) for call in calls))


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.text)
    return response.json()


async def init_project(node: Node, index: int) -> FleetProject:
    body = {
        "name": f"fleet {index}",
        "task_type": "object_detection",
        "tags": [{"tag": "cat"}, {"tag": "dog"}],
        "data": [
            {"id": f"p{index}-{k}", "content": f"https://img.example/p{index}/{k}.jpg"}
            for k in range(TASKS_PER_PROJECT)
        ],
    }
    created = ok(await node.http.post("/api/external/projects/init", json=body))
    assert created["task_count"] == TASKS_PER_PROJECT
    return FleetProject(created["project_id"], [])


async def list_task_ids(node: Node, project: FleetProject) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    token = ""
    while True:
        page = ok(
            await node.http.get(
                f"/api/external/projects/{project.project_id}/tasks",
                params={"page_size": 50, "page_token": token},
            )
        )
        tasks += page["tasks"]
        token = page["next_page_token"]
        if not token:
            return tasks


def expected_state(position: int) -> str:
    """What the test does to the task at this position: a third each."""
    return ("completed", "in_progress", "pending")[position % 3]


async def work_on_task(start_on: Node, submit_on: Node, task_id: str, position: int) -> None:
    state = expected_state(position)
    if state == "pending":
        return
    metadata = bearer(TOKEN)
    await start_on.workflow.StartTask(W.StartTaskRequest(task_id=task_id), metadata=metadata)
    if state == "completed":
        await submit_on.workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=RECTANGLE), metadata=metadata
        )


async def import_predictions(node: Node, project: FleetProject, task_ids: list[str]) -> Any:
    payload = orjson.dumps(
        {
            "schema_version": "1.0",
            "tasks": [
                {
                    "task_match": {"display_id": f"T-{task_id}"},
                    "predictions": [
                        {
                            "geometry": {"type": "bbox", "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2},
                            "class_name": "dog",
                            "confidence": 0.9,
                        }
                    ],
                }
                for task_id in task_ids
            ],
        }
    )
    return ok(
        await node.http.post(
            f"/api/v1/projects/{project.project_id}/predictions/import",
            data={"model_version": f"fleet-{node.process.name}"},
            files={"file": ("predictions.json", payload, "application/json")},
        )
    )


async def export_project(
    node: Node, project: FleetProject, format_name: str, callback_url: str
) -> dict[str, Any]:
    return ok(  # type: ignore[no-any-return]
        await node.http.post(
            f"/api/external/projects/{project.project_id}/export",
            json={"format": format_name, "callback_url": callback_url},
        )
    )


async def wait_for_callbacks(node: Node, export_ids: list[str]) -> None:
    """Until every export's callback is recorded as delivered (or the time runs out)."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    pending = list(export_ids)
    while pending and asyncio.get_running_loop().time() < deadline:
        states = [ok(await node.http.get(f"/api/external/exports/{e}")) for e in pending]
        pending = [s["export_id"] for s in states if s["callback_status"] != "delivered"]
        if pending:
            await asyncio.sleep(0.2)
    assert pending == [], f"callbacks not delivered in {WAIT_SECONDS}s: {pending}"


async def count_rows(database_url: str) -> dict[str, int]:
    database = Database(database_url)
    try:
        async with database.read() as conn:
            return {
                "super_admins": (
                    await conn.execute(
                        select(func.count())
                        .select_from(User.__table__)
                        .where(User.__table__.c.role == "super_admin")
                    )
                ).scalar_one(),
                "predictions": (
                    await conn.execute(select(func.count()).select_from(Prediction.__table__))
                ).scalar_one(),
                "deliveries": (
                    await conn.execute(select(func.count()).select_from(CallbackDelivery.__table__))
                ).scalar_one(),
            }
    finally:
        await database.dispose()


async def create_annotators(database_url: str) -> dict[str, str]:
    database = Database(database_url)
    try:
        users = [await create_user(database, username=n, role="annotator") for n in ANNOTATORS]
    finally:
        await database.dispose()
    return {user.username: user.user_id for user in users}


async def test_two_servers_share_one_database(
    nodes: list[Node], fleet_database_url: str, callbacks: Receiver
) -> None:
    one, two = nodes

    def node_for(i: int) -> Node:
        return nodes[i % 2]

    annotator_ids = await create_annotators(fleet_database_url)

    # Inits through both gateways at once; display ids must stay globally unique.
    projects = await bounded([lambda i=i: init_project(node_for(i), i) for i in range(PROJECTS)])
    listings = await bounded(
        [lambda i=i, p=p: list_task_ids(node_for(i + 1), p) for i, p in enumerate(projects)]
    )
    all_ids: list[str] = []
    for project, tasks in zip(projects, listings, strict=True):
        assert [t["external_id"] for t in tasks] == [
            f"p{projects.index(project)}-{k}" for k in range(TASKS_PER_PROJECT)
        ]
        assert all(t["display_id"] == f"T-{t['task_id']}" for t in tasks)
        project.task_ids = [t["task_id"] for t in tasks]
        all_ids += project.task_ids
    assert len(set(all_ids)) == PROJECTS * TASKS_PER_PROJECT

    metadata = bearer(TOKEN)
    await bounded(
        [
            lambda i=i, p=p: node_for(i).workflow.ConfigureProject(
                W.ConfigureProjectRequest(project_id=p.project_id, ready=True), metadata=metadata
            )
            for i, p in enumerate(projects)
        ]
    )

    # Each annotator gets a third of every project, in two halves sent to different servers.
    assign_calls: list[Callable[[], Awaitable[Any]]] = []
    for project in projects:
        for a, username in enumerate(ANNOTATORS):
            share = project.task_ids[a :: len(ANNOTATORS)]
            project.assignments[username] = share
            for half, node in ((share[::2], one), (share[1::2], two)):
                request = W.AssignTasksRequest(
                    project_id=project.project_id,
                    annotator_id=annotator_ids[username],
                    task_ids=half,
                )
                assign_calls.append(
                    lambda n=node, r=request: n.workflow.AssignTasks(r, metadata=metadata)
                )
    assigned = await bounded(assign_calls)
    assert sum(a.assigned_count for a in assigned) == PROJECTS * TASKS_PER_PROJECT

    # Starts and submissions (a task's start on one server, its submission on the other)
    # run together with prediction imports split over both gateways.
    work: list[Callable[[], Awaitable[Any]]] = [
        lambda t=task_id, k=k: work_on_task(node_for(k), node_for(k + 1), t, k)
        for project in projects
        for k, task_id in enumerate(project.task_ids)
    ]
    imports: list[Callable[[], Awaitable[Any]]] = [
        lambda n=node, p=project, ids=ids: import_predictions(n, p, ids)
        for project in projects
        for node, ids in ((one, project.task_ids[::2]), (two, project.task_ids[1::2]))
    ]
    outcomes = await bounded(work + imports)
    imported = outcomes[len(work) :]
    assert [(r["imported"], r["skipped"], r["errors"]) for r in imported] == [
        (len(ids), 0, []) for p in projects for ids in (p.task_ids[::2], p.task_ids[1::2])
    ]

    # Progress, read through each gateway, is exact.
    completed = sum(expected_state(k) == "completed" for k in range(TASKS_PER_PROJECT))
    in_progress = sum(expected_state(k) == "in_progress" for k in range(TASKS_PER_PROJECT))
    for project in projects:
        for node in nodes:
            progress = ok(
                await node.http.get(f"/api/external/projects/{project.project_id}/progress")
            )
            assert (
                progress["total_tasks"],
                progress["completed_tasks"],
                progress["in_progress_tasks"],
                progress["pending_tasks"],
            ) == (
                TASKS_PER_PROJECT,
                completed,
                in_progress,
                TASKS_PER_PROJECT - completed - in_progress,
            )
            position = {task_id: k for k, task_id in enumerate(project.task_ids)}
            expected_annotators = []
            for username in ANNOTATORS:
                states = Counter(expected_state(position[t]) for t in project.assignments[username])
                expected_annotators.append(
                    (
                        username,
                        len(project.assignments[username]),
                        states["completed"],
                        states["in_progress"],
                    )
                )
            assert [
                (a["username"], a["assigned_count"], a["completed_count"], a["in_progress_count"])
                for a in progress["annotators"]
            ] == expected_annotators

    # Two exports per project, one through each server, all with callbacks.
    exports = await bounded(
        [
            lambda n=node, p=project, f=format_name: export_project(n, p, f, callbacks.url)
            for project in projects
            for node, format_name in ((one, "json"), (two, "csv"))
        ]
    )
    assert [e["total_exported"] for e in exports] == [completed] * (2 * PROJECTS)
    export_ids = [e["export_id"] for e in exports]
    assert len(set(export_ids)) == len(export_ids)

    # The export directory is shared: each file downloads from the server that did not write it.
    for index, export in enumerate(exports):
        download = await nodes[(index + 1) % 2].http.get(
            f"/api/exports/{export['export_id']}/download"
        )
        assert download.status_code == 200, download.text
        assert len(download.content) == export["file_size"]

    await wait_for_callbacks(one, export_ids)
    rows = await count_rows(fleet_database_url)

    # Stop both gracefully (in-flight deliveries finish) before counting what arrived.
    for node in nodes:
        await node.http.aclose()
    codes = [await stop_serve(node.process) for node in nodes]
    assert codes == [0, 0], [node.process.log_text()[-3000:] for node in nodes]

    delivered = Counter(orjson.loads(r.body)["export_id"] for r in callbacks.requests)
    assert delivered == Counter(export_ids), "each callback exactly once"
    for received in callbacks.requests:
        expected = hmac.new(CALLBACK_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
        assert received.headers["x-signature-256"] == f"sha256={expected}"
        body = orjson.loads(received.body)
        assert body["status"] == "completed"
        assert body["file_url"] == f"http://fleet.example/api/exports/{body['export_id']}/download"

    assert rows == {
        "super_admins": 1,
        "predictions": PROJECTS * TASKS_PER_PROJECT,
        "deliveries": len(export_ids),
    }
