"""WebhookService over gRPC: parse, call the webhook domain, map the result."""

from __future__ import annotations

from datetime import datetime

import orjson
from annotation.v1 import common_pb2, webhook_service_pb2, webhook_service_pb2_grpc
from annotation.v1 import webhook_service_pb2 as W
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from annotation_api.enum_names import name_to_enum
from annotation_api.settings import Settings
from server.auth import current_caller
from server.webhooks.service import WebhookChange, WebhookService
from storage.database import Database
from storage.webhook_outbox import DeliveryRecord
from storage.webhooks import WebhookRecord

CALLBACK_STATUS = common_pb2.CallbackStatus.DESCRIPTOR


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _webhook(record: WebhookRecord) -> webhook_service_pb2.Webhook:
    return W.Webhook(
        webhook_id=record.webhook_id,
        project_id=record.project_id or "",
        url=record.url,
        events=list(record.events),
        headers=orjson.loads(record.headers_json),
        is_active=record.is_active,
        disabled_reason=record.disabled_reason or "",
        consecutive_failures=record.consecutive_failures,
        created_at=_timestamp(record.created_at),
        updated_at=_timestamp(record.updated_at),
    )


def _delivery(record: DeliveryRecord) -> webhook_service_pb2.WebhookDelivery:
    message = W.WebhookDelivery(
        event_id=record.event_id,
        action=record.action,
        project_id=record.project_id,
        sequence=record.sequence,
        status=name_to_enum(CALLBACK_STATUS, record.status),
        attempts=record.attempts,
        last_status_code=record.last_status_code or 0,
        last_error=record.last_error or "",
        created_at=_timestamp(record.created_at),
    )
    if record.last_attempt_at is not None:
        message.last_attempt_at.CopyFrom(_timestamp(record.last_attempt_at))
    if record.delivered_at is not None:
        message.delivered_at.CopyFrom(_timestamp(record.delivered_at))
    return message


class WebhookServicer(webhook_service_pb2_grpc.WebhookServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._webhooks = WebhookService(settings, database)

    async def CreateWebhook(
        self, request: W.CreateWebhookRequest, context: aio.ServicerContext
    ) -> W.CreateWebhookResponse:
        record = await self._webhooks.create_webhook(
            current_caller(),
            project_id=request.project_id,
            url=request.url,
            events=list(request.events),
            headers=dict(request.headers),
            is_active=request.is_active if request.HasField("is_active") else True,
        )
        return W.CreateWebhookResponse(webhook=_webhook(record))

    async def ListWebhooks(
        self, request: W.ListWebhooksRequest, context: aio.ServicerContext
    ) -> W.ListWebhooksResponse:
        records = await self._webhooks.list_webhooks(
            current_caller(), project_id=request.project_id
        )
        return W.ListWebhooksResponse(webhooks=[_webhook(r) for r in records])

    async def GetWebhook(
        self, request: W.GetWebhookRequest, context: aio.ServicerContext
    ) -> W.GetWebhookResponse:
        record = await self._webhooks.get_webhook(current_caller(), request.webhook_id)
        return W.GetWebhookResponse(webhook=_webhook(record))

    async def UpdateWebhook(
        self, request: W.UpdateWebhookRequest, context: aio.ServicerContext
    ) -> W.UpdateWebhookResponse:
        change = WebhookChange(
            url=request.url if request.HasField("url") else None,
            events=list(request.events) if request.update_events else None,
            headers=dict(request.headers) if request.update_headers else None,
            is_active=request.is_active if request.HasField("is_active") else None,
        )
        record = await self._webhooks.update_webhook(current_caller(), request.webhook_id, change)
        return W.UpdateWebhookResponse(webhook=_webhook(record))

    async def DeleteWebhook(
        self, request: W.DeleteWebhookRequest, context: aio.ServicerContext
    ) -> W.DeleteWebhookResponse:
        await self._webhooks.delete_webhook(current_caller(), request.webhook_id)
        return W.DeleteWebhookResponse()

    async def ListWebhookDeliveries(
        self, request: W.ListWebhookDeliveriesRequest, context: aio.ServicerContext
    ) -> W.ListWebhookDeliveriesResponse:
        records = await self._webhooks.list_deliveries(
            current_caller(), request.webhook_id, page_size=request.page_size
        )
        return W.ListWebhookDeliveriesResponse(deliveries=[_delivery(r) for r in records])
