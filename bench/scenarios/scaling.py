"""Scaling with `serve --workers N`: workflow calls per second from 8 clients.

For each worker count (1, 2 and the number of cores; on SQLite 1 and 2, since
its writes are serialized through the database file whatever the count), a
fresh `serve --workers N` and CALL_CLIENTS clients, each on a gRPC channel of
its own (one TCP connection each, which the kernel spreads over the workers
sharing the port), each an annotator working their own queue (NextTask ->
GetTask -> StartTask -> SubmitAnnotation), plan.calls_throughput calls per run,
twice: all clients on one ready project (the calls scenario's setting: every
write takes that project's row lock), and each client on a project of its own
(other annotators' clients, so that a team's queue does not mix them).
"""

from __future__ import annotations

import os

from annotation.v1 import project_service_pb2_grpc, workflow_service_pb2_grpc
from annotation.v1 import workflow_service_pb2 as W
from grpc import aio

from bench.datasets import grpc_init_request, init_rows
from bench.scenarios.calls import CALL_CLIENTS, Metadata, Worker, _throughput
from bench.session import Session
from bench.stats import Figure
from server.accounts import create_token, create_user

CYCLE_CALLS = 4


def worker_counts(database_url: str) -> list[int]:
    """1, 2 and the cores (PostgreSQL); 1 and 2 (SQLite)."""
    if database_url.startswith("sqlite"):
        return [1, 2]
    cores = len(os.sched_getaffinity(0))
    return sorted({1, 2, cores})


async def _annotators(session: Session, layout: str) -> list[tuple[str, Metadata]]:
    suffix = session.admin_id[-6:]
    found: list[tuple[str, Metadata]] = []
    async with session.database() as database:
        for n in range(CALL_CLIENTS):
            username = f"bench-scaling-{layout}-{n}-{suffix}"
            user = await create_user(database, username=username, role="annotator")
            issued = await create_token(database, username=username)
            found.append((user.user_id, (("authorization", f"Bearer {issued.secret}"),)))
    return found


async def _setup(
    session: Session, target: str, annotators: list[str], *, name: str, shared: bool
) -> None:
    """Ready projects with enough tasks for every run, whichever client is fastest: one for
    all the annotators (shared), or one each."""
    each = session.runs * session.plan.calls_throughput // CYCLE_CALLS + CYCLE_CALLS
    admin = (("authorization", f"Bearer {session.token}"),)
    teams = [annotators] if shared else [[annotator] for annotator in annotators]
    async with aio.insecure_channel(target) as channel:
        projects = project_service_pb2_grpc.ProjectServiceStub(channel)
        workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
        for number, team in enumerate(teams):
            request = grpc_init_request(f"{name} {number}", init_rows(each * len(team)))
            reply = await projects.InitProject(request, metadata=admin)
            await workflow.ConfigureProject(
                W.ConfigureProjectRequest(project_id=reply.project_id, ready=True),
                metadata=admin,
            )
            for user_id in team:
                await workflow.AssignTasks(
                    W.AssignTasksRequest(
                        project_id=reply.project_id, annotator_id=user_id, count=each
                    ),
                    metadata=admin,
                )


async def _rate(
    session: Session, target: str, annotators: list[tuple[str, Metadata]], figure: Figure
) -> None:
    channels = [aio.insecure_channel(target) for _ in annotators]
    try:
        clients = [
            Worker(channel, metadata)
            for channel, (_, metadata) in zip(channels, annotators, strict=True)
        ]
        for client in clients:
            await client.cycle()  # warm-up: a connection, and a call on each worker
        for _ in range(session.runs):
            figure.add(await _throughput(clients, session.plan.calls_throughput))
    finally:
        for channel in channels:
            await channel.close()


async def run_scaling(session: Session) -> None:
    results = session.results
    layouts = {"": True, ".projects": False}  # figure suffix -> all clients on one project
    annotators = {suffix: await _annotators(session, suffix or "one") for suffix in layouts}
    cores = len(os.sched_getaffinity(0))
    rates = []
    for workers in worker_counts(session.database_url):
        with session.server(f"scaling-{workers}", workers=workers) as server:
            for suffix, shared in layouts.items():
                team = annotators[suffix]
                await _setup(
                    session,
                    server.grpc_target,
                    [user_id for user_id, _ in team],
                    name=f"bench scaling {workers}{suffix}",
                    shared=shared,
                )
                figure = results.figure(f"scaling.workers.{workers}{suffix}", "calls/s")
                await _rate(session, server.grpc_target, team, figure)
                figure.facts.update(workers=workers, cores=cores, clients=CALL_CLIENTS)
                rates.append(f"{workers} workers{suffix or ''} {figure.median:.0f}")
    session.log(f"scaling, workflow calls/s from {CALL_CLIENTS} clients: " + ", ".join(rates))
