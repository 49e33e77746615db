"""Project init of N tasks through REST and gRPC, next to the raw engine's insert.

Per size: the raw engine inserts the same rows `runs` times, then a fresh
server takes `runs` REST and `runs` gRPC inits, alternating, after one small
untimed init per transport (connections and first-call set-up are not part
of the figure). The REST body is JSON serialized before the clock starts; the
gRPC message is built before and serialized by the stub during the call. The
same tasks also go through InitProjectStream, in messages of
STREAM_BATCH_ITEMS tasks (the way a client sends a project too large for one
message).

Memory: each figure keeps the server's RSS growth over each init (server and
gateway are one process), and `init.idle_rss.N` the server's idle RSS after
each round of the three inits, so that memory an init does not give back shows
as a climb from the first round to the last.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from functools import partial

from annotation.v1 import project_service_pb2

from bench.datasets import grpc_init_request, init_rows, rest_init_body
from bench.session import Clients, Session, check_status

INIT_PATH = "/api/external/projects/init"
JSON = {"content-type": "application/json"}
STREAM_BATCH_ITEMS = 10_000
# How long the server is left idle before its RSS is read.
IDLE_SECONDS = 1.0
MB = 1_000_000


def stream_messages(
    message: project_service_pb2.InitProjectRequest,
) -> list[project_service_pb2.InitProjectStreamRequest]:
    """The request as InitProjectStream messages: the fields, then the tasks in batches."""
    stream_request = project_service_pb2.InitProjectStreamRequest
    head = stream_request.FromString(message.SerializeToString())
    del head.data[:]
    head.data.extend(message.data[:STREAM_BATCH_ITEMS])
    rest = [
        stream_request(data=message.data[start : start + STREAM_BATCH_ITEMS])
        for start in range(STREAM_BATCH_ITEMS, len(message.data), STREAM_BATCH_ITEMS)
    ]
    return [head, *rest]


async def replay(
    messages: list[project_service_pb2.InitProjectStreamRequest],
) -> AsyncIterator[project_service_pb2.InitProjectStreamRequest]:
    for message in messages:
        yield message


async def warm_up(clients: Clients) -> None:
    rows = init_rows(10)
    check_status(
        await clients.rest.post(INIT_PATH, content=rest_init_body("warm", rows), headers=JSON),
        "warm-up init",
    )
    await clients.projects.InitProject(grpc_init_request("warm", rows), metadata=clients.metadata)


async def run_init(session: Session) -> None:
    for size in session.plan.init_sizes:
        await init_size(session, size)
        gc.collect()  # the requests of this size are garbage now


async def init_size(session: Session, size: int) -> None:
    rows = init_rows(size)
    raw = session.results.figure(f"raw.insert.{size}")
    for _ in range(session.runs):
        raw.add(session.raw.insert_tasks(rows))
    session.log(f"raw insert {size}: {raw.median:.3f} s")

    body = rest_init_body(f"bench init {size} rest", rows)
    message = grpc_init_request(f"bench init {size} grpc", rows)
    stream = stream_messages(message)
    rest = session.results.figure(f"init.rest.{size}")
    grpc_figure = session.results.figure(f"init.grpc.{size}")
    stream_figure = session.results.figure(f"init.grpc_stream.{size}")
    idle = session.results.figure(f"init.idle_rss.{size}", unit="MB")
    rest.facts["body_bytes"] = len(body)
    grpc_figure.facts["message_bytes"] = message.ByteSize()
    stream_figure.facts["messages"] = len(stream)
    with session.server(f"init-{size}") as server:
        async with session.clients(server) as clients:
            await warm_up(clients)
            post = partial(clients.rest.post, INIT_PATH, content=body, headers=JSON)
            call = partial(clients.projects.InitProject, message, metadata=clients.metadata)
            for _ in range(session.runs):
                seconds, memory, response = await session.measure(server, post)
                created = check_status(response, f"REST init of {size}")
                if created["task_count"] != size:
                    raise SystemExit(f"REST init created {created['task_count']} of {size}")
                rest.add(seconds, memory)

                seconds, memory, reply = await session.measure(server, call)
                if reply.task_count != size:
                    raise SystemExit(f"gRPC init created {reply.task_count} of {size}")
                grpc_figure.add(seconds, memory)
                if size == session.plan.progress_tasks:
                    session.progress_project_id = reply.project_id

                call_stream = partial(
                    clients.projects.InitProjectStream, replay(stream), metadata=clients.metadata
                )
                seconds, memory, reply = await session.measure(server, call_stream)
                if reply.task_count != size:
                    raise SystemExit(f"gRPC stream init created {reply.task_count} of {size}")
                stream_figure.add(seconds, memory)

                await asyncio.sleep(IDLE_SECONDS)
                assert server.memory is not None
                idle.add(server.memory.rss() / MB)
    session.log(
        f"init {size}: REST {rest.median:.3f} s, gRPC {grpc_figure.median:.3f} s, "
        f"gRPC stream {stream_figure.median:.3f} s, idle RSS after each round "
        + ", ".join(f"{value:.0f}" for value in idle.values)
        + " MB"
    )
