"""Fixtures of the prediction import tests: a stub and a one-call import over gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from annotation.v1 import prediction_service_pb2, prediction_service_pb2_grpc

from tests.helpers import TestUser
from tests.predictions.support import FORMATS, ImportCall, Request


@pytest.fixture
def prediction_stub(channel: grpc.aio.Channel) -> prediction_service_pb2_grpc.PredictionServiceStub:
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture
def import_file(
    prediction_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> ImportCall:
    """import_file(user, project_id, payload, format=..., dry_run=..., ...) over gRPC,
    the payload split into chunk_size pieces after a first message without a chunk."""

    async def call(
        user: TestUser,
        project_id: str,
        payload: bytes,
        *,
        format: str = "aap_json",
        dry_run: bool = False,
        model_version: str | None = None,
        overwrite_existing: bool = False,
        chunk_size: int = 64 * 1024,
    ) -> prediction_service_pb2.ImportPredictionsResponse:
        async def requests() -> AsyncIterator[Request]:
            first = Request(
                project_id=project_id,
                format=FORMATS[format],
                dry_run=dry_run,
                overwrite_existing=overwrite_existing,
            )
            if model_version is not None:
                first.model_version = model_version
            yield first
            for start in range(0, len(payload), chunk_size):
                yield Request(chunk=payload[start : start + chunk_size])

        return await prediction_stub.ImportPredictions(requests(), metadata=user.metadata)

    return call
