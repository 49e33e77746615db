"""Fixtures every test can use. A fresh database per test, servers on port 0.

Database
    db_engine          "sqlite" or "postgresql": every test that (indirectly) uses a
                       database runs once per engine selected with --db-engines
                       (tests/postgres.py; PostgreSQL runs skip locally without binaries).
    database_url       URL of a fresh, migrated database: the one place that picks the
                       engine (a copy of a migrated SQLite template file under tmp_path,
                       or a per-test PostgreSQL database copied from a migrated template).
    settings           Settings for this test: data_dir under tmp_path, database_url,
                       grpc_port/http_port 0, host 127.0.0.1; ANNOTATION_API_* variables
                       of the outer environment are ignored, but for TEST_ENGINES and
                       SQLITE_ONE_HOP_CURSOR (the suite's choices).
    database           storage.database.Database on database_url (disposed afterwards).

Users (created through server.accounts, each with one token; see tests.helpers.TestUser)
    super_admin, admin, other_admin, annotator
                       `.user_id`, `.username`, `.role`, `.token`, `.metadata` (gRPC
                       call metadata with the bearer token).

gRPC
    grpc_server        server.app.RunningServer started in-process on port 0 (`.port`).
    channel            grpc.aio channel to it, with the server's message-size limits.
    make_stub          make_stub(SomeServiceStub) -> stub on `channel`.
    project_stub, workflow_stub
                       stubs of the two core services.

REST (the gateway under uvicorn on port 0, calling grpc_server)
    gateway            gateway.serve.RunningGateway (`.url`, `.port`).
    http_client        httpx.AsyncClient with base_url = the gateway's URL.

Helpers (tests/helpers.py): bearer(token) builds call metadata; rpc_error(exc) decodes
a failed call's status code, message, error_code and details; wait_until(check, what=...)
polls a condition (never sleep a fixed time) within WAIT_SECONDS.
tests/serving.py: start_serve(env, log, *args) runs `annotation-api serve` as a real
process on free ports and returns once its ready file names them; stop_serve(served).

Marker `slow` (pyproject): heavy tests, left out by `-m "not slow"`. Tests that use the
`browser` fixture and tests under tests/multiprocess get it here; others carry
`@pytest.mark.slow` (processes, large bodies, the fuzzer, the bench).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
import pytest
from annotation.v1 import project_service_pb2_grpc, workflow_service_pb2_grpc

from annotation_api.log import StderrHandler
from annotation_api.settings import Settings
from gateway.serve import RunningGateway, start_gateway
from server.accounts import create_token, create_user
from server.app import RunningServer, channel_options, start_server
from storage.database import Database
from storage.migrate import upgrade_to_head
from tests.helpers import TestUser

pytest_plugins = ("tests.postgres",)

StubT = TypeVar("StubT")
SUITE_VARIABLES = frozenset({"ANNOTATION_API_TEST_ENGINES", "ANNOTATION_API_SQLITE_ONE_HOP_CURSOR"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` what is heavy by nature: a real browser, several server processes."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) or item.path.parent.name == (
            "multiprocess"
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's ANNOTATION_API_* variables out of every test, but for the
    suite's own choices: the engines, and the SQLite cursor (CI runs tests/storage
    with ANNOTATION_API_SQLITE_ONE_HOP_CURSOR=false too)."""
    for name in list(os.environ):
        if name.startswith("ANNOTATION_API_") and name not in SUITE_VARIABLES:
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """The command line's main() configures the root logger (annotation_api.log): take its
    handler off again, so that later tests log only to pytest, as they do on their own."""
    root = logging.getLogger()
    level = root.level
    yield
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, StderrHandler)]
    root.setLevel(level)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests get copies (much faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    # Alembic's env runs its own event loop: keep it off the thread pytest-asyncio uses.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade_to_head, f"sqlite+aiosqlite:///{path}").result()
    return path


@pytest.fixture
def database_url(db_engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of a fresh, migrated database on the engine under test."""
    if db_engine == "postgresql":
        return str(request.getfixturevalue("postgres_database_url"))
    path = tmp_path / "data" / "annotation.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        grpc_port=0,
        http_port=0,
        host="127.0.0.1",
        public_base_url="http://testserver",
        callback_secret="test-secret",
    )


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.resolved_database_url, one_hop_cursor=settings.sqlite_one_hop_cursor)
    try:
        yield db
    finally:
        await db.dispose()


async def _make_user(database: Database, username: str, role: str) -> TestUser:
    user = await create_user(database, username=username, role=role)
    issued = await create_token(database, username=username)
    return TestUser(user.user_id, user.username, user.role, issued.secret)


@pytest.fixture
async def super_admin(database: Database) -> TestUser:
    return await _make_user(database, "root", "super_admin")


@pytest.fixture
async def admin(database: Database) -> TestUser:
    return await _make_user(database, "alice", "admin")


@pytest.fixture
async def other_admin(database: Database) -> TestUser:
    return await _make_user(database, "bob", "admin")


@pytest.fixture
async def annotator(database: Database) -> TestUser:
    return await _make_user(database, "carol", "annotator")


@pytest.fixture
async def grpc_server(settings: Settings, database: Database) -> AsyncIterator[RunningServer]:
    running = await start_server(settings, database)
    try:
        yield running
    finally:
        await running.stop(0)


@pytest.fixture
async def channel(
    grpc_server: RunningServer, settings: Settings
) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{grpc_server.port}", options=channel_options(settings)
    ) as chan:
        yield chan


@pytest.fixture
def make_stub(channel: grpc.aio.Channel) -> Callable[[Callable[[Any], StubT]], StubT]:
    def build(stub_class: Callable[[Any], StubT]) -> StubT:
        return stub_class(channel)

    return build


@pytest.fixture
def project_stub(channel: grpc.aio.Channel) -> project_service_pb2_grpc.ProjectServiceStub:
    return project_service_pb2_grpc.ProjectServiceStub(channel)


@pytest.fixture
def workflow_stub(channel: grpc.aio.Channel) -> workflow_service_pb2_grpc.WorkflowServiceStub:
    return workflow_service_pb2_grpc.WorkflowServiceStub(channel)


@pytest.fixture
async def gateway(settings: Settings, grpc_server: RunningServer) -> AsyncIterator[RunningGateway]:
    """The REST gateway on a free port, calling the in-process gRPC server."""
    target = {"grpc_target": f"127.0.0.1:{grpc_server.port}"}
    running = await start_gateway(Settings(**{**settings.model_dump(), **target}))
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def http_client(gateway: RunningGateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=120) as client:
        yield client
