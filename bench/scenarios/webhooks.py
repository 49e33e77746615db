"""What webhooks cost the submit path: the server's CPU per SubmitAnnotation with no
webhook registered and with three webhooks of the project registered.

One server process whose outbox is not polled while the figures are taken (its
deliveries would otherwise run in the same process and be counted): the figure is
the cost of writing the events in the submit's transaction, not of sending them.
Per run, plan.calls_per_kind tasks are started (untimed) and submitted without
webhooks, then three webhooks are registered, as many more tasks are submitted, and
the webhooks are deleted again, so the two figures alternate through the runs; the target
is judged on the median of the runs' paired differences.
"""

from __future__ import annotations

from annotation.v1 import (
    common_pb2,
    project_service_pb2_grpc,
    webhook_service_pb2_grpc,
    workflow_service_pb2_grpc,
)
from annotation.v1 import webhook_service_pb2 as WH
from annotation.v1 import workflow_service_pb2 as W
from grpc import aio

from bench.datasets import grpc_init_request, init_rows
from bench.process import ServerProcess
from bench.scenarios.calls import Metadata, Worker
from bench.session import Session
from server.accounts import create_token, create_user

WEBHOOKS = 3
HOOK_URL = "https://hooks.example.com/bench/{n}"


async def run_webhooks(session: Session) -> None:
    plan, results = session.plan, session.results
    n = plan.calls_per_kind
    user_id, metadata = await _annotator(session)
    env = {**session.env, "ANNOTATION_API_CALLBACK_POLL_SECONDS": "86400"}
    with ServerProcess(env, session.server_log) as server:
        async with aio.insecure_channel(server.grpc_target) as channel:
            await channel.channel_ready()
            project_id = await _setup(session, channel, user_id)
            admin = (("authorization", f"Bearer {session.token}"),)
            hooks = webhook_service_pb2_grpc.WebhookServiceStub(channel)
            worker = Worker(channel, metadata)
            await worker.cycle()  # warm-up
            for _ in range(session.runs):
                for label in ("none", "three"):
                    registered = []
                    if label == "three":
                        for k in range(WEBHOOKS):
                            reply = await hooks.CreateWebhook(
                                WH.CreateWebhookRequest(
                                    project_id=project_id, url=HOOK_URL.format(n=k)
                                ),
                                metadata=admin,
                            )
                            registered.append(reply.webhook.webhook_id)
                    batch = await _started(worker, n)

                    async def submits(batch: list[str] = batch) -> None:
                        for task_id in batch:
                            await worker.submit(task_id)

                    _, memory, _ = await session.measure(server, submits)
                    results.figure(f"webhooks.submit.{label}.cpu", "ms").add(
                        memory.cpu_seconds * 1000 / max(len(batch), 1), memory
                    )
                    for webhook_id in registered:
                        await hooks.DeleteWebhook(
                            WH.DeleteWebhookRequest(webhook_id=webhook_id), metadata=admin
                        )
                # each run's pair, taken back to back, so that a change of the machine's
                # load between runs does not pass for a cost of the webhooks
                cost = results.figure("webhooks.submit.three.cpu").values[-1]
                base = results.figure("webhooks.submit.none.cpu").values[-1]
                results.figure("webhooks.submit.extra", "ms").add(cost - base)
    none = results.figure("webhooks.submit.none.cpu").median
    three = results.figure("webhooks.submit.three.cpu").median
    extra = results.figure("webhooks.submit.extra").median
    session.log(
        f"webhooks, SubmitAnnotation server CPU ms: none {none:.3f}, "
        f"{WEBHOOKS} webhooks {three:.3f}; paired difference {extra:+.3f} (median)"
    )


async def _annotator(session: Session) -> tuple[str, Metadata]:
    username = f"bench-webhooks-{session.admin_id[-6:]}"
    async with session.database() as database:
        user = await create_user(database, username=username, role="annotator")
        issued = await create_token(database, username=username)
    return user.user_id, (("authorization", f"Bearer {issued.secret}"),)


async def _setup(session: Session, channel: aio.Channel, annotator_id: str) -> str:
    """A ready project of enough tasks for every run, all assigned to the annotator."""
    admin = (("authorization", f"Bearer {session.token}"),)
    projects = project_service_pb2_grpc.ProjectServiceStub(channel)
    workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
    tasks = 2 * session.runs * session.plan.calls_per_kind + 10
    reply = await projects.InitProject(
        grpc_init_request("bench webhooks", init_rows(tasks)), metadata=admin
    )
    await workflow.ConfigureProject(
        W.ConfigureProjectRequest(project_id=reply.project_id, ready=True), metadata=admin
    )
    await workflow.AssignTasks(
        W.AssignTasksRequest(project_id=reply.project_id, annotator_id=annotator_id, count=tasks),
        metadata=admin,
    )
    return str(reply.project_id)


async def _started(worker: Worker, count: int) -> list[str]:
    """Start the next `count` pending tasks of the worker's queue (untimed)."""
    page = await worker.workflow.ListAssignedTasks(
        W.ListAssignedTasksRequest(status=common_pb2.TASK_STATUS_PENDING, page_size=count),
        metadata=worker.metadata,
    )
    batch = [str(task.task_id) for task in page.tasks]
    for task_id in batch:
        await worker.start(task_id)
    return batch
