"""Live progress: many watchers of one project while 8 clients submit.

Per transport (gRPC WatchProgress on 10 channels; Server-Sent Events, one raw
HTTP/1.1 connection per watcher, read by a minimal parser so the client's own
cost stays small), on a fresh server:

1. plan.watchers watchers open and each gets its first state; the server's RSS
   before and after, divided by their number, is the RSS per watcher; its CPU
   over an idle IDLE_SECONDS window (heartbeats, token checks) per watcher;
2. 8 clients, each working its own annotator's tasks over gRPC, start and
   submit plan.watch_submits tasks each. For the k-th submit to return (at t_k,
   at least k tasks are completed), each watcher's latency is the time from t_k
   to the first state it received with at least k completed tasks (0 when that
   state came first): p50 and p99 over every (watcher, submit) pair;
3. the server's CPU over the submitting phase per message delivered, and to open
   a watch (the first state included) per watcher.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import orjson
from annotation.v1 import common_pb2, project_service_pb2, workflow_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub

from bench.datasets import INIT_LABELS
from bench.process import ServerProcess
from bench.seed import create_annotator
from bench.session import Clients, Session
from bench.stats import percentile

CLIENTS = 8
GRPC_CHANNELS = 10
IDLE_SECONDS = 3.0
DEADLINE_SECONDS = 300.0
RESULT = orjson.dumps(
    [
        {
            "type": "choices",
            "from_name": "label",
            "to_name": "text",
            "value": {"choices": [INIT_LABELS[0]]},
        }
    ]
).decode()


class Watcher:
    """When each count of completed tasks was first seen (monotonic seconds)."""

    def __init__(self) -> None:
        self.first_seen: dict[int, float] = {}
        self.opened = asyncio.Event()
        self.messages = 0

    def saw(self, completed: int) -> None:
        self.messages += 1
        self.first_seen.setdefault(completed, time.perf_counter())
        self.opened.set()

    def latency(self, completed: int, returned_at: float) -> float | None:
        seen = [at for count, at in self.first_seen.items() if count >= completed]
        return max(0.0, min(seen) - returned_at) if seen else None


async def grpc_watch(
    channel: grpc.aio.Channel,
    metadata: tuple[tuple[str, str], ...],
    project_id: str,
    watcher: Watcher,
) -> None:
    call = ProjectServiceStub(channel).WatchProgress(
        project_service_pb2.WatchProgressRequest(project_id=project_id), metadata=metadata
    )
    async for message in call:
        watcher.saw(message.progress.completed_tasks)


async def sse_watch(server: ServerProcess, token: str, project_id: str, watcher: Watcher) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.http_port)
    try:
        writer.write(
            (
                f"GET /api/external/projects/{project_id}/progress/stream HTTP/1.1\r\n"
                f"host: 127.0.0.1\r\nauthorization: Bearer {token}\r\n"
                "accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"SSE watch refused: {head[:200]!r}")
        # chunked transfer: only the `data:` lines matter, wherever the chunks split
        async for line in reader:
            if line.startswith(b"data: "):
                watcher.saw(orjson.loads(line[6:])["progress"]["completed_tasks"])
    finally:
        writer.close()


async def prepare(session: Session, clients: Clients) -> tuple[str, list[list[str]]]:
    """A ready project whose tasks are split between CLIENTS annotators."""
    plan, md = session.plan, clients.metadata
    tasks = CLIENTS * plan.watch_submits
    created = await clients.projects.InitProject(
        project_service_pb2.InitProjectRequest(
            name="bench watch",
            task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
            data=[project_service_pb2.TaskInput(content=f"t{n}") for n in range(tasks)],
            tags=[common_pb2.TagInput(tag=label) for label in INIT_LABELS],
        ),
        metadata=md,
    )
    project_id = created.project_id
    await clients.workflow.ConfigureProject(
        workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
        metadata=md,
    )
    page = await clients.projects.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=project_id, page_size=tasks), metadata=md
    )
    ids = [task.task_id for task in page.tasks]
    async with session.database() as database:
        annotators = [
            await create_annotator(database, f"bench-watch-{n}-{project_id[-6:]}")
            for n in range(CLIENTS)
        ]
    slices = []
    for n, annotator in enumerate(annotators):
        mine = ids[n * plan.watch_submits : (n + 1) * plan.watch_submits]
        await clients.workflow.AssignTasks(
            workflow_service_pb2.AssignTasksRequest(
                project_id=project_id, annotator_id=annotator, task_ids=mine
            ),
            metadata=md,
        )
        slices.append(mine)
    return project_id, slices


async def submit_all(clients: Clients, slices: list[list[str]]) -> list[float]:
    """Each client starts and submits its tasks in turn; when each submit returned."""
    returned: list[float] = []
    wf, md = clients.workflow, clients.metadata

    async def client(task_ids: list[str]) -> None:
        for task_id in task_ids:
            await wf.StartTask(workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=md)
            await wf.SubmitAnnotation(
                workflow_service_pb2.SubmitAnnotationRequest(task_id=task_id, result=RESULT),
                metadata=md,
            )
            returned.append(time.perf_counter())

    await asyncio.gather(*(client(ids) for ids in slices))
    return sorted(returned)


async def run_transport(session: Session, transport: str) -> None:
    plan, results = session.plan, session.results
    server = session.server(f"watch-{transport}")
    # Every watcher is a connection from this one address: the caps must let them in.
    cap = str(plan.watchers + 200)
    server.env.update(
        {
            "ANNOTATION_API_HTTP_MAX_CONCURRENCY": cap,
            "ANNOTATION_API_HTTP_MAX_CONCURRENCY_PER_CLIENT": cap,
        }
    )
    with server:
        assert server.memory is not None
        async with session.clients(server, connections=CLIENTS) as clients:
            project_id, slices = await prepare(session, clients)
            watchers = [Watcher() for _ in range(plan.watchers)]
            channels = [grpc.aio.insecure_channel(server.grpc_target) for _ in range(GRPC_CHANNELS)]
            rss_before, cpu_before = server.memory.rss(), server.memory.cpu()
            tasks: list[asyncio.Task[None]] = []
            for n, watcher in enumerate(watchers):
                if transport == "grpc":
                    channel = channels[n % GRPC_CHANNELS]
                    watch = grpc_watch(channel, clients.metadata, project_id, watcher)
                else:
                    watch = sse_watch(server, session.token, project_id, watcher)
                tasks.append(asyncio.create_task(watch))
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(w.opened.wait() for w in watchers)), DEADLINE_SECONDS
                )
                rss_open = server.memory.rss()
                cpu_open = server.memory.cpu()
                await asyncio.sleep(IDLE_SECONDS)  # idle: heartbeats and token checks only
                idle_cpu = server.memory.cpu() - cpu_open
                mark = server.memory.begin()
                returned = await submit_all(clients, slices)
                final = len(returned)
                await asyncio.wait_for(wait_all_seen(watchers, final), DEADLINE_SECONDS)
                memory = server.memory.end(mark)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                for channel in channels:
                    await channel.close()
    delays = [
        latency
        for watcher in watchers
        for k, at in enumerate(returned, start=1)
        if (latency := watcher.latency(k, at)) is not None
    ]
    delays.sort()
    messages = sum(w.messages for w in watchers)
    prefix = f"watch.{transport}"
    results.figure(f"{prefix}.p50", "ms").add(percentile(delays, 0.50) * 1000, memory)
    results.figure(f"{prefix}.p99", "ms").add(percentile(delays, 0.99) * 1000, memory)
    results.figure(f"{prefix}.rss_per_watcher", "KiB").add(
        (rss_open - rss_before) / 1024 / plan.watchers
    )
    results.figure(f"{prefix}.idle_cpu_per_watcher", "ms/s").add(
        idle_cpu * 1000 / IDLE_SECONDS / plan.watchers
    )
    results.figure(f"{prefix}.cpu_per_message", "ms").add(
        memory.cpu_seconds * 1000 / max(1, messages)
    )
    figure = results.figure(f"{prefix}.p50", "ms")
    figure.facts.update({"watchers": plan.watchers, "submits": final, "messages": messages})
    results.figure(f"{prefix}.open_cpu_per_watcher", "ms").add(
        (cpu_open - cpu_before) * 1000 / plan.watchers
    )


async def wait_all_seen(watchers: list[Watcher], completed: int) -> None:
    while not all(completed in w.first_seen for w in watchers):
        await asyncio.sleep(0.05)


async def run_watch(session: Session) -> None:
    for _ in range(session.runs):
        for transport in ("grpc", "sse"):
            session.log(f"watch: {session.plan.watchers} {transport} watchers")
            await run_transport(session, transport)
