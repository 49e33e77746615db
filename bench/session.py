"""One bench run: its settings, database, token, servers, clients and results."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
from annotation.v1 import (
    export_service_pb2_grpc,
    prediction_service_pb2_grpc,
    project_service_pb2_grpc,
    workflow_service_pb2_grpc,
)

from bench.plan import Plan
from bench.process import CommandLine, MemoryUse, ServerProcess, settle_disk
from bench.raw import RawEngine
from bench.stats import Results
from storage.database import Database

T = TypeVar("T")

# Far above any request of the bench (an init of 1M tasks is ~90 MB of JSON).
MAX_MESSAGE_BYTES = 512 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]


@dataclass
class Clients:
    """REST and gRPC clients of one running server, authenticated as the bench admin."""

    rest: httpx.AsyncClient
    channel: grpc.aio.Channel
    metadata: tuple[tuple[str, str], ...]

    @property
    def projects(self) -> project_service_pb2_grpc.ProjectServiceStub:
        return project_service_pb2_grpc.ProjectServiceStub(self.channel)

    @property
    def workflow(self) -> workflow_service_pb2_grpc.WorkflowServiceStub:
        return workflow_service_pb2_grpc.WorkflowServiceStub(self.channel)

    @property
    def exports(self) -> export_service_pb2_grpc.ExportServiceStub:
        return export_service_pb2_grpc.ExportServiceStub(self.channel)

    @property
    def predictions(self) -> prediction_service_pb2_grpc.PredictionServiceStub:
        return prediction_service_pb2_grpc.PredictionServiceStub(self.channel)


class Session:
    def __init__(
        self,
        *,
        plan: Plan,
        runs: int,
        workdir: Path,
        env: dict[str, str],
        database_url: str,
        raw: RawEngine,
        log: Callable[[str], None],
    ) -> None:
        self.plan = plan
        self.runs = runs
        self.workdir = workdir
        self.env = env
        self.database_url = database_url
        self.raw = raw
        self.log = log
        self.results = Results()
        self.cli = CommandLine(env)
        self.server_log = workdir / "server.log"
        self.token = ""
        self.admin_id = ""
        # Where py-spy profiles of each server go (None: no profiling).
        self.profile_dir: Path | None = None
        self._servers = 0
        # Set by the init figures: a project of plan.progress_tasks tasks.
        self.progress_project_id: str | None = None

    @property
    def export_dir(self) -> Path:
        return Path(self.env["ANNOTATION_API_DATA_DIR"]) / "exports"

    def server(self, name: str, *, workers: int = 1) -> ServerProcess:
        """A fresh server process on the bench's database (start it with `with`); with
        workers > 1, `serve --workers N` (its memory and CPU figures are the supervisor's)."""
        self._servers += 1
        profile = None
        if self.profile_dir is not None:
            profile = self.profile_dir / f"{self._servers:02d}-{name}.txt"
        return ServerProcess(
            self.env, self.server_log, ["--workers", str(workers)], profile_path=profile
        )

    @asynccontextmanager
    async def database(self) -> AsyncIterator[Database]:
        """The bench's database, opened in this process (for seeding only)."""
        database = Database(self.database_url)
        try:
            yield database
        finally:
            await database.dispose()

    @asynccontextmanager
    async def clients(
        self, server: ServerProcess, *, connections: int = 100
    ) -> AsyncIterator[Clients]:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with (
            httpx.AsyncClient(
                base_url=server.http_url,
                headers={"authorization": f"Bearer {self.token}"},
                timeout=httpx.Timeout(3600.0),
                limits=limits,
            ) as rest,
            grpc.aio.insecure_channel(server.grpc_target, options=CHANNEL_OPTIONS) as channel,
        ):
            await channel.channel_ready()
            yield Clients(rest, channel, (("authorization", f"Bearer {self.token}"),))

    async def measure(
        self, server: ServerProcess, call: Callable[[], Awaitable[T]]
    ) -> tuple[float, MemoryUse, T]:
        """Wall seconds at the client, the server's memory over the call, its result."""
        assert server.memory is not None
        settle_disk()
        mark = server.memory.begin()
        started = time.perf_counter()
        result = await call()
        elapsed = time.perf_counter() - started
        return elapsed, server.memory.end(mark), result


def check_status(response: httpx.Response, what: str) -> Any:
    """The JSON body of a 200 answer, else SystemExit naming the failed step."""
    if response.status_code != 200:
        raise SystemExit(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return response.json()
