"""Build and start the grpc.aio server: services, interceptor, reflection, health, workers.

To add a service, append one `ServiceRegistration` to SERVICES; to add a
background job (e.g. a callback outbox), append one worker to WORKERS. A
worker is `async def worker(settings, database, stop_event)`: it runs for the
life of the server and returns soon after `stop_event` is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from annotation.v1 import (
    access_service_pb2,
    access_service_pb2_grpc,
    annotation_service_pb2,
    annotation_service_pb2_grpc,
    export_service_pb2,
    export_service_pb2_grpc,
    prediction_service_pb2,
    prediction_service_pb2_grpc,
    project_service_pb2,
    project_service_pb2_grpc,
    quality_service_pb2,
    quality_service_pb2_grpc,
    review_service_pb2,
    review_service_pb2_grpc,
    webhook_service_pb2,
    webhook_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)
from google.protobuf.descriptor import ServiceDescriptor
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from annotation_api.settings import Settings
from server.auth import Authenticator
from server.exports.files import run_expiry_sweeper
from server.exports.lease import run_lease_sweeper
from server.idempotency import Idempotency
from server.interceptors import ServerInterceptor
from server.outbox import run_outbox_worker
from server.reflection import enable_reflection
from server.servicers.access import AccessServicer
from server.servicers.annotation import AnnotationServicer
from server.servicers.export import ExportServicer
from server.servicers.prediction import PredictionServicer
from server.servicers.project import ProjectServicer
from server.servicers.quality import QualityServicer
from server.servicers.review import ReviewServicer
from server.servicers.webhook import WebhookServicer
from server.servicers.workflow import WorkflowServicer
from storage.database import Database

log = logging.getLogger(__name__)

ServicerFactory = Callable[[Settings, Database], Any]
Worker = Callable[[Settings, Database, asyncio.Event], Awaitable[None]]


class ServiceRegistration(NamedTuple):
    """One gRPC service: its descriptor (for reflection), the generated adder, a factory."""

    descriptor: ServiceDescriptor
    add_to_server: Callable[[Any, aio.Server], None]
    create_servicer: ServicerFactory


SERVICES: list[ServiceRegistration] = [
    ServiceRegistration(
        project_service_pb2.DESCRIPTOR.services_by_name["ProjectService"],
        project_service_pb2_grpc.add_ProjectServiceServicer_to_server,
        ProjectServicer,
    ),
    ServiceRegistration(
        workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"],
        workflow_service_pb2_grpc.add_WorkflowServiceServicer_to_server,
        WorkflowServicer,
    ),
    ServiceRegistration(
        export_service_pb2.DESCRIPTOR.services_by_name["ExportService"],
        export_service_pb2_grpc.add_ExportServiceServicer_to_server,
        ExportServicer,
    ),
    ServiceRegistration(
        prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server,
        PredictionServicer,
    ),
    ServiceRegistration(
        annotation_service_pb2.DESCRIPTOR.services_by_name["AnnotationService"],
        annotation_service_pb2_grpc.add_AnnotationServiceServicer_to_server,
        AnnotationServicer,
    ),
    ServiceRegistration(
        webhook_service_pb2.DESCRIPTOR.services_by_name["WebhookService"],
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server,
        WebhookServicer,
    ),
    ServiceRegistration(
        access_service_pb2.DESCRIPTOR.services_by_name["AccessService"],
        access_service_pb2_grpc.add_AccessServiceServicer_to_server,
        AccessServicer,
    ),
    ServiceRegistration(
        review_service_pb2.DESCRIPTOR.services_by_name["ReviewService"],
        review_service_pb2_grpc.add_ReviewServiceServicer_to_server,
        ReviewServicer,
    ),
    ServiceRegistration(
        quality_service_pb2.DESCRIPTOR.services_by_name["QualityService"],
        quality_service_pb2_grpc.add_QualityServiceServicer_to_server,
        QualityServicer,
    ),
]


async def run_change_listener(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    """PostgreSQL: hear the changes committed through any server (storage.changes)."""
    await database.changes.listen(stop)


WORKERS: list[Worker] = [
    run_outbox_worker,
    run_expiry_sweeper,
    run_lease_sweeper,
    run_change_listener,
]


def channel_options(settings: Settings) -> list[tuple[str, Any]]:
    """Message-size limits shared by the server and its clients (an init of 200,000 tasks fits)."""
    return [
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
    ]


@dataclass
class RunningServer:
    """A started server: its bound port and how to stop it."""

    server: aio.Server
    port: int
    health: HealthServicer
    stop_event: asyncio.Event
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    servicers: list[Any] = field(default_factory=list)

    async def stop(self, grace: float | None = 5.0) -> None:
        """Stop taking calls, end the open watch streams (they would otherwise hold the
        whole grace period), let running calls finish for up to grace seconds, stop
        workers."""
        await self.health.enter_graceful_shutdown()
        self.stop_event.set()
        stopping = asyncio.ensure_future(self.server.stop(grace))
        await asyncio.sleep(0)  # the server refuses new calls before the streams end
        for servicer in self.servicers:
            if hasattr(servicer, "end_streams"):
                servicer.end_streams()
        await stopping
        if self.workers:
            _, pending = await asyncio.wait(self.workers, timeout=grace or 1.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait_for_termination(self) -> None:
        """Wait until the server has stopped.

        Do not cancel this wait while stop() runs: grpc.aio shares one future
        between the two, and the cancellation would abort the graceful stop.
        """
        await self.server.wait_for_termination()


async def _supervise(
    worker: Worker, settings: Settings, database: Database, stop: asyncio.Event
) -> None:
    """Run a worker; a crash is logged and does not take the server down."""
    name = getattr(worker, "__qualname__", repr(worker))
    try:
        await worker(settings, database, stop)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background worker crashed", extra={"worker": name})


async def start_server(settings: Settings, database: Database) -> RunningServer:
    """Start the gRPC server on settings.host:settings.grpc_port (0 picks a free port)."""
    server = aio.server(
        interceptors=[
            ServerInterceptor(
                Authenticator(database, cache_seconds=settings.auth_cache_seconds),
                # a keyed import's stream: the file plus its first message's fields
                Idempotency(database, max_stream_bytes=settings.max_upload_bytes + 64 * 1024),
            )
        ],
        options=channel_options(settings),
    )
    servicers = [registration.create_servicer(settings, database) for registration in SERVICES]
    for registration, servicer in zip(SERVICES, servicers, strict=True):
        registration.add_to_server(servicer, server)

    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    names = [registration.descriptor.full_name for registration in SERVICES]
    enable_reflection(server, [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name])

    port = server.add_insecure_port(f"{settings.host}:{settings.grpc_port}")
    if port == 0:
        raise RuntimeError(f"cannot bind gRPC port {settings.host}:{settings.grpc_port}")
    await server.start()
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)

    stop_event = asyncio.Event()
    running = RunningServer(
        server=server, port=port, health=health, stop_event=stop_event, servicers=servicers
    )
    for worker in WORKERS:
        running.workers.append(
            asyncio.create_task(_supervise(worker, settings, database, stop_event))
        )
    log.info("gRPC server listening", extra={"host": settings.host, "port": port})
    return running
