"""Measure the core paths on this machine: a gRPC init, and progress on a large project.

Usage: python scripts/bench_core.py [--init-tasks 100000] [--progress-tasks 1000000]
       [--database-url URL]

Starts an in-process gRPC server on a fresh database (a temporary SQLite file
unless --database-url is given), then:
* InitProject with --init-tasks text tasks over gRPC (wall time at the client, 3 runs);
* creates a project of --progress-tasks tasks through the same bulk path
  (domain call, no gRPC message limits involved), assigns and completes a
  few tasks, and times GetProgress over gRPC (median and p95 of 200 calls).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import grpc
from annotation.v1 import (
    common_pb2,
    project_service_pb2,
    project_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)

from annotation_api.settings import Settings
from server.accounts import create_token, create_user
from server.app import channel_options, start_server
from server.auth import Caller
from server.projects.service import init_project
from server.projects.validation import NewProject, TagSpec
from storage.database import Database
from storage.migrate import upgrade_to_head_async


def init_request(count: int) -> project_service_pb2.InitProjectRequest:
    return project_service_pb2.InitProjectRequest(
        name="bench",
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=[
            project_service_pb2.TaskInput(
                id=f"ext_{i}", content=f"这是第{i}条评论,内容还不错", metadata='{"batch": "001"}'
            )
            for i in range(count)
        ],
        tags=[common_pb2.TagInput(tag="正面"), common_pb2.TagInput(tag="负面")],
    )


async def bench(init_tasks: int, progress_tasks: int, database_url: str | None) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-core-"))
    settings = Settings(data_dir=data_dir, database_url=database_url, grpc_port=0, host="127.0.0.1")
    await upgrade_to_head_async(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    admin = await create_user(database, username="bench-admin", role="admin")
    worker = await create_user(database, username="bench-annotator", role="annotator")
    token = (await create_token(database, username="bench-admin")).secret
    metadata = (("authorization", f"Bearer {token}"),)
    server = await start_server(settings, database)
    target = f"127.0.0.1:{server.port}"
    try:
        async with grpc.aio.insecure_channel(target, options=channel_options(settings)) as channel:
            projects = project_service_pb2_grpc.ProjectServiceStub(channel)
            workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)

            request = init_request(init_tasks)
            print(f"init request: {init_tasks} tasks, {request.ByteSize() / 1e6:.1f} MB")
            for run in range(3):
                started = time.perf_counter()
                await projects.InitProject(request, metadata=metadata)
                print(f"  gRPC init run {run + 1}: {time.perf_counter() - started:.3f} s")

            caller = Caller(admin.user_id, admin.username, admin.role)
            started = time.perf_counter()
            created = await init_project(
                database,
                caller,
                NewProject(
                    name="large",
                    description="",
                    task_type="text_classification",
                    external_id=None,
                    tags=[TagSpec("正面", None)],
                    contents=[f"text {i}" for i in range(progress_tasks)],
                    item_ids=[None] * progress_tasks,
                    metadata=[""] * progress_tasks,
                ),
            )
            project_id = created.project.project_id
            print(f"created {progress_tasks} tasks in {time.perf_counter() - started:.1f} s")
            await workflow.ConfigureProject(
                workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
                metadata=metadata,
            )
            page = await projects.ListTasks(
                project_service_pb2.ListTasksRequest(project_id=project_id, page_size=50),
                metadata=metadata,
            )
            ids = [task.task_id for task in page.tasks]
            await workflow.AssignTasks(
                workflow_service_pb2.AssignTasksRequest(
                    project_id=project_id, annotator_id=worker.user_id, task_ids=ids
                ),
                metadata=metadata,
            )
            for task_id in ids[:20]:
                await workflow.StartTask(
                    workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=metadata
                )
            for task_id in ids[:10]:
                await workflow.SubmitAnnotation(
                    workflow_service_pb2.SubmitAnnotationRequest(task_id=task_id, result="[]"),
                    metadata=metadata,
                )

            progress_request = project_service_pb2.GetProgressRequest(project_id=project_id)
            timings = []
            for _ in range(200):
                started = time.perf_counter()
                progress = await projects.GetProgress(progress_request, metadata=metadata)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            print(
                f"GetProgress on {progress.total_tasks} tasks "
                f"(completed {progress.completed_tasks}, in progress {progress.in_progress_tasks}):"
                f" median {statistics.median(timings):.2f} ms,"
                f" p95 {timings[int(len(timings) * 0.95)]:.2f} ms"
            )
    finally:
        await server.stop(0)
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init-tasks", type=int, default=100_000)
    parser.add_argument("--progress-tasks", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(bench(args.init_tasks, args.progress_tasks, args.database_url))


if __name__ == "__main__":
    main()
