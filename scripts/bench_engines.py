"""Compare SQLite and PostgreSQL on the core paths, through a real `annotation-api serve`.

Usage: python scripts/bench_engines.py [--init-tasks 100000] [--progress-tasks 1000000]
       [--runs 3] [--progress-calls 200] [--engines sqlite,postgresql]
       [--postgres-url postgresql+asyncpg://user@host:port/db]

For each engine a `serve` process (server and gateway) runs on a fresh
database: a temporary SQLite file, or a throwaway PostgreSQL cluster with its
default durability settings (started like the test session's, see
tests/postgres.py) unless --postgres-url names an existing, empty database.
The client runs in this process, so client and server do not share a CPU
core's event loop. Measured:

* InitProject of --init-tasks text tasks, through REST (JSON) and gRPC: wall
  time at the client, median of --runs;
* InitProject of --progress-tasks tasks in one gRPC call, then a few
  assignments/starts/submissions, then GetProgress on it through REST and gRPC:
  median and p95 of --progress-calls calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import orjson
from annotation.v1 import (
    common_pb2,
    project_service_pb2,
    project_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.accounts import create_user  # noqa: E402
from storage.database import Database  # noqa: E402
from tests.multiprocess.fleet import serve_environment, start_serve, stop_serve  # noqa: E402

TOKEN = "bench-engines-token-0123456789abcdef"
MAX_MESSAGE_BYTES = 1024**3
METADATA = (("authorization", f"Bearer {TOKEN}"),)


@dataclass
class Figures:
    """What one engine measured (seconds for inits, milliseconds for progress)."""

    engine: str
    init_rest: list[float] = field(default_factory=list)
    init_grpc: list[float] = field(default_factory=list)
    large_init: float = 0.0
    progress_rest: list[float] = field(default_factory=list)
    progress_grpc: list[float] = field(default_factory=list)


def init_items(count: int) -> list[dict[str, object]]:
    return [
        {"id": f"ext_{i}", "content": f"这是第{i}条评论,内容还不错", "metadata": {"batch": "001"}}
        for i in range(count)
    ]


def grpc_init_request(count: int, name: str) -> project_service_pb2.InitProjectRequest:
    return project_service_pb2.InitProjectRequest(
        name=name,
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=[
            project_service_pb2.TaskInput(
                id=f"ext_{i}", content=f"这是第{i}条评论,内容还不错", metadata='{"batch": "001"}'
            )
            for i in range(count)
        ],
        tags=[common_pb2.TagInput(tag="正面"), common_pb2.TagInput(tag="负面")],
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def measure(engine: str, database_url: str, args: argparse.Namespace) -> Figures:
    figures = Figures(engine)
    with tempfile.TemporaryDirectory(prefix=f"bench-{engine}-") as tmp:
        env = serve_environment(
            {
                "database_url": database_url,
                "data_dir": tmp,
                "bootstrap_token": TOKEN,
                "max_message_bytes": str(MAX_MESSAGE_BYTES),
                # start_serve reads the "serving" line, logged at INFO.
                "log_level": "INFO",
            }
        )
        served = await start_serve(engine, env, Path(tmp) / "serve.log")
        try:
            await run_measurements(figures, database_url, served.base_url, served.grpc_target, args)
        finally:
            await stop_serve(served)
    return figures


async def run_measurements(
    figures: Figures, database_url: str, base_url: str, grpc_target: str, args: argparse.Namespace
) -> None:
    options = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with (
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=3600) as http,
        grpc.aio.insecure_channel(grpc_target, options=options) as channel,
    ):
        projects = project_service_pb2_grpc.ProjectServiceStub(channel)
        workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)

        body = orjson.dumps(
            {
                "name": "bench",
                "task_type": "text_classification",
                "data": init_items(args.init_tasks),
                "tags": [{"tag": "正面"}, {"tag": "负面"}],
            }
        )
        request = grpc_init_request(args.init_tasks, "bench")
        for _ in range(args.runs):
            started = time.perf_counter()
            response = await http.post("/api/external/projects/init", content=body)
            figures.init_rest.append(time.perf_counter() - started)
            response.raise_for_status()
            started = time.perf_counter()
            await projects.InitProject(request, metadata=METADATA, timeout=3600)
            figures.init_grpc.append(time.perf_counter() - started)
        print(
            f"  {figures.engine}: init {args.init_tasks}: REST {fmt_runs(figures.init_rest)}"
            f" | gRPC {fmt_runs(figures.init_grpc)}",
            flush=True,
        )

        large_request = grpc_init_request(args.progress_tasks, "large")
        started = time.perf_counter()
        large = await projects.InitProject(large_request, metadata=METADATA, timeout=3600)
        figures.large_init = time.perf_counter() - started
        del large_request
        project_id = large.project_id
        print(
            f"  {figures.engine}: init {args.progress_tasks}: {figures.large_init:.1f} s",
            flush=True,
        )

        await give_the_project_some_work(database_url, projects, workflow, project_id)
        path = f"/api/external/projects/{project_id}/progress"
        progress_request = project_service_pb2.GetProgressRequest(project_id=project_id)
        for _ in range(args.progress_calls):
            started = time.perf_counter()
            (await http.get(path)).raise_for_status()
            figures.progress_rest.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            progress = await projects.GetProgress(progress_request, metadata=METADATA)
            figures.progress_grpc.append((time.perf_counter() - started) * 1000)
        assert progress.total_tasks == args.progress_tasks
        assert (progress.completed_tasks, progress.in_progress_tasks) == (10, 10)


async def give_the_project_some_work(
    database_url: str,
    projects: project_service_pb2_grpc.ProjectServiceStub,
    workflow: workflow_service_pb2_grpc.WorkflowServiceStub,
    project_id: str,
) -> None:
    """Assign 50 tasks, start 20, complete 10: progress then has annotators to report."""
    database = Database(database_url)
    try:
        annotator = await create_user(database, username="bench-annotator", role="annotator")
    finally:
        await database.dispose()
    await workflow.ConfigureProject(
        workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
        metadata=METADATA,
    )
    page = await projects.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=project_id, page_size=50),
        metadata=METADATA,
    )
    ids = [task.task_id for task in page.tasks]
    await workflow.AssignTasks(
        workflow_service_pb2.AssignTasksRequest(
            project_id=project_id, annotator_id=annotator.user_id, task_ids=ids
        ),
        metadata=METADATA,
    )
    for task_id in ids[:20]:
        await workflow.StartTask(
            workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=METADATA
        )
    result = (
        '[{"type":"choices","from_name":"label","to_name":"text","value":{"choices":["正面"]}}]'
    )
    for task_id in ids[:10]:
        await workflow.SubmitAnnotation(
            workflow_service_pb2.SubmitAnnotationRequest(task_id=task_id, result=result),
            metadata=METADATA,
        )


def fmt_runs(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s ({', '.join(f'{v:.2f}' for v in values)})"


def fmt_latency(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {percentile(values, 0.95):.2f} ms"


@contextlib.contextmanager
def postgres_database(url: str | None) -> Iterator[str]:
    """The given URL, or a fresh database on a throwaway durable cluster."""
    if url:
        yield url
        return
    from tests.postgres import running_cluster

    with running_cluster(durable=True) as cluster:
        yield cluster.url(cluster.create_database())


def report(all_figures: list[Figures], args: argparse.Namespace) -> None:
    rows = [
        (
            f"init {args.init_tasks:,} tasks, REST (median)",
            lambda f: f"{statistics.median(f.init_rest):.2f} s",
        ),
        (
            f"init {args.init_tasks:,} tasks, gRPC (median)",
            lambda f: f"{statistics.median(f.init_grpc):.2f} s",
        ),
        (f"init {args.progress_tasks:,} tasks, gRPC (one call)", lambda f: f"{f.large_init:.1f} s"),
        (
            f"progress on {args.progress_tasks:,}, REST (median / p95)",
            lambda f: fmt_latency(f.progress_rest),
        ),
        (
            f"progress on {args.progress_tasks:,}, gRPC (median / p95)",
            lambda f: fmt_latency(f.progress_grpc),
        ),
    ]
    header = ["", *(f.engine for f in all_figures)]
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for title, cell in rows:
        print("| " + " | ".join([title, *(cell(f) for f in all_figures)]) + " |")


async def main_async(args: argparse.Namespace) -> None:
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results: list[Figures] = []
    for engine in engines:
        print(f"{engine}:", flush=True)
        if engine == "sqlite":
            with tempfile.TemporaryDirectory(prefix="bench-sqlite-db-") as tmp:
                results.append(await measure(engine, f"sqlite+aiosqlite:///{tmp}/bench.db", args))
        elif engine == "postgresql":
            with postgres_database(args.postgres_url) as url:
                results.append(await measure(engine, url, args))
        else:
            raise SystemExit(f"unknown engine {engine!r}")
    report(results, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init-tasks", type=int, default=100_000)
    parser.add_argument("--progress-tasks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--progress-calls", type=int, default=200)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url", help="an existing empty database instead of a throwaway one"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
