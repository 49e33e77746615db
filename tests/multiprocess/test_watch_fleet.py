"""Two `annotation-api serve` processes on one PostgreSQL database: a change made
through one reaches the progress watchers of the other (LISTEN/NOTIFY), over gRPC
and over Server-Sent Events, and an assignment reaches the annotator's queue stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from annotation.v1 import project_service_pb2 as P
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub

from server.accounts import create_token, create_user
from storage.database import Database
from tests.gateway.test_event_stream import EventReader, new_project, submit
from tests.helpers import TestUser, bearer
from tests.multiprocess.fleet import ServeProcess, serve_environment, serving_fleet
from tests.postgres import selected_engines
from tests.workflow.support import Rest

pytestmark = pytest.mark.timeout(300)

TOKEN = "watch-fleet-bootstrap-token-0123456789abcdef"
DEADLINE = 90.0


@pytest.fixture
def fleet_database_url(request: pytest.FixtureRequest) -> str:
    if "postgresql" not in selected_engines(request.config):
        pytest.skip("several processes on one database is a PostgreSQL deployment")
    return str(request.getfixturevalue("empty_postgres_database_url"))


@pytest.fixture
async def fleet(fleet_database_url: str, tmp_path: Path) -> AsyncIterator[list[ServeProcess]]:
    environments = {
        name: serve_environment(
            {
                "database_url": fleet_database_url,
                "data_dir": str(tmp_path / name),
                "export_dir": str(tmp_path / "exports"),
                "bootstrap_token": TOKEN,
                "public_base_url": "http://fleet.example",
                "callback_secret": "fleet-callback-secret",
            }
        )
        for name in ("one", "two")
    }
    async with serving_fleet(environments, tmp_path) as served:
        yield [served["one"], served["two"]]


async def make_annotator(database_url: str) -> TestUser:
    database = Database(database_url)
    try:
        user = await create_user(database, username="ann_ü", role="annotator")
        issued = await create_token(database, username=user.username)
    finally:
        await database.dispose()
    return TestUser(user.user_id, user.username, user.role, issued.secret)


async def test_a_change_through_one_server_reaches_watchers_on_the_other(
    fleet: list[ServeProcess], fleet_database_url: str
) -> None:
    one, two = fleet
    root = TestUser("", "root", "super_admin", TOKEN)
    annotator = await make_annotator(fleet_database_url)
    async with (
        httpx.AsyncClient(base_url=one.base_url, timeout=DEADLINE) as http_one,
        httpx.AsyncClient(base_url=two.base_url, timeout=DEADLINE) as http_two,
        grpc.aio.insecure_channel(two.grpc_target) as channel_two,
    ):
        queue_watch: Any = WorkflowServiceStub(channel_two).WatchAssignedTasks(
            W.WatchAssignedTasksRequest(), metadata=bearer(annotator.token)
        )
        assert (await asyncio.wait_for(queue_watch.read(), DEADLINE)).counts.pending == 0
        project_id, task_ids = await new_project(Rest(http_one, root), annotator, 3)
        # The assignment through server one reaches the annotator's queue stream on two.
        while (await asyncio.wait_for(queue_watch.read(), DEADLINE)).counts.pending != 3:
            pass
        queue_watch.cancel()
        grpc_watch: Any = ProjectServiceStub(channel_two).WatchProgress(
            P.WatchProgressRequest(project_id=project_id), metadata=bearer(TOKEN)
        )
        first = await asyncio.wait_for(grpc_watch.read(), DEADLINE)
        assert first.progress.completed_tasks == 0
        async with http_two.stream(
            "GET",
            f"/api/external/projects/{project_id}/progress/stream",
            headers=Rest(http_two, root).headers,
        ) as response:
            assert response.status_code == 200
            events = EventReader(response)
            opened = await events.next()
            assert opened is not None and opened.data["progress"]["completed_tasks"] == 0

            worker = Rest(http_one, annotator)
            for task_id in task_ids[:2]:
                await submit(worker, task_id)  # through server one only
            wanted = await Rest(http_one, root).call(
                "GET", f"/api/external/projects/{project_id}/progress"
            )
            assert wanted["completed_tasks"] == 2
            seen = await events.until(wanted)
            assert seen[-1].data["progress"]["completed_tasks"] == 2

        while True:
            message = await asyncio.wait_for(grpc_watch.read(), DEADLINE)
            assert message is not grpc.aio.EOF
            if message.progress.completed_tasks == 2:
                break
        grpc_watch.cancel()
