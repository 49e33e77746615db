"""Scaling with `serve --workers N`: workflow calls per second from 8 clients.

For each worker count (1, 2 and the number of cores; on SQLite 1 and 2, since
its writes are serialized through the database file whatever the count), a
fresh `serve --workers N`, a ready project whose tasks are split between
CALL_CLIENTS annotators, and CALL_CLIENTS clients, each on a gRPC channel of
its own (one TCP connection each, which the kernel spreads over the workers
sharing the port), each working its own queue (NextTask -> GetTask ->
StartTask -> SubmitAnnotation), plan.calls_throughput calls per run.
"""

from __future__ import annotations

import os

from annotation.v1 import project_service_pb2_grpc, workflow_service_pb2_grpc
from annotation.v1 import workflow_service_pb2 as W
from grpc import aio

from bench.datasets import grpc_init_request, init_rows
from bench.scenarios.calls import CALL_CLIENTS, Metadata, Worker, _throughput
from bench.session import Session
from server.accounts import create_token, create_user

CYCLE_CALLS = 4


def worker_counts(database_url: str) -> list[int]:
    """1, 2 and the cores (PostgreSQL); 1 and 2 (SQLite)."""
    if database_url.startswith("sqlite"):
        return [1, 2]
    cores = len(os.sched_getaffinity(0))
    return sorted({1, 2, cores})


async def _annotators(session: Session) -> list[tuple[str, Metadata]]:
    suffix = session.admin_id[-6:]
    found: list[tuple[str, Metadata]] = []
    async with session.database() as database:
        for n in range(CALL_CLIENTS):
            username = f"bench-scaling-{n}-{suffix}"
            user = await create_user(database, username=username, role="annotator")
            issued = await create_token(database, username=username)
            found.append((user.user_id, (("authorization", f"Bearer {issued.secret}"),)))
    return found


async def _setup(session: Session, target: str, annotators: list[str], workers: int) -> None:
    """A ready project with enough tasks for every run, whichever client is fastest."""
    each = session.runs * session.plan.calls_throughput // CYCLE_CALLS + CYCLE_CALLS
    admin = (("authorization", f"Bearer {session.token}"),)
    async with aio.insecure_channel(target) as channel:
        projects = project_service_pb2_grpc.ProjectServiceStub(channel)
        workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
        request = grpc_init_request(f"bench scaling {workers}", init_rows(each * len(annotators)))
        reply = await projects.InitProject(request, metadata=admin)
        await workflow.ConfigureProject(
            W.ConfigureProjectRequest(project_id=reply.project_id, ready=True), metadata=admin
        )
        for user_id in annotators:
            await workflow.AssignTasks(
                W.AssignTasksRequest(project_id=reply.project_id, annotator_id=user_id, count=each),
                metadata=admin,
            )


async def run_scaling(session: Session) -> None:
    plan, results = session.plan, session.results
    annotators = await _annotators(session)
    cores = len(os.sched_getaffinity(0))
    rates = []
    for workers in worker_counts(session.database_url):
        with session.server(f"scaling-{workers}", workers=workers) as server:
            await _setup(session, server.grpc_target, [user for user, _ in annotators], workers)
            channels = [aio.insecure_channel(server.grpc_target) for _ in annotators]
            try:
                clients = [
                    Worker(channel, metadata)
                    for channel, (_, metadata) in zip(channels, annotators, strict=True)
                ]
                for client in clients:
                    await client.cycle()  # warm-up: a connection, and a call on each worker
                figure = results.figure(f"scaling.workers.{workers}", "calls/s")
                for _ in range(session.runs):
                    figure.add(await _throughput(clients, plan.calls_throughput))
                figure.facts.update(workers=workers, cores=cores, clients=CALL_CLIENTS)
                rates.append(f"{workers} workers {figure.median:.0f}")
            finally:
                for channel in channels:
                    await channel.close()
    session.log(f"scaling, workflow calls/s from {CALL_CLIENTS} clients: " + ", ".join(rates))
